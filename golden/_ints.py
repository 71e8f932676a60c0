"""Two's-complement helpers on int64 NumPy arrays."""

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def signed_range(bits: int) -> tuple[int, int]:
    """``(min, max)`` of a ``bits``-wide two's-complement integer."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def wrap(x, bits: int) -> np.ndarray:
    """Reduce ``x`` modulo ``2**bits`` into the signed range (two's-complement wrap).

    Works for ``bits <= 64``: int64 arithmetic is itself modulo ``2**64``.
    """
    x = np.asarray(x, dtype=np.int64)
    if bits >= 64:
        return x
    half = np.int64(1) << np.int64(bits - 1)
    mask = (np.int64(1) << np.int64(bits)) - np.int64(1)
    return ((x + half) & mask) - half


def round_half_away(x) -> np.ndarray:
    """Round to nearest, ties away from zero (C's ``std::round``, TFLite's ``TfLiteRound``)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)
