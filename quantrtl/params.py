"""Parameter checking shared by the hardware blocks and the golden model.

Every check raises :class:`ValueError` whose message names the parameter, the
offending value and the allowed range, e.g.
``lanes=0 is out of range: allowed [1, 64]``.  Nothing is ever clipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

__all__ = [
    "Param",
    "check_int",
    "check_bool",
    "check_choice",
    "check_array_range",
    "check_integer_array",
    "check_fields",
    "check_probability",
    "check_writable_file",
    "check_writable_dir",
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


def check_integer_array(name: str, value) -> np.ndarray:
    """Return ``value`` as an int64 array; reject non-integer data."""
    arr = np.asarray(value)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) \
                and np.all(arr == np.round(arr)):
            pass  # integral floats are accepted (e.g. from JSON or npz written by float tools)
        else:
            raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.unsignedinteger) and arr.size and int(arr.max()) > 2**63 - 1:
        raise ValueError(f"{name} holds values beyond int64")
    return arr.astype(np.int64)


def check_array_range(name: str, value, lo: int, hi: int) -> np.ndarray:
    """Return ``value`` as an int64 array whose every element lies in ``[lo, hi]``.

    The error names the first offending element and its index.
    """
    arr = check_integer_array(name, value)
    bad = (arr < lo) | (arr > hi)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"[{', '.join(map(str, idx))}]" if arr.ndim else ""
        raise ValueError(
            f"{name}{where}={int(arr[idx] if arr.ndim else arr)} is out of range: "
            f"allowed {_range_text(lo, hi)}")
    return arr


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
