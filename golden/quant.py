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

from quantrtl.spec import check_array_range, check_bool, check_int, check_real_array
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

    def __post_init__(self):
        qmin, qmax = check_int("qmin", self.qmin, -(1 << 31), (1 << 31) - 1), \
            check_int("qmax", self.qmax, -(1 << 31), (1 << 31) - 1)
        if qmin >= qmax:
            raise ValueError(f"qmin={qmin} and qmax={qmax}: allowed qmin < qmax")
        scale = check_real_array("scale", self.scale)
        if np.any(scale <= 0):
            i = int(np.argmax((scale <= 0).ravel()))
            raise ValueError(f"scale={float(scale.ravel()[i])!r} is out of range: allowed "
                             f"finite and above 0")
        zero_point = check_array_range("zero_point", self.zero_point, qmin, qmax)
        if self.axis is None:
            if scale.ndim or zero_point.ndim:
                raise ValueError(f"per-tensor (axis=None) scale and zero_point are scalars, "
                                 f"got shapes {scale.shape} and {zero_point.shape}")
        else:
            check_int("axis", self.axis, 0, 31)
            if scale.ndim != 1 or zero_point.shape not in (scale.shape, ()):
                raise ValueError(f"per-channel (axis={self.axis}) scale and zero_point are "
                                 f"[channels], got shapes {scale.shape} and "
                                 f"{zero_point.shape}")
            zero_point = np.broadcast_to(zero_point, scale.shape).copy()
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "zero_point", zero_point)

    def _expand(self, ndim: int):
        if self.axis is not None and self.axis >= ndim:
            raise ValueError(f"axis={self.axis} is out of range for a {ndim}-d tensor")
        if self.axis is None:
            return self.scale, self.zero_point
        shape = [1] * ndim
        shape[self.axis] = -1
        return self.scale.reshape(shape), self.zero_point.reshape(shape)

    def _check_channels(self, x: np.ndarray, name: str):
        if self.axis is not None and x.shape[self.axis] != self.scale.shape[0]:
            raise ValueError(f"{name} has {x.shape[self.axis]} channels on axis {self.axis}, "
                             f"the parameters {self.scale.shape[0]}")


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
    x = check_real_array("x", x)
    if x.size == 0:
        raise ValueError("x is empty: calibration needs at least one value")
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
    """``q = clamp(round_half_away(x / scale) + zero_point, qmin, qmax)`` as int64.

    ``x`` must be finite and real (NaN, infinity and complex are a ``ValueError``)."""
    x = check_real_array("x", x)
    scale, zp = params._expand(x.ndim)
    params._check_channels(x, "x")
    q = round_half_away(x / scale) + zp
    return np.clip(q, params.qmin, params.qmax).astype(np.int64)


def dequantize(q, params: QuantParams) -> np.ndarray:
    """``x_hat = (q - zero_point) * scale`` as float64."""
    q = check_array_range("q", q, params.qmin, params.qmax)
    scale, zp = params._expand(q.ndim)
    params._check_channels(q, "q")
    return (q - zp) * scale
