"""The headline's workloads: dot products of real all-MiniLM-L6-v2 layers (and of a
synthetic layer), quantized both ways, as vector sets for the blocks' gate-level runs.

A *layer* is its float activations ``x`` ``[T, K]`` (tokens of the calibration sentences,
from our NumPy forward pass), weights ``w`` ``[O, K]``, bias ``[O]`` and the float outputs
``y = x w^T + bias``.  Both datapaths compute the same dot products: activation rows (one
per group) against ``pes`` weight rows (one per PE), the same rows on both sides.

* **INT8** (the TFLite scheme of :mod:`quantrtl.experiments.int8`): activations asymmetric
  per tensor (``input_offset = -zero_point``), weights symmetric per output channel, int32
  bias ``round(bias / (s_x s_w))``; the requantizer's per-channel ``(M0, shift)`` from
  ``s_x s_w / s_y`` (output calibrated asymmetric per tensor), its inputs the layer's real
  accumulators.
* **DNA-TEQ** at ``n`` bits: :func:`quantrtl.experiments.dnateq_search.search_layer`
  restricted to ``n`` (one base shared by the layer's weights and activations,
  ``alpha``/``beta`` per tensor); the block builds its LUT from those parameters.  The output
  encoder's inputs are the post-processor's results of those dot products, its thresholds
  those of an ``n``-bit quantizer fitted
  (:func:`quantrtl.experiments.dnateq_search.search_tensor`) to the layer's float outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

import quantrtl.experiments.dnateq_search as ds
from quantrtl.golden import dnateq as g
from quantrtl.golden.quant import calibrate, quantize
from quantrtl.golden.requant import quantize_multiplier

__all__ = ["Layer", "minilm_layer", "synthetic_layer", "int8_vectors", "dnateq_vectors",
           "MINILM_LAYERS", "MAX_LENGTH", "FRAC_BITS", "LUT_WIDTH", "select_rows",
           "result_width"]

# Both FFN layers of the first encoder block: the model's own lengths N = 384 and 1536.
MINILM_LAYERS = {384: "encoder.layer.0.intermediate.dense",
                 1536: "encoder.layer.0.output.dense"}
FRAC_BITS, LUT_WIDTH = 16, 24
MAX_LENGTH = max(MINILM_LAYERS)        # the DNA-TEQ blocks' max_length (counter widths)


@dataclass(frozen=True, eq=False)      # hashed by identity: the loaders cache layers
class Layer:
    name: str
    x: np.ndarray        # [T, K] float activations
    w: np.ndarray        # [O, K] float weights
    bias: np.ndarray     # [O]
    source: str

    @property
    def length(self) -> int:
        return self.x.shape[1]

    @property
    def y(self) -> np.ndarray:
        return self.x @ self.w.T + self.bias


@lru_cache(maxsize=4)
def minilm_layer(length: int) -> Layer:
    """The all-MiniLM-L6-v2 layer whose inputs have ``length`` features (384 or 1536),
    with its inputs captured on the calibration sentences."""
    from quantrtl.experiments.workloads import load_workload
    if length not in MINILM_LAYERS:
        raise ValueError(f"length={length} is out of range: allowed {sorted(MINILM_LAYERS)} "
                         f"(the MiniLM layers' input widths)")
    name = MINILM_LAYERS[length]
    wl = load_workload("minilm")
    x = np.asarray(wl.activations()[name], dtype=np.float64)
    model = wl.model
    return Layer(name, x, np.asarray(model.weight(name), dtype=np.float64),
                 np.asarray(model.bias(name), dtype=np.float64),
                 f"all-MiniLM-L6-v2 {name}, {x.shape[0]} calibration tokens")


@lru_cache(maxsize=4)
def synthetic_layer(length: int, *, tokens: int = 256, outputs: int = 256) -> Layer:
    """ReLU activations max(0, N(0, 1)) and Laplace(0, 0.05) weights (the synthetic layer
    of :mod:`quantrtl.vectors.workloads`), no bias."""
    from quantrtl.vectors.workloads import synthetic_layer as draw
    x, _ = draw(11, tokens, length)
    _, w = draw(12, outputs, length)
    return Layer(f"synthetic-{length}", x, w, np.zeros(outputs),
                 "synthetic layer: ReLU activations, Laplace weights")


def select_rows(layer: Layer, groups: int, pes: int, seed: int = 5):
    """``(tokens [groups], channels [groups, pes])``: the dot products measured, spread over
    the layer (a deterministic draw)."""
    rng = np.random.default_rng([seed, layer.length, groups, pes])
    tokens = rng.choice(layer.x.shape[0], size=groups, replace=groups > layer.x.shape[0])
    channels = np.stack([rng.choice(layer.w.shape[0], size=pes, replace=False)
                         for _ in range(groups)])
    return tokens, channels


def _pe_rows(w_rows, pes):
    """``[groups, P, K]`` weight rows, as the array blocks take them (``[groups, K]`` for one
    PE)."""
    return w_rows[:, 0, :] if pes == 1 else w_rows


def int8_vectors(layer: Layer, tokens, channels) -> tuple[dict, dict, dict]:
    """``(mac vectors, requant vectors, facts)`` of the selected dot products (INT8)."""
    pes = channels.shape[1]
    qx = calibrate(layer.x, bits=8, symmetric=False)
    qw = calibrate(layer.w, bits=8, symmetric=True, axis=0)
    qy = calibrate(layer.y, bits=8, symmetric=False)
    a = quantize(layer.x[tokens], qx)
    w_all = quantize(layer.w, qw)
    w = w_all[channels]                                   # [groups, P, K]
    s_w = np.asarray(qw.scale, dtype=np.float64)[channels]
    s_x = float(qx.scale)
    bias = np.round(layer.bias[channels] / (s_x * s_w)).astype(np.int64)
    zp = int(qx.zero_point)
    mac = {"a": a, "w": _pe_rows(w, pes), "bias": bias[:, 0] if pes == 1 else bias,
           "input_offset": np.int64(-zp)}
    acc = ((a[:, None, :].astype(np.int64) - zp) * w).sum(axis=-1) + bias   # [groups, P]
    real = s_x * s_w / float(qy.scale)
    m0, shift = quantize_multiplier(real.reshape(-1))
    requant = {"acc": acc.reshape(-1), "multiplier": np.asarray(m0).reshape(-1),
               "shift": np.asarray(shift).reshape(-1),
               "zero_point": np.int64(int(qy.zero_point))}
    facts = {"input_zero_point": zp, "activation_zeros": float(np.mean(a == zp)),
             "weight_zeros": float(np.mean(w == 0))}
    return mac, requant, facts


@lru_cache(maxsize=32)
def _dnateq_params(layer: Layer, n: int):
    res = ds.search_layer(layer.w, layer.x, n_min=n, n_max=n, name=layer.name)
    return res


def dnateq_vectors(layer: Layer, n: int, tokens, channels) -> tuple[dict, dict, dict]:
    """``(dnateq vectors, dnaenc vectors, facts)`` of the selected dot products at ``n``
    bits (the engine's vectors give the layer parameters, from which it builds the LUT)."""
    from quantrtl.golden.dnateq_encode import thresholds
    pes = channels.shape[1]
    res = _dnateq_params(layer, n)
    px, pw = res.acts, res.weights
    cx = g.quantize(layer.x[tokens], px)
    cw = g.quantize(layer.w, pw)[channels]               # [groups, P, K]
    engine = {"x": cx, "w": _pe_rows(cw, pes), "b": np.float64(px.b),
              "alpha_x": np.float64(px.alpha), "beta_x": np.float64(px.beta),
              "alpha_w": np.float64(pw.alpha), "beta_w": np.float64(pw.beta)}
    lut = g.make_lut(px, pw, frac_bits=FRAC_BITS, lut_width=LUT_WIDTH, fold_c3=True)
    r = g.dot_product(cx[:, None, :], cw, lut, n=n, fold_c3=True).reshape(-1)
    py, _ = ds.search_tensor(layer.y, n, px.b)
    encoder = {"r": r, "thresholds": thresholds(py, frac_bits=FRAC_BITS,
                                                width=result_width(MAX_LENGTH))}
    facts = {"base": float(px.b), "rmae_w": round(float(res.rmae_w), 4),
             "rmae_x": round(float(res.rmae_act), 4),
             "activation_zeros": float(np.mean(cx == g.zero_code(n))),
             "weight_zeros": float(np.mean(cw == g.zero_code(n)))}
    return engine, encoder, facts


def result_width(max_length: int) -> int:
    """The DNA-TEQ block's result width at the headline's LUT (``hw.dnateq``)."""
    return LUT_WIDTH + (4 * max_length).bit_length() + 1
