"""TFLite's requantization arithmetic one element at a time, on plain Python integers.

Written line by line from TFLite's C++ (``MultiplyByQuantizedMultiplier`` in both builds,
gemmlowp's ``SaturatingRoundingDoublingHighMul`` and ``RoundingDivideByPOT``), with C's
truncating division and 32-bit wraps spelled out.  It cross-checks the vectorised
:mod:`golden.requant` in the tests and is the plain-Python baseline of ``make bench``.
"""

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def _wrap32(x: int) -> int:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _c_div(a: int, b: int) -> int:
    """C's integer division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def srdhm(a: int, b: int) -> int:
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _c_div(ab + nudge, 1 << 31)


def rdbp(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def mbqm(x: int, multiplier: int, shift: int, rounding: str) -> int:
    if rounding == "double":
        left = shift if shift > 0 else 0
        right = 0 if shift > 0 else -shift
        return rdbp(srdhm(_wrap32(x * (1 << left)), multiplier), right)
    total = 31 - shift
    return _wrap32((x * multiplier + (1 << (total - 1))) >> total)


def requantize_scalar(x: int, multiplier: int, shift: int, zero_point: int, qmin: int,
                      qmax: int, rounding: str) -> int:
    return min(max(mbqm(x, multiplier, shift, rounding) + zero_point, qmin), qmax)


def requantize_loop(acc, multiplier, shift, zero_point, qmin, qmax, rounding):
    """The same as :func:`golden.requant.requantize` over equal-length sequences, in a loop."""
    return [requantize_scalar(int(a), int(m), int(s), zero_point, qmin, qmax, rounding)
            for a, m, s in zip(acc, multiplier, shift)]
