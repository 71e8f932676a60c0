"""The bulk tests, through the vector player (:mod:`quantrtl.tb.player`) on each simulator:
the MAC's exhaustive products, the requantizer's full shift sweep, DNA-TEQ random codes of
every width, Huffman round trips, every pair of the widest DQA dequantizer, and a whole
MiniLM layer for one sentence (13 tokens x
the 1536 output channels of ``encoder.layer.0.intermediate.dense``, 19,968 dot products of
384) through the INT8 path (MAC, then the requantizer on the MAC's results) and through the
DNA-TEQ datapath (the engine, then the output encoder on the engine's results).

Every play is checked output by output against the golden model (a mismatch raises with
the first failing vector's index, inputs, expected and actual output and cycle); the cocotb
testbenches keep the protocol and corner tests.  Each (simulator, block, parameters) uses
one memory depth here, so it is built once for all its plays.

Icarus, an event-driven interpreter, plays the DNA-TEQ engine at 20-80 dot products of 384
per second (Verilator: about 1,300) and the 8-lane MAC array at about 5k cycles per second,
so on Icarus the layer is a slice (the
sentence's first token: its 1536 channels through the INT8 path, its first 128 through
DNA-TEQ), and the requantizer's sweep has 256 vectors per shift instead of 4,096.
"""

import numpy as np
import pytest

from quantrtl.blocks import configure
from quantrtl.tb.player import play
from quantrtl.vectors.bulk import (dnateq_random_codes, dqa_every_pair, huffman_round_trips,
                                   mac_all_products, requant_shift_sweep)

pytestmark = pytest.mark.sim

DEPTH = 1 << 18                       # every play of a block here: one build per config
DNATEQ_DEPTH = 1 << 21                # the layer's 1,916,928 DNA-TEQ beats
STALLS = ((1.0, 1.0), (0.6, 0.5), (0.3, 0.9))

MAC_CONFIGS = ({}, {"lanes": 8, "pes": 4})               # one PE; the layer's 8-lane array
REQUANT_CONFIGS = ({}, {"rounding": "double", "latency": 1})
# The layer's DNA-TEQ engine: the headline's code width, LUT and result format, 384 pairs,
# one lane (a 4-lane engine builds in 137 s on Verilator against 21 s, and plays the
# sentence in 3 s against 7 s).
DNATEQ = {"n": 5, "lanes": 1, "max_length": 384, "pes": 4, "pp_lanes": 2}
N_BITS = DNATEQ["n"]
PES = 4                               # the layer's MAC and DNA-TEQ arrays
LAYER_TOKENS = 13                     # SENTENCES[0]: the first rows of the layer's inputs
# Dot-product groups (of 4 channels) of the layer played: the sentence's 13 tokens x 384
# groups on Verilator; on Icarus the first token (int8) and its first 128 channels (DNA-TEQ).
SIZES = {"verilator": {"per_shift": 4096, "codes": 120, "int8_groups": LAYER_TOKENS * 384,
                       "dnateq_groups": LAYER_TOKENS * 384},
         "icarus": {"per_shift": 256, "codes": 30, "int8_groups": 384, "dnateq_groups": 32}}


def _id(params):
    return ",".join(f"{k}={v}" for k, v in params.items()) or "default"


@pytest.mark.parametrize("params", MAC_CONFIGS, ids=_id)
def test_mac_all_products(sim, params):
    """Every 8-bit x 8-bit product, each alone in a one-beat dot product."""
    config = configure("mac", params)
    vectors = mac_all_products(config.component, np.random.default_rng(3))
    result = play("mac", params, vectors, sim=sim, seed=5, valid_probability=0.9,
                  ready_probability=0.8, depth=DEPTH)
    assert result.checked == len(vectors["a"]) * config.component.pes
    products = np.sort(np.asarray(result.outputs).reshape(-1))
    a, w = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128))
    padding = result.checked - 65536                 # zero weights of a PE with no product
    assert np.array_equal(products, np.sort(np.r_[(a * w).ravel(), np.zeros(padding)]))


@pytest.mark.parametrize("params", REQUANT_CONFIGS, ids=_id)
def test_requant_shift_sweep(sim, params):
    """Every shift from -31 to 30, 4,096 vectors each (accumulators of every magnitude, the
    INT32 and multiplier extremes), under input gaps and backpressure."""
    config = configure("requant", params)
    per_shift = SIZES[sim]["per_shift"]
    vectors = requant_shift_sweep(config.component, np.random.default_rng(4), per_shift)
    result = play("requant", params, vectors, sim=sim, seed=6, valid_probability=0.8,
                  ready_probability=0.7, depth=DEPTH)
    assert result.checked == 62 * per_shift
    lo, hi = vectors["qmin"], vectors["qmax"]
    assert (result.outputs == lo).any() and (result.outputs == hi).any()   # both clamps


# One worker plays every width: they share one player build (and its lock) per simulator,
# so on two workers one would wait out the other's build and runs (about 30 s).
@pytest.mark.xdist_group("dnateq_codes")
@pytest.mark.parametrize("bits", range(3, N_BITS + 1))
def test_dnateq_random_codes(sim, bits):
    """Random codes of each width (narrower ones widened), lengths up to 384 and a random
    LUT; a different stall pattern per width."""
    params, count = DNATEQ, SIZES[sim]["codes"]
    config = configure("dnateq", params)
    vectors = dnateq_random_codes(config.component, np.random.default_rng(bits), count, bits)
    valid_p, ready_p = STALLS[bits % len(STALLS)]
    result = play("dnateq", params, vectors, sim=sim, seed=bits, valid_probability=valid_p,
                  ready_probability=ready_p, depth=DNATEQ_DEPTH)
    assert result.checked == count * PES


@pytest.mark.parametrize("stall", range(len(STALLS)))
def test_huffman_round_trips(sim, stall):
    """Streams under skewed, flat and single-symbol histograms, a table reload before each
    (empty streams among them)."""
    config = configure("huffman", {})
    vectors = huffman_round_trips(config.component, np.random.default_rng(20 + stall), 60,
                                  1500)
    valid_p, ready_p = STALLS[stall]
    result = play("huffman", {}, vectors, sim=sim, seed=stall, valid_probability=valid_p,
                  ready_probability=ready_p, depth=DEPTH)
    assert result.checked == vectors["symbols"].size > 20000
    assert result.status == {"error": False, "error_kind": "none"}


# The widest dequantizer of the cocotb matrix (quantrtl.blocks: dqa); its cocotb test streams
# the corners of this product only.
DQA_WIDEST = {"n": 8, "m": 8}


def test_dqa_every_pair(sim):
    """Every (q, err) pair of the widest dequantizer (65,536), on an important and an
    ordinary channel, under gaps on both inputs and backpressure."""
    from quantrtl.blocks import BLOCKS
    assert DQA_WIDEST in BLOCKS["dqa"].sim_matrix(sim)
    config = configure("dqa", DQA_WIDEST)
    vectors = dqa_every_pair(config.component, np.random.default_rng(30))
    result = play("dqa", DQA_WIDEST, vectors, sim=sim, seed=7, valid_probability=0.8,
                  ready_probability=0.7, depth=DEPTH)
    assert result.checked == vectors["q"].size == 2 << 16
    q, err = vectors["q"][:, 0], vectors["err"][:, 0]
    assert np.unique(q * 256 + err).size == 65536                       # every pair
    out = np.asarray(result.outputs).reshape(-1, 2)
    assert np.array_equal(out[:, 0], (q << 8) + err) and np.array_equal(out[:, 1], q << 8)


@pytest.fixture(scope="module")
def layer():
    """``(layer, tokens [groups], channels [groups, 4])``: every output channel of the
    sentence's tokens, four channels (one per PE) per dot-product group."""
    from quantrtl.headline_workloads import minilm_layer
    layer = minilm_layer(384)
    channels = np.arange(layer.w.shape[0]).reshape(-1, PES)          # [384, 4]
    tokens = np.repeat(np.arange(LAYER_TOKENS), channels.shape[0])
    return layer, tokens, np.tile(channels, (LAYER_TOKENS, 1))


def test_minilm_layer_int8(sim, layer):
    """The sentence's layer through the MAC array (8 lanes, 4 PEs) and the requantizer (on
    the MAC's own results), bit-exact with golden; the int8 outputs follow the float
    layer."""
    from quantrtl.headline_workloads import int8_vectors
    layer, tokens, channels = layer
    groups = SIZES[sim]["int8_groups"]
    tokens, channels = tokens[:groups], channels[:groups]
    mac, requant, _ = int8_vectors(layer, tokens, channels)
    params = MAC_CONFIGS[1]
    assert configure("mac", params).component.pes == PES
    accs = play("mac", params, mac, sim=sim, seed=1, valid_probability=0.9,
                ready_probability=0.9, depth=DEPTH)
    assert accs.checked == groups * PES
    assert np.array_equal(np.asarray(accs.outputs).reshape(-1), requant["acc"])
    requant = dict(requant, acc=np.asarray(accs.outputs).reshape(-1))
    out = play("requant", {}, requant, sim=sim, seed=2, depth=DEPTH)
    assert out.checked == groups * PES
    from quantrtl.golden.quant import calibrate
    qy = calibrate(layer.y, bits=8, symmetric=False)
    y = (np.asarray(out.outputs, dtype=np.float64) - qy.zero_point) * qy.scale
    ref = layer.y[tokens[:, None], channels].reshape(-1)
    assert np.corrcoef(y, ref)[0, 1] > 0.99


def test_minilm_layer_dnateq(sim, layer):
    """The sentence's layer through the DNA-TEQ engine (n = 5, 1 lane, 4 PEs, the LUT
    built from the layer's parameters) and the output encoder (on the engine's own
    results), bit-exact with golden; the engine's results follow the float layer."""
    from quantrtl.headline_workloads import FRAC_BITS, MAX_LENGTH, dnateq_vectors, result_width
    layer, tokens, channels = layer
    groups = SIZES[sim]["dnateq_groups"]
    tokens, channels = tokens[:groups], channels[:groups]
    engine, encoder, _ = dnateq_vectors(layer, N_BITS, tokens, channels)
    results = play("dnateq", DNATEQ, engine, sim=sim, seed=3, valid_probability=0.9,
                   ready_probability=0.9, depth=DNATEQ_DEPTH)
    r = np.asarray(results.outputs).reshape(-1)
    assert results.checked == groups * PES and np.array_equal(r, encoder["r"])
    params = {"n": N_BITS, "width": result_width(MAX_LENGTH)}
    codes = play("dnaenc", params, dict(encoder, r=r), sim=sim, seed=4, depth=DEPTH)
    assert codes.checked == groups * PES
    ref = np.einsum("gk,gpk->gp", layer.x[tokens], layer.w[channels]).reshape(-1)
    assert np.corrcoef(r * 2.0 ** -FRAC_BITS, ref)[0, 1] > 0.95
