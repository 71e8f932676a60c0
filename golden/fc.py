"""TensorFlow Lite's int8 FULLY_CONNECTED kernel, built from the MAC and the requantizer.

For input row ``x`` (int8), weights ``W`` (int8, ``[out, in]``, zero point 0), bias ``b``
(int32) and per-channel (or per-tensor) ``(M0, shift)``::

    acc[o] = b[o] + sum_d (x[d] + input_offset) * W[o, d]        # int32, input_offset = -zp_in
    y[o]   = clamp(MBQM(acc[o], M0[o], shift[o]) + output_zero_point, act_min, act_max)

exactly as ``reference_integer_ops::FullyConnected`` / ``FullyConnectedPerChannel``.
"""

from __future__ import annotations

import numpy as np

from quantrtl.spec import check_choice, check_real, check_real_array
from ._ints import round_half_away
from .mac import dot_product
from .requant import RoundingMode, quantize_multiplier, requantize

__all__ = ["ACTIVATIONS", "activation_range", "effective_multipliers", "fully_connected"]

ACTIVATIONS = ("none", "relu", "relu6", "relu_n1_to_1")


def activation_range(activation: str, output_scale: float, output_zero_point: int,
                     qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """TFLite's ``CalculateActivationRangeQuantized``: the clamp bounds of a fused activation.

    Each bound is ``zero_point + round_half_away(f / scale)`` computed in float32, as TFLite
    does, intersected with ``[qmin, qmax]``.
    """
    check_choice("activation", activation, ACTIVATIONS)
    scale = np.float32(output_scale)

    def quantize(f):
        return int(output_zero_point) + int(round_half_away(np.float32(f) / scale))

    if activation == "relu":
        return max(qmin, quantize(0.0)), qmax
    if activation == "relu6":
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    if activation == "relu_n1_to_1":
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    return qmin, qmax


def effective_multipliers(input_scale, filter_scales, output_scale,
                          rounding: RoundingMode | str = RoundingMode.SINGLE):
    """Per-channel ``(M0, shift)`` of ``input_scale * filter_scale / output_scale``.

    The scales are float32 in a ``.tflite`` file; TFLite widens each to double before
    multiplying and dividing (``PopulateConvolutionQuantizationParams``), and so does this.
    """
    input_scale = check_real("input_scale", input_scale, 0.0, np.inf, lo_open=True)
    output_scale = check_real("output_scale", output_scale, 0.0, np.inf, lo_open=True)
    filter_scales = check_real_array("filter_scales", filter_scales)
    if np.any(filter_scales < 0):     # 0 is TFLite's all-zero channel: M0 = 0
        raise ValueError(f"filter_scales={float(filter_scales.min())!r} is out of range: "
                         f"allowed finite and at least 0")
    real = (np.float64(np.float32(input_scale))
            * filter_scales.astype(np.float32).astype(np.float64)
            / np.float64(np.float32(output_scale)))
    return quantize_multiplier(np.atleast_1d(real), rounding)


def fully_connected(x, weights, bias, *, input_offset: int, multiplier, shift,
                    output_zero_point: int, act_min: int = -128, act_max: int = 127,
                    rounding: RoundingMode | str = RoundingMode.SINGLE) -> np.ndarray:
    """int8 fully-connected layer: ``x`` ``[batch, in]``, ``weights`` ``[out, in]``,
    ``bias`` ``[out]`` (or ``None``), ``multiplier``/``shift`` scalars or ``[out]``.

    Returns the int8 outputs ``[batch, out]`` as int64.  The accumulator is 32 bits and
    wraps, as TFLite's int32 accumulator does on two's-complement machines.
    """
    x = np.asarray(x)
    weights = np.asarray(weights)
    if x.ndim != 2 or weights.ndim != 2 or x.shape[1] != weights.shape[1]:
        raise ValueError(f"x [batch, in] and weights [out, in] disagree: {x.shape}, {weights.shape}")
    bias = np.zeros(weights.shape[0], dtype=np.int64) if bias is None else np.asarray(bias)
    acc = dot_product(x[:, None, :], weights[None, :, :], input_offset=input_offset,
                      bias=bias[None, :], width=8, acc_width=32)
    return requantize(acc, multiplier, shift, output_zero_point, act_min, act_max, rounding)
