"""Uniform affine quantization: ``q = clamp(round(x / scale) + zero_point, qmin, qmax)``.

Conventions (those of TensorFlow Lite's int8 scheme):

- *symmetric* (weights): zero point 0, narrow range ``[-(2^(b-1) - 1), 2^(b-1) - 1]``
  (``[-127, 127]`` at 8 bits), ``scale = max|x| / qmax``;
- *asymmetric* (activations): full range ``[-2^(b-1), 2^(b-1) - 1]``, the calibrated range
  ``[min(x, 0), max(x, 0)]`` is widened to contain 0 so that 0 is exact,
  ``scale = (max - min) / (qmax - qmin)`` and ``zero_point = round(qmin - min / scale)``;
- per-tensor (``axis=None``) or per-channel (``axis=k``: one scale/zero point per index of
  axis ``k``);
- rounding is to nearest with ties away from zero (``TfLiteRound``); values outside the
  representable range saturate to ``qmin``/``qmax``;
- a range of zero width (all-zero tensor or channel) gets ``scale = 1.0``, so that it
  quantizes to the zero point and dequantizes to exact zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantrtl.params import check_array_range, check_bool, check_int
from ._ints import round_half_away, signed_range

__all__ = ["QuantParams", "calibrate", "quantize", "dequantize"]


@dataclass(frozen=True)
class QuantParams:
    """Scale(s) and zero point(s) of a quantized tensor.

    ``scale`` and ``zero_point`` are 0-d arrays (per-tensor) or 1-d arrays of the length of
    ``axis`` (per-channel).
    """

    scale: np.ndarray
    zero_point: np.ndarray
    qmin: int
    qmax: int
    axis: int | None = None

    def _expand(self, ndim: int):
        if self.axis is None:
            return self.scale, self.zero_point
        shape = [1] * ndim
        shape[self.axis] = -1
        return self.scale.reshape(shape), self.zero_point.reshape(shape)


def _reduce(x: np.ndarray, axis, fn):
    if axis is None:
        return fn(x)
    axes = tuple(i for i in range(x.ndim) if i != axis)
    return fn(x, axis=axes)


def calibrate(x, *, bits: int = 8, symmetric: bool, axis: int | None = None) -> QuantParams:
    """Scales and zero points from the min/max of ``x`` (post-training calibration).

    ``symmetric=True`` gives the weight scheme (zero point 0, narrow range ``[-qmax, qmax]``);
    ``symmetric=False`` the activation scheme (zero point, full range).  ``axis`` selects
    per-channel parameters along that axis.
    """
    bits = check_int("bits", bits, 2, 16)
    symmetric = check_bool("symmetric", symmetric)
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        raise ValueError("x is empty: calibration needs at least one value")
    if not np.all(np.isfinite(x)):
        raise ValueError("x holds NaN or infinity: calibration needs finite values")
    if axis is not None:
        axis = check_int("axis", axis, -x.ndim, x.ndim - 1) % x.ndim
    lo_q, hi_q = signed_range(bits)
    if symmetric:
        qmin, qmax = -hi_q, hi_q
        amax = _reduce(np.abs(x), axis, np.max)
        scale = np.where(amax > 0, amax / qmax, 1.0)
        zero_point = np.zeros_like(scale, dtype=np.int64)
    else:
        qmin, qmax = lo_q, hi_q
        xmin = np.minimum(_reduce(x, axis, np.min), 0.0)
        xmax = np.maximum(_reduce(x, axis, np.max), 0.0)
        width = xmax - xmin
        scale = np.where(width > 0, width / (qmax - qmin), 1.0)
        zero_point = np.clip(round_half_away(qmin - xmin / scale), qmin, qmax).astype(np.int64)
    return QuantParams(np.asarray(scale, dtype=np.float64), np.asarray(zero_point, dtype=np.int64),
                       qmin, qmax, axis)


def quantize(x, params: QuantParams) -> np.ndarray:
    """``q = clamp(round_half_away(x / scale) + zero_point, qmin, qmax)`` as int64."""
    x = np.asarray(x, dtype=np.float64)
    scale, zp = params._expand(x.ndim)
    q = round_half_away(x / scale) + zp
    return np.clip(q, params.qmin, params.qmax).astype(np.int64)


def dequantize(q, params: QuantParams) -> np.ndarray:
    """``x_hat = (q - zero_point) * scale`` as float64."""
    q = check_array_range("q", q, params.qmin, params.qmax)
    scale, zp = params._expand(q.ndim)
    return (q - zp) * scale
