"""Fixed-point requantization, ``M = M0 * 2^shift`` (SPEC 2), bit-exact with TensorFlow Lite.

A real multiplier ``M`` (for a layer, ``input_scale * weight_scale / output_scale``) is
represented as a Q31 integer ``M0`` in ``[2^30, 2^31 - 1]`` (or 0) and a power-of-two
``shift`` in ``[-31, 30]`` (positive = left shift): ``M ~= M0 * 2^(shift - 31)``.

Requantizing an int32 accumulator ``x`` is ``y = clamp(MBQM(x, M0, shift) + zero_point,
qmin, qmax)`` where ``MBQM`` (TFLite's ``MultiplyByQuantizedMultiplier``) rounds in one of
two ways:

``RoundingMode.DOUBLE`` (gemmlowp; TFLite's classic reference kernels)::

    xl   = wrap32(x * 2^max(shift, 0))                    # int32 left shift, wraps
    high = SaturatingRoundingDoublingHighMul(xl, M0)      # round(xl * M0 / 2^31), ties to +inf
    MBQM = RoundingDivideByPOT(high, max(-shift, 0))      # round(high / 2^r), ties away from 0

``RoundingMode.SINGLE`` (TFLite built with ``TFLITE_SINGLE_ROUNDING``; ruy)::

    MBQM = wrap32((x * M0 + 2^(30 - shift)) >> (31 - shift))   # ties toward +infinity

Overflow behaviour, both stated because both are what a 32-bit datapath (and TFLite's
compiled C++) does: the left shift of the double mode wraps to 32 bits, and the single mode's
result is truncated to 32 bits.  Neither happens for multipliers below 1 (every real layer);
both only for ``shift > 0`` with large ``|x|``.  The zero-point addition and the clamp are
exact (no 32-bit wrap), unlike TFLite's int32 ``acc += output_offset``, which would be
undefined behaviour in C++ exactly where the two could differ.
"""

from __future__ import annotations

import numpy as np

from quantrtl.spec import (MULTIPLIER_MAX, MULTIPLIER_MIN, SHIFT_MAX, SHIFT_MIN, RoundingMode,
                           check_array_range, check_choice, check_integer_array)
from ._ints import INT32_MAX, INT32_MIN, round_half_away, wrap

__all__ = [
    "RoundingMode",
    "quantize_multiplier",
    "saturating_rounding_doubling_high_mul",
    "rounding_divide_by_pot",
    "multiply_by_quantized_multiplier",
    "requantize",
    "MULTIPLIER_MIN",
    "MULTIPLIER_MAX",
    "SHIFT_MIN",
    "SHIFT_MAX",
]



def _rounding(rounding) -> RoundingMode:
    check_choice("rounding", str(rounding), [m.value for m in RoundingMode])
    return RoundingMode(str(rounding))


def quantize_multiplier(real_multiplier, rounding: RoundingMode | str = RoundingMode.SINGLE):
    """``(M0, shift)`` with ``real ~= M0 * 2^(shift - 31)``: TFLite's ``QuantizeMultiplier``.

    ``q, shift = frexp(real)`` (``q`` in [0.5, 1)); ``M0 = round_half_away(q * 2^31)``.
    Edge cases, exactly as TFLite:

    - ``real == 0`` gives ``(0, 0)``;
    - ``q`` rounding up to ``2^31`` gives ``(2^30, shift + 1)``;
    - ``shift < -31`` (``real`` below about ``2^-32``) flushes to ``(0, 0)``;
    - ``shift > 30`` (``real >= 2^30``): the single-rounding build saturates to
      ``(2^31 - 1, 30)``; the double-rounding build would return a shift the requantizer
      cannot apply, so it is rejected here with a ``ValueError``.

    Negative, NaN and infinite multipliers are rejected (``M0`` is non-negative by SPEC 2).
    Scalars give a pair of ``int``; arrays a pair of int64 arrays of the same shape.
    """
    mode = _rounding(rounding)
    real = np.asarray(real_multiplier)
    if real.dtype.kind not in "iuf":
        raise ValueError(f"real_multiplier must be a real number, got "
                         f"{'complex values' if real.dtype.kind == 'c' else real.dtype}: "
                         f"allowed [0, inf)")
    real = real.astype(np.float64)
    bad = ~np.isfinite(real) | (real < 0)
    if np.any(bad):
        value = real[tuple(np.argwhere(bad)[0])] if real.ndim else real
        raise ValueError(f"real_multiplier={float(value)!r} is out of range: allowed [0, inf)")
    q, shift = np.frexp(real)
    shift = shift.astype(np.int64)
    q_fixed = round_half_away(q * float(1 << 31)).astype(np.int64)
    carry = q_fixed == (1 << 31)
    q_fixed = np.where(carry, q_fixed // 2, q_fixed)
    shift = np.where(carry, shift + 1, shift)
    tiny = (shift < SHIFT_MIN) | (real == 0)
    q_fixed = np.where(tiny, 0, q_fixed)
    shift = np.where(tiny, 0, shift)
    huge = shift > SHIFT_MAX
    if np.any(huge):
        if mode is RoundingMode.SINGLE:
            q_fixed = np.where(huge, MULTIPLIER_MAX, q_fixed)
            shift = np.where(huge, SHIFT_MAX, shift)
        else:
            value = real[tuple(np.argwhere(huge)[0])] if real.ndim else real
            raise ValueError(
                f"real_multiplier={float(value)!r} is out of range for rounding='double': "
                f"allowed [0, 2**30) (the shift would exceed {SHIFT_MAX})")
    if real.ndim == 0:
        return int(q_fixed), int(shift)
    return q_fixed.astype(np.int64), shift.astype(np.int64)


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp's ``SaturatingRoundingDoublingHighMul``: ``round(a * b / 2^31)`` on int32 ``a``
    and ``b``, ties toward +infinity (the nudge is ``2^30`` for a non-negative product and
    ``1 - 2^30`` for a negative one, then C's division truncates toward zero); the single
    overflow case ``a == b == INT32_MIN`` saturates to ``INT32_MAX``."""
    a = check_array_range("a", a, INT32_MIN, INT32_MAX)
    b = check_array_range("b", b, INT32_MIN, INT32_MAX)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b  # |ab| <= 2^62: exact in int64
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    high = np.where(s >= 0, s >> 31, -((-s) >> 31))  # C's '/' truncates toward zero
    return np.where(overflow, INT32_MAX, high)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp's ``RoundingDivideByPOT``: ``round(x / 2^exponent)``, ties away from zero."""
    x = check_array_range("x", x, INT32_MIN, INT32_MAX)
    exponent = check_array_range("exponent", exponent, 0, 31)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift,
                                     rounding: RoundingMode | str = RoundingMode.SINGLE):
    """TFLite's ``MultiplyByQuantizedMultiplier(x, M0, shift)`` in either rounding mode
    (formulas in the module docstring).  Returns int64 values in the int32 range."""
    mode = _rounding(rounding)
    x = check_array_range("acc", x, INT32_MIN, INT32_MAX)
    multiplier = check_integer_array("multiplier", multiplier)
    bad = (multiplier != 0) & ((multiplier < MULTIPLIER_MIN) | (multiplier > MULTIPLIER_MAX))
    if np.any(bad):
        value = multiplier[tuple(np.argwhere(bad)[0])] if multiplier.ndim else multiplier
        raise ValueError(f"multiplier={int(value)} is out of range: "
                         f"allowed 0 or [{MULTIPLIER_MIN}, {MULTIPLIER_MAX}]")
    shift = check_array_range("shift", shift, SHIFT_MIN, SHIFT_MAX)
    x, multiplier, shift = np.broadcast_arrays(x, multiplier, shift)
    if mode is RoundingMode.DOUBLE:
        left = np.maximum(shift, 0)
        right = np.maximum(-shift, 0)
        high = saturating_rounding_doubling_high_mul(wrap(x << left, 32), multiplier)
        return rounding_divide_by_pot(high, right)
    total = 31 - shift  # in [1, 62]
    result = (x * multiplier + (np.int64(1) << (total - 1))) >> total
    return wrap(result, 32)


def requantize(acc, multiplier, shift, zero_point=0, qmin=-128, qmax=127,
               rounding: RoundingMode | str = RoundingMode.SINGLE) -> np.ndarray:
    """``clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + zero_point, qmin, qmax)``.

    All arguments broadcast (per-channel ``multiplier``/``shift`` along the channel axis).
    ``acc`` is int32; ``multiplier`` 0 or in ``[2^30, 2^31 - 1]``; ``shift`` in
    ``[-31, 30]``; ``zero_point``, ``qmin`` and ``qmax`` int32 with ``qmin <= qmax``.
    The zero-point addition and the clamp are exact.  Returns int64.
    """
    zero_point = check_array_range("zero_point", zero_point, INT32_MIN, INT32_MAX)
    qmin = check_array_range("qmin", qmin, INT32_MIN, INT32_MAX)
    qmax = check_array_range("qmax", qmax, INT32_MIN, INT32_MAX)
    inverted = qmin > qmax
    if np.any(inverted):
        qmin_b, qmax_b = np.broadcast_arrays(qmin, qmax)
        idx = tuple(np.argwhere(np.broadcast_to(inverted, qmin_b.shape))[0])
        raise ValueError(f"qmin={int(qmin_b[idx])} is out of range: allowed "
                         f"[{INT32_MIN}, qmax={int(qmax_b[idx])}]")
    scaled = multiply_by_quantized_multiplier(acc, multiplier, shift, rounding)
    return np.clip(scaled + zero_point, qmin, qmax)
