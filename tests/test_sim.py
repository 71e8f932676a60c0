"""The cocotb testbenches, over block parameters and simulators."""

import pytest

from quantrtl.tb.runner import simulate

MAC_PARAMS = [
    {},                                                            # 1 lane, int8, 32-bit wrap
    {"lanes": 8},                                                  # the TFLite test's config
    {"lanes": 2, "width": 6, "acc_width": 14, "overflow": "saturate"},
    {"lanes": 3, "width": 4, "acc_width": 12, "offset": False, "bias": False},
    {"zero_skip": False},                                          # the structure without it
    {"pes": 4},                                                    # output-stationary array
    {"pes": 3, "lanes": 2, "width": 6, "acc_width": 14, "overflow": "saturate"},
    {"pes": 4, "lanes": 2, "width": 4, "acc_width": 12, "overflow": "saturate",
     "zero_skip": False, "offset": False},
]
REQUANT_PARAMS = [
    {},                                                            # single rounding, latency 2
    {"rounding": "double", "latency": 1},
    {"rounding": "double", "latency": 3, "out_width": 16},
    {"rounding": "single", "latency": 3, "out_width": 32},
]


def _id(params):
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


@pytest.mark.sim
@pytest.mark.parametrize("params", MAC_PARAMS, ids=_id)
def test_mac(sim, params):
    simulate("mac", params, "quantrtl.tb.tests.test_mac", sim=sim)


@pytest.mark.sim
@pytest.mark.parametrize("params", REQUANT_PARAMS, ids=_id)
def test_requant(sim, params):
    simulate("requant", params, "quantrtl.tb.tests.test_requant", sim=sim)
