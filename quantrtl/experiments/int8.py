"""The INT8 baseline: TFLite's scheme as fake quantization (quantize, then dequantize).

Weights: symmetric per-output-channel int8 (``[-127, 127]``, zero point 0); activations:
asymmetric per-tensor int8 (zero point), scales from min/max calibration on the
workload's calibration inputs (:mod:`golden.quant`).
"""

from __future__ import annotations

from quantrtl.golden.quant import calibrate, dequantize, quantize

__all__ = ["int8_transform"]


def int8_transform(workload, bits: int = 8):
    """A ``transform(name, x, w)`` that fake-quantizes every linear layer at ``bits``."""
    acts = workload.activations()
    act_params = {name: calibrate(acts[name], bits=bits, symmetric=False)
                  for name in workload.layers()}
    w_params = {name: calibrate(workload.model.weight(name), bits=bits, symmetric=True, axis=0)
                for name in workload.layers()}

    def transform(name, x, w):
        xq = dequantize(quantize(x, act_params[name]), act_params[name]).astype(x.dtype)
        wq = dequantize(quantize(w, w_params[name]), w_params[name]).astype(w.dtype)
        return xq, wq

    return transform
