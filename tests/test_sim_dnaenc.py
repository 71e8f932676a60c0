"""The DNA-TEQ output encoder's cocotb testbench (tb/tests/test_dnaenc.py) on both simulators.

Each simulator builds two parameter sets; together they cover every ``n`` from 3 to 7 and
result widths from 16 to 64 (the full int64 range at ``width = 64``).
"""

import pytest

from quantrtl.tb.runner import simulate

DNAENC_PARAMS = {
    "verilator": [
        {"n": 3, "width": 16},
        {"n": 5, "width": 38},
        {"n": 7, "width": 40},
    ],
    "icarus": [
        {"n": 4, "width": 24},
        {"n": 6, "width": 64},
        {"n": 7, "width": 40},
    ],
}


@pytest.mark.sim
@pytest.mark.parametrize("index", range(3))
def test_dnaenc(sim, index):
    params = DNAENC_PARAMS.get(sim, DNAENC_PARAMS["verilator"])[index]
    simulate("dnaenc", params, "quantrtl.tb.tests.test_dnaenc", sim=sim)
