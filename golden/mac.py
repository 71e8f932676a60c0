"""Integer dot product of the MAC unit (SPEC 1).

For each dot product (the last axis of ``a`` and ``w``)::

    acc = bias + sum_k (a_k + input_offset) * w_k

accumulated in an ``acc_width``-bit register, ``lanes`` products per clock beat:

- ``overflow="wrap"``: two's-complement wrap modulo ``2^acc_width`` (the result is the exact
  sum reduced modulo ``2^acc_width``, independent of ``lanes``);
- ``overflow="saturate"``: after each beat the register saturates to the ``acc_width``-bit
  signed range, so the result depends on how the products are grouped into beats
  (``lanes`` consecutive products per beat, in order).

With ``acc_width >= 2 * width + 1 + ceil(log2 K)`` (``K`` the length) neither ever happens.
"""

from __future__ import annotations

import numpy as np

from quantrtl.spec import (OVERFLOW_MODES, check_array_range, check_choice, check_int,
                           check_operands)
from ._ints import signed_range, wrap

__all__ = ["dot_product", "OVERFLOW_MODES"]



def dot_product(a, w, *, input_offset=0, bias=0, width: int = 8, acc_width: int = 32,
                lanes: int = 1, overflow: str = "wrap") -> np.ndarray:
    """``bias + sum((a + input_offset) * w, axis=-1)`` in an ``acc_width``-bit accumulator.

    ``a`` and ``w`` are signed ``width``-bit integers broadcasting to ``(..., K)``, with
    ``K`` a positive multiple of ``lanes``; ``input_offset`` is a signed ``width + 1``-bit
    integer (TFLite's ``-input_zero_point``); ``bias`` broadcasts against ``a.shape[:-1]``
    and is a signed ``acc_width``-bit integer.  Returns int64 of shape ``a.shape[:-1]``.
    """
    width = check_int("width", width, 2, 16)
    acc_width = check_int("acc_width", acc_width, 2 * width + 1, 64)
    lanes = check_int("lanes", lanes, 1, 64)
    check_choice("overflow", overflow, OVERFLOW_MODES)
    lo, hi = signed_range(width)
    a, w = check_operands(("a", "w"), a, w, lo, hi)
    length = a.shape[-1]
    if length == 0 or length % lanes:
        raise ValueError(f"dot-product length={length} is out of range: allowed a positive "
                         f"multiple of lanes={lanes}")
    input_offset = check_array_range("input_offset", input_offset, *signed_range(width + 1))
    if input_offset.ndim:
        raise ValueError("input_offset must be a scalar (one offset per tensor)")
    bias = check_array_range("bias", bias, *signed_range(acc_width))
    products = (a + input_offset) * w  # |p| <= 2^(2*width): exact
    if overflow == "wrap":
        # int64 addition is modular, so wrapping the int64 sum is exact for acc_width <= 64.
        return wrap(bias + products.sum(axis=-1), acc_width)
    beats = products.reshape(*products.shape[:-1], length // lanes, lanes).sum(axis=-1)
    acc_lo, acc_hi = signed_range(acc_width)
    acc = np.broadcast_to(bias, beats.shape[:-1]).astype(np.int64)
    for k in range(beats.shape[-1]):
        # acc and a beat are both within int64 range - 2^40, so the sum cannot overflow int64
        # for acc_width <= 62; at 63-64 bits, clip via float-free two-step comparison.
        step = beats[..., k]
        if acc_width >= 63:
            room_hi = acc_hi - acc
            room_lo = acc_lo - acc
            acc = np.where(step > room_hi, acc_hi, np.where(step < room_lo, acc_lo, acc + step))
        else:
            acc = np.clip(acc + step, acc_lo, acc_hi)
    return acc
