"""The golden model and the RTL against the real TensorFlow Lite (LiteRT) interpreter.

The model (``tests/data/digits_mlp_int8.tflite``, made by ``tools/make_tflite_model.py``) is
an int8 MLP on scikit-learn's digits: FULLY_CONNECTED layers with fused ReLU, ReLU6 and no
activation, per-channel weights.  Its 300 test inputs are in ``digits_mlp_inputs.npz``.
"""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is a dev dependency")

from quantrtl.golden.fc import fully_connected  # noqa: E402
from quantrtl.golden.mac import dot_product  # noqa: E402
from quantrtl.golden.requant import requantize, saturating_rounding_doubling_high_mul  # noqa: E402
from quantrtl.tflite import load_fc_layers, run_interpreter  # noqa: E402

DATA = Path(__file__).parent / "data"
MODEL = DATA / "digits_mlp_int8.tflite"


@pytest.fixture(scope="module")
def inputs():
    with np.load(DATA / "digits_mlp_inputs.npz") as npz:
        return npz["x"].astype(np.int64), npz["labels"]


@pytest.fixture(scope="module")
def reference(inputs):
    """Every layer's int8 output from the interpreter's reference kernels."""
    return run_interpreter(MODEL, inputs[0], "BUILTIN_REF", intermediates=True)


def _golden_network(x, rounding):
    outs = []
    for layer in load_fc_layers(MODEL, rounding):
        x = fully_connected(x, layer.weights, layer.bias, input_offset=layer.input_offset,
                            multiplier=layer.multiplier, shift=layer.shift,
                            output_zero_point=layer.output_zero_point, act_min=layer.act_min,
                            act_max=layer.act_max, rounding=rounding)
        outs.append(x)
    return outs


def test_model_has_the_three_activations():
    assert [layer.activation for layer in load_fc_layers(MODEL)] == ["relu", "relu6", "none"]


def test_golden_matches_reference_kernels_bit_for_bit(inputs, reference):
    golden = _golden_network(inputs[0], "single")
    for k, (g, r) in enumerate(zip(golden, reference)):
        assert np.array_equal(g, r), f"layer {k}: {int(np.sum(g != r))} outputs differ"


def test_golden_matches_default_kernels_bit_for_bit(inputs):
    """The default interpreter (builtin kernels + XNNPACK delegate) gives the same bytes."""
    default = run_interpreter(MODEL, inputs[0], "AUTO")
    assert np.array_equal(_golden_network(inputs[0], "single")[-1], default)


def test_interpreter_rounding_modes(inputs, reference):
    """The finding stated in the README: the reference and the default kernels round once
    (``single``); gemmlowp's ``double`` rounding differs on some outputs; the optimized
    builtin kernels without XNNPACK (ruy) round twice but break the final shift's ties
    upward, not away from zero."""
    x = inputs[0]
    double = _golden_network(x, "double")
    assert sum(int(np.sum(d != r)) for d, r in zip(double, reference)) > 0

    optimized = run_interpreter(MODEL, x, "BUILTIN_WITHOUT_DEFAULT_DELEGATES", intermediates=True)
    layer_inputs = [x] + optimized[:-1]
    mismatches = {"single": 0, "double": 0, "double-half-up": 0}
    for layer, xi, got in zip(load_fc_layers(MODEL, "double"), layer_inputs, optimized):
        acc = dot_product(xi[:, None, :], layer.weights[None], input_offset=layer.input_offset,
                          bias=layer.bias[None])
        args = (layer.multiplier, layer.shift, layer.output_zero_point, layer.act_min,
                layer.act_max)
        for mode in ("single", "double"):
            mismatches[mode] += int(np.sum(requantize(acc, *args, rounding=mode) != got))
        high = saturating_rounding_doubling_high_mul(acc, layer.multiplier[None])
        right = -layer.shift[None]
        half_up = (high + (np.int64(1) << (right - 1))) >> right
        y = np.clip(half_up + layer.output_zero_point, layer.act_min, layer.act_max)
        mismatches["double-half-up"] += int(np.sum(y != got))
    assert mismatches["double-half-up"] == 0, mismatches
    assert mismatches["single"] > 0 and mismatches["double"] > 0, mismatches


def test_int8_accuracy_is_sane(inputs):
    x, labels = inputs
    assert np.mean(np.argmax(_golden_network(x, "single")[-1], axis=1) == labels) > 0.9


@pytest.mark.sim
def test_rtl_matches_interpreter_bit_for_bit(sim, inputs, reference):
    """Every layer on the MAC (8 lanes) and requantizer RTL, chained on the RTL's own
    outputs, reproduces the interpreter's int8 outputs on every sample (a bulk run: the
    vector player, every output checked against golden)."""
    from quantrtl.tb.player import play

    def run_block(block, params, vectors, **options):
        result = play(block, params, vectors, **options)      # raises on any mismatch
        return result.outputs, result.expected

    x = inputs[0]
    batch = len(x)
    for k, layer in enumerate(load_fc_layers(MODEL, "single")):
        out_ch, in_ch = layer.weights.shape
        a = np.repeat(x, out_ch, axis=0)                 # row b*out + o: sample b, channel o
        w = np.tile(layer.weights, (batch, 1))
        acc, golden_acc, *_ = run_block("mac", {"lanes": 8}, {
            "a": a, "w": w, "bias": np.tile(layer.bias, batch),
            "input_offset": np.int64(layer.input_offset)}, sim=sim, ready_probability=0.8)
        assert np.array_equal(acc, golden_acc)
        y, golden_y, *_ = run_block("requant", {"rounding": "single"}, {
            "acc": acc, "multiplier": np.tile(layer.multiplier, batch),
            "shift": np.tile(layer.shift, batch),
            "zero_point": np.int64(layer.output_zero_point),
            "qmin": np.int64(layer.act_min), "qmax": np.int64(layer.act_max)},
            sim=sim, valid_probability=0.9, ready_probability=0.7)
        x = y.reshape(batch, out_ch)
        assert np.array_equal(x, reference[k]), \
            f"layer {k}: {int(np.sum(x != reference[k]))} outputs differ from the interpreter"
