"""Every registered block's cocotb testbench over its registered parameter matrix, on each
simulator (``quantrtl.blocks``: ``test_module`` and ``sim_params``)."""

import pytest

from quantrtl.blocks import BLOCKS
from quantrtl.tb.runner import simulate

CASES = [(name, k) for name, block in BLOCKS.items()
         for k in range(max(len(v) for v in block.sim_params.values()))]


@pytest.mark.sim
@pytest.mark.parametrize("name, index", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_block(sim, name, index):
    block = BLOCKS[name]
    matrix = block.sim_matrix(sim)
    if index >= len(matrix):
        pytest.skip(f"{name} simulates {len(matrix)} parameter sets on {sim}")
    simulate(name, matrix[index], block.test_module, sim=sim)


def test_every_block_has_a_test_module_and_a_matrix():
    import importlib.util
    for block in BLOCKS.values():
        assert importlib.util.find_spec(block.test_module) is not None, block.test_module
        for sim in ("verilator", "icarus"):
            for params in block.sim_matrix(sim):
                block.configure(params)          # every set is valid
