"""The Huffman decoder's and the DQA dequantizer's cocotb testbenches, over parameters and
simulators."""

import pytest

from tb.runner import simulate

HUFFMAN_PARAMS = [
    {},                                                                # 4-bit symbols, L 8, 32-bit words, 1/clock
    {"lanes": 2, "symbol_bits": 3, "max_length": 12, "word_width": 16},
    {"lanes": 4, "symbol_bits": 2, "max_length": 3, "word_width": 64},
]
DQA_PARAMS = [
    {},                                                                # n 4, m 3
    {"n": 3, "m": 1},
    {"n": 8, "m": 8},
]


def _id(params):
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


@pytest.mark.sim
@pytest.mark.parametrize("params", HUFFMAN_PARAMS, ids=_id)
def test_huffman(sim, params):
    simulate("huffman", params, "tb.test_huffman", sim=sim)


@pytest.mark.sim
@pytest.mark.parametrize("params", DQA_PARAMS, ids=_id)
def test_dqa(sim, params):
    simulate("dqa", params, "tb.test_dqa", sim=sim)


@pytest.mark.sim
def test_run_vectors_with_several_symbols_per_beat(sim):
    """``quantrtl run``'s path (tb.harness via the adapter) on a 2-lane decoder: several
    streams (one empty), random gaps and backpressure, every symbol checked."""
    import numpy as np

    from tb.runner import run_block

    rng = np.random.default_rng(17)
    symbols = np.minimum(rng.geometric(0.45, 1500) - 1, 7)
    rtl, golden, _ = run_block("huffman", HUFFMAN_PARAMS[1],
                               {"symbols": symbols, "lengths": np.array([600, 0, 900])},
                               sim=sim, valid_probability=0.8, ready_probability=0.6)
    assert np.array_equal(golden, symbols) and np.array_equal(rtl, golden)
