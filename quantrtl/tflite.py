"""Read the int8 FULLY_CONNECTED layers of a ``.tflite`` model and run it in LiteRT.

Used to check the golden model and the RTL against the real TensorFlow Lite interpreter.
Needs ``ai-edge-litert`` (a development dependency: ``pip install -e '.[dev]'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quantrtl.golden.fc import activation_range, effective_multipliers

__all__ = ["FCLayer", "load_fc_layers", "make_interpreter", "run_interpreter", "KERNELS"]

# Kernel sets of the interpreter: AUTO is what `Interpreter(model_path=...)` gives (the
# builtin kernels with the XNNPACK delegate applied); BUILTIN_REF the reference kernels;
# BUILTIN_WITHOUT_DEFAULT_DELEGATES the optimized builtin kernels without XNNPACK.
KERNELS = ("AUTO", "BUILTIN_REF", "BUILTIN_WITHOUT_DEFAULT_DELEGATES")

_ACTIVATIONS = {"NONE": "none", "RELU": "relu", "RELU6": "relu6", "RELU_N1_TO_1": "relu_n1_to_1"}


@dataclass
class FCLayer:
    """One int8 FULLY_CONNECTED op, with everything the integer kernel needs."""

    weights: np.ndarray        # int8 [out, in]
    bias: np.ndarray           # int32 [out]
    input_offset: int          # -input zero point
    multiplier: np.ndarray     # [out], Q31
    shift: np.ndarray          # [out]
    output_zero_point: int
    act_min: int
    act_max: int
    activation: str
    output_tensor: int         # index of the op's output tensor in the interpreter


def make_interpreter(model_path, kernels: str = "AUTO", *, preserve_all_tensors=False):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    if kernels not in KERNELS:
        raise ValueError(f"kernels={kernels!r} is not allowed: allowed {{{', '.join(KERNELS)}}}")
    interpreter = Interpreter(model_path=str(model_path),
                              experimental_op_resolver_type=getattr(OpResolverType, kernels),
                              experimental_preserve_all_tensors=preserve_all_tensors)
    interpreter.allocate_tensors()
    return interpreter


def _fused_activations(model_path) -> list[str]:
    from ai_edge_litert import schema_py_generated as schema
    buf = Path(model_path).read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(buf, 0))
    names = {v: k for k, v in vars(schema.ActivationFunctionType).items()
             if not k.startswith("_")}
    builtin = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    acts = []
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        kind = builtin[max(code.builtinCode, code.deprecatedBuiltinCode)]
        if kind != "FULLY_CONNECTED":
            raise ValueError(f"{model_path}: op {kind} is not supported (FULLY_CONNECTED only)")
        acts.append(_ACTIVATIONS[names[op.builtinOptions.fusedActivationFunction]])
    return acts


def load_fc_layers(model_path, rounding="single") -> list[FCLayer]:
    """The model's FULLY_CONNECTED layers in execution order, with per-channel multipliers
    derived as TFLite does (:func:`golden.fc.effective_multipliers`)."""
    interpreter = make_interpreter(model_path, "BUILTIN_REF")
    details = {t["index"]: t for t in interpreter.get_tensor_details()}

    def quant(index):
        q = details[index]["quantization_parameters"]
        return q["scales"], q["zero_points"]

    layers = []
    for op, activation in zip(interpreter._get_ops_details(), _fused_activations(model_path)):
        i_in, i_w, i_b = (int(k) for k in op["inputs"])
        i_out = int(op["outputs"][0])
        s_in, zp_in = quant(i_in)
        s_w, zp_w = quant(i_w)
        s_out, zp_out = quant(i_out)
        if np.any(zp_w != 0):
            raise ValueError(f"{model_path}: weights of tensor {i_w} have non-zero zero points")
        weights = interpreter.get_tensor(i_w).astype(np.int64)
        filter_scales = np.broadcast_to(s_w, weights.shape[:1])
        multiplier, shift = effective_multipliers(s_in[0], filter_scales, s_out[0], rounding)
        act_min, act_max = activation_range(activation, s_out[0], int(zp_out[0]))
        layers.append(FCLayer(weights, interpreter.get_tensor(i_b).astype(np.int64),
                              -int(zp_in[0]), multiplier, shift, int(zp_out[0]),
                              act_min, act_max, activation, i_out))
    return layers


def run_interpreter(model_path, x, kernels: str = "AUTO", *, intermediates: bool = False):
    """Run every row of ``x`` (int8) one at a time; returns the int8 outputs ``[N, out]``,
    or with ``intermediates=True`` a list with the output of every op."""
    interpreter = make_interpreter(model_path, kernels, preserve_all_tensors=intermediates)
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    tensors = ([int(op["outputs"][0]) for op in interpreter._get_ops_details()
                if op["op_name"] != "DELEGATE"] if intermediates else [out["index"]])
    results = [[] for _ in tensors]
    for row in np.asarray(x):
        interpreter.set_tensor(inp["index"], row[None].astype(np.int8))
        interpreter.invoke()
        for k, index in enumerate(tensors):
            results[k].append(interpreter.get_tensor(index)[0].astype(np.int64))
    results = [np.array(r) for r in results]
    return results if intermediates else results[0]
