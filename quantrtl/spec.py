"""The ground floor: parameter specs, the checks and their one error wording, the shared
enums and ranges.  It imports nothing else of quantrtl; golden, hw and everything above
them import from it.

Every check raises :class:`ValueError` whose message names the parameter, the
offending value and the allowed range, e.g.
``lanes=0 is out of range: allowed [1, 64]``.  Nothing is ever clipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "Param",
    "check_int",
    "check_bool",
    "check_choice",
    "check_array_range",
    "check_integer_array",
    "check_operands",
    "check_fields",
    "check_real",
    "check_real_array",
    "check_probability",
    "check_writable_file",
    "check_writable_dir",
    "RoundingMode", "ROUNDING_MODES", "OVERFLOW_MODES",
    "MULTIPLIER_MIN", "MULTIPLIER_MAX", "SHIFT_MIN", "SHIFT_MAX",
    "DNATEQ_N_MIN", "DNATEQ_N_MAX", "DNATEQ_ROUNDINGS", "COUNTER_CODES",
    "HuffmanKind", "HuffmanError", "HUFFMAN_DECODE_ERRORS", "HUFFMAN_MAX_CODE_LENGTH",
    "HUFFMAN_MAX_SYMBOL_BITS", "DQA_N_BITS", "DQA_M_BITS", "DQA_JOIN_N_BITS", "DQA_JOIN_M_BITS",
]


def _range_text(lo, hi):
    return f"[{lo}, {hi}]"


def check_int(name: str, value, lo: int, hi: int) -> int:
    """Return ``value`` as an ``int`` if it is an integer in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(
            f"{name}={value!r} is not an integer: allowed {_range_text(lo, hi)}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name}={value} is out of range: allowed {_range_text(lo, hi)}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}={value!r} is not a boolean: allowed {{False, True}}")
    return bool(value)


def check_choice(name: str, value, choices) -> object:
    if value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not allowed: allowed {{{allowed}}}")
    return value


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def _where(shape, flat_index: int) -> str:
    """``[i, j]`` of element ``flat_index`` of an array of ``shape`` (``""`` for a scalar)."""
    if not shape:
        return ""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat_index, shape)) + "]"


def _as_array(value) -> np.ndarray:
    """``value`` as an array without losing integers: a sequence holding integers beyond
    2^53 (which NumPy would turn into float64 or uint64) or beyond int64 stays exact, as
    Python objects."""
    if isinstance(value, np.ndarray):
        return value
    try:
        arr = np.asarray(value)
    except (OverflowError, ValueError, TypeError):
        return np.asarray(value, dtype=object)
    if arr.dtype.kind in "fu" and arr.size and not np.isscalar(value) \
            and np.nanmax(np.abs(arr.astype(np.float64))) >= 2.0 ** 53:
        obj = np.asarray(value, dtype=object)
        if obj.shape == arr.shape:
            return obj
    return arr


def _exact_integers(name: str, arr: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """An object array (Python ints and floats) as int64, every value checked exactly."""
    flat = arr.ravel()
    out = np.empty(flat.size, dtype=np.int64)
    for i, v in enumerate(flat):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (Integral, float, np.floating)):
            raise ValueError(f"{name} must hold integers, got {name}{_where(arr.shape, i)}="
                             f"{v!r}")
        if isinstance(v, (float, np.floating)):
            if not (np.isfinite(v) and float(v).is_integer()):
                raise ValueError(f"{name} must hold integers, got {name}{_where(arr.shape, i)}="
                             f"{v!r}")
            v = float(v)
        iv = int(v)
        if not (max(lo, INT64_MIN) <= iv <= min(hi, INT64_MAX)):
            raise ValueError(f"{name}{_where(arr.shape, i)}={v!r} is out of range: allowed "
                             f"{_range_text(lo, hi)}")
        out[i] = iv
    return out.reshape(arr.shape)


def check_integer_array(name: str, value, lo: int = INT64_MIN,
                        hi: int = INT64_MAX) -> np.ndarray:
    """Return ``value`` as an int64 array; reject non-integer data.

    Integral floats (from JSON or float tools) are accepted.  A value beyond int64 is never
    wrapped: the error reports it as given (``acc[0]=18446744073709551616 is out of
    range``), against ``[lo, hi]`` when given (the caller's range), else the int64 range."""
    arr = _as_array(value)
    kind = arr.dtype.kind
    if kind == "O":
        return _exact_integers(name, arr, lo, hi)
    if kind == "i" or (arr.size == 0 and kind in "fu"):
        return arr.astype(np.int64)
    if kind == "u":
        beyond = arr > np.uint64(INT64_MAX)
        if np.any(beyond):
            i = int(np.argmax(beyond.ravel()))
            raise ValueError(f"{name}{_where(arr.shape, i)}={int(arr.ravel()[i])} is out of "
                             f"range: allowed {_range_text(lo, hi)}")
        return arr.astype(np.int64)
    if kind == "f":
        flat = arr.ravel()
        bad = ~np.isfinite(flat) | (flat != np.round(flat))
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValueError(f"{name} must hold integers, got {name}{_where(arr.shape, i)}="
                             f"{float(flat[i])!r}")
        beyond = (flat < -2.0 ** 63) | (flat >= 2.0 ** 63)
        if np.any(beyond):
            i = int(np.argmax(beyond))
            raise ValueError(f"{name}{_where(arr.shape, i)}={float(flat[i])!r} is out of range: "
                             f"allowed {_range_text(lo, hi)}")
        return arr.astype(np.int64)
    raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")


def check_array_range(name: str, value, lo: int, hi: int) -> np.ndarray:
    """Return ``value`` as an int64 array whose every element lies in ``[lo, hi]``.

    The error names the first offending element, its index and its value as given.
    """
    arr = check_integer_array(name, value, lo, hi)
    bad = (arr < lo) | (arr > hi)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"[{', '.join(map(str, idx))}]" if arr.ndim else ""
        raise ValueError(
            f"{name}{where}={int(arr[idx] if arr.ndim else arr)} is out of range: "
            f"allowed {_range_text(lo, hi)}")
    return arr


def check_operands(names, a, b, lo: int, hi: int):
    """Two operand arrays of a dot product: each element in ``[lo, hi]``, broadcast to one
    shape with at least one axis (the dot-product axis, the last).  ``names`` name them in
    the errors.  Returns the two broadcast int64 arrays."""
    na, nb = names
    a = check_array_range(na, a, lo, hi)
    b = check_array_range(nb, b, lo, hi)
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise ValueError(f"{na} and {nb} must broadcast together, got {a.shape} and "
                         f"{b.shape}") from None
    if a.ndim == 0:
        raise ValueError(f"{na} and {nb} need at least one axis (the dot-product axis)")
    return a, b


def check_real_array(name: str, value) -> np.ndarray:
    """Return ``value`` as a float64 array of finite real numbers.

    Complex, boolean, text or object data, NaN and infinity are rejected, naming the first
    offending element: quantizers need finite real input."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must hold real numbers (an array of one shape)") from None
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} holds complex values ({arr.dtype}): allowed finite real "
                         f"numbers")
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if np.any(bad):
        i = int(np.argmax(bad.ravel()))
        raise ValueError(f"{name}{_where(arr.shape, i)}={float(arr.ravel()[i])!r} is not finite "
                         f"(NaN or infinity): allowed finite real numbers")
    return arr


def check_real(name: str, value, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """Return ``value`` as a ``float`` if it is a real number in ``[lo, hi]`` (``(lo, hi]``
    with ``lo_open``); NaN, infinity and complex are out of range."""
    allowed = f"{'(' if lo_open else '['}{lo}, {hi}]"
    if isinstance(value, (bool, np.bool_, complex, np.complexfloating, str, bytes)):
        raise ValueError(f"{name}={value!r} is not a real number: allowed {allowed}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not a real number: allowed {allowed}") from None
    if not np.isfinite(v) or v < lo or (lo_open and v == lo) or v > hi:
        raise ValueError(f"{name}={value!r} is out of range: allowed {allowed}")
    return v


@dataclass(frozen=True)
class Param:
    """Description of one elaboration parameter of a hardware block.

    ``lo``/``hi`` bound integer parameters; ``choices`` lists the values of an
    enumerated (string) parameter; booleans have ``kind=bool``.  Ranges that
    depend on other parameters are stated in ``doc`` and checked by the block.
    """

    name: str
    default: object
    doc: str
    kind: type = int
    lo: int | None = None
    hi: int | None = None
    choices: tuple | None = None

    def check(self, value):
        if self.kind is bool:
            return check_bool(self.name, value)
        if self.choices is not None:
            return check_choice(self.name, value, self.choices)
        return check_int(self.name, value, self.lo, self.hi)

    def parse(self, text: str):
        """Parse a command-line string into a value of this parameter's kind."""
        if self.kind is bool:
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{self.name}={text!r} is not a boolean: allowed {{false, true}}")
        if self.kind is int:
            try:
                return int(text, 0)
            except ValueError:
                raise ValueError(
                    f"{self.name}={text!r} is not an integer: "
                    f"allowed {_range_text(self.lo, self.hi)}") from None
        return text

    @property
    def allowed(self) -> str:
        if self.kind is bool:
            return "{false, true}"
        if self.choices is not None:
            return "{" + ", ".join(map(str, self.choices)) + "}"
        return _range_text(self.lo, self.hi)


def check_fields(what: str, given, required, optional=()) -> None:
    """``given`` (field names, e.g. of a vector file) holds every ``required`` field and no
    field outside ``required`` and ``optional``; the error names the first offender."""
    missing = [f for f in required if f not in given]
    unknown = sorted(set(given) - set(required) - set(optional))
    if missing or unknown:
        problem = f"missing field {missing[0]!r}" if missing else f"unknown field {unknown[0]!r}"
        raise ValueError(f"{what}: {problem}: fields are {list(required)} and optionally "
                         f"{list(optional)}")


def check_probability(name: str, value: float) -> float:
    """A per-cycle chance: finite and in (0, 1] (0 would never transfer)."""
    if not (value == value and 0.0 < value <= 1.0):       # NaN fails value == value
        raise ValueError(f"{name}={value!r} is out of range: allowed (0, 1]")
    return value


def check_writable_dir(path) -> "Path":
    """``path`` is, or can be made as, a writable directory: its nearest existing ancestor
    is a directory we may write into.  Checked before any work starts."""
    import os
    from pathlib import Path
    path = Path(path)
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ValueError(f"{path}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{path}: {probe} is not writable")
    return path


def check_writable_file(path) -> "Path":
    """``path`` can be written as a file: not a directory, and its directory exists (or
    can be made) and is writable."""
    from pathlib import Path
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a directory, not an output file")
    check_writable_dir(path.parent)
    return path


# ------------------------------------------------------------------ shared enums and ranges
# Written once here; golden checks its arguments against them, hw bounds its parameters by
# them, and the CLI and the docs quote them.

class RoundingMode(str, Enum):
    """How the requantizer's ``MultiplyByQuantizedMultiplier`` rounds (SPEC 2):
    ``DOUBLE`` is gemmlowp's SaturatingRoundingDoublingHighMul then RoundingDivideByPOT,
    ``SINGLE`` is TFLite's ``TFLITE_SINGLE_ROUNDING`` (one rounding shift)."""

    DOUBLE = "double"
    SINGLE = "single"

    def __str__(self):
        return self.value


ROUNDING_MODES = tuple(m.value for m in RoundingMode)
OVERFLOW_MODES = ("wrap", "saturate")       # the MAC accumulator (SPEC 1)

# Requantizer (SPEC 2): M0 in [2^30, 2^31 - 1] (Q0.31), total shift in [-31, 30].
MULTIPLIER_MIN = 1 << 30
MULTIPLIER_MAX = (1 << 31) - 1
SHIFT_MIN = -31
SHIFT_MAX = 30

# DNA-TEQ (SPEC 3): code bits n (1 sign + n-1 exponent bits), the rounding of the
# exponent search, the counter coding of the RTL.
DNATEQ_N_MIN, DNATEQ_N_MAX = 3, 7
DNATEQ_ROUNDINGS = ("linear", "log")
COUNTER_CODES = ("signmag", "twos")


class HuffmanKind(IntEnum):
    """The ``kind`` field of a Huffman decoder input beat (SPEC 4)."""

    DATA = 0        # a bitstream word
    LEN = 1         # table load: code-length counts
    SYM = 2         # table load: symbols in canonical order
    COUNT = 3       # the number of symbols of the next packet


class HuffmanError(IntEnum):
    """The decoder's ``error_kind`` (SPEC 4); sticky until ``restart``."""

    NONE = 0
    INVALID = 1     # no code matches max_length available bits
    TRUNCATED = 2   # the packet ends inside a code or before its count
    PROTOCOL = 3    # a beat of the wrong kind (e.g. trailing words, a table beat mid-packet)


# The golden decoder's exception kinds (a stream, not a beat protocol: no PROTOCOL).
HUFFMAN_DECODE_ERRORS = ("invalid", "truncated", "trailing")
HUFFMAN_MAX_CODE_LENGTH = 32      # the golden model's code lengths
HUFFMAN_MAX_SYMBOL_BITS = 8       # alphabets of up to 2^8 symbols

# DQA (SPEC 4): stored activation bits n and extra bits m of the golden quantizer, and the
# wider ranges the dequantizer join (golden.dqa.join and the hw block) accepts.
DQA_N_BITS = (3, 5)
DQA_M_BITS = (1, 4)
DQA_JOIN_N_BITS = (2, 8)
DQA_JOIN_M_BITS = (1, 8)
