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
