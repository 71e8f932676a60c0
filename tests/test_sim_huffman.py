"""``quantrtl run``'s path on the Huffman decoder and the DQA dequantizer (their cocotb
testbenches over the registered matrix are in test_sim.py)."""

import pytest

from quantrtl.blocks import get_block

HUFFMAN_PARAMS = get_block("huffman").sim_matrix("*")
DQA_PARAMS = get_block("dqa").sim_matrix("*")


def _id(params):
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


@pytest.mark.sim
def test_run_vectors_with_several_symbols_per_beat(sim):
    """``quantrtl run``'s path (tb.harness via the adapter) on a 2-lane decoder: several
    streams (one empty), random gaps and backpressure, every symbol checked."""
    import numpy as np

    from quantrtl.tb.runner import run_block

    rng = np.random.default_rng(17)
    symbols = np.minimum(rng.geometric(0.45, 1500) - 1, 7)
    rtl, golden, _, status, golden_status = run_block(
        "huffman", HUFFMAN_PARAMS[1], {"symbols": symbols, "lengths": np.array([600, 0, 900])},
        sim=sim, valid_probability=0.8, ready_probability=0.6)
    assert np.array_equal(golden, symbols) and np.array_equal(rtl, golden)
    assert status == golden_status == {"error": False, "error_kind": "none"}


@pytest.mark.sim
@pytest.mark.parametrize("params", DQA_PARAMS[:2], ids=_id)
def test_run_vectors_drives_the_dqa_error_stream(sim, params):
    """``quantrtl run dqa``'s path: the adapter's side stream ``e`` is driven alongside
    ``i`` (both with random gaps, output with backpressure); every value checked."""
    import numpy as np

    from quantrtl.golden.dqa import calibrate_scale, quantize
    from quantrtl.tb.runner import run_block

    n, m = params.get("n", 4), params.get("m", 3)
    rng = np.random.default_rng(23)
    x = rng.standard_normal((30, 16))
    important = rng.random(16) < 0.5
    q, err = quantize(x, calibrate_scale(x, n), important, n, m)
    rtl, golden, *_ = run_block("dqa", params,
                               {"q": q, "err": err, "important": important.astype(int)},
                               sim=sim, valid_probability=0.7, ready_probability=0.6)
    assert golden.shape == (480,) and np.array_equal(rtl, golden)


def test_dqa_vectors_are_validated():
    import numpy as np

    from quantrtl.blocks import get_block
    from quantrtl.blocks import adapter_for

    adapter = adapter_for("dqa", get_block("dqa").build({}))
    good = {"q": np.zeros((2, 3), int), "err": np.zeros((2, 3), int),
            "important": np.array([1, 0, 1])}
    assert len(adapter.encode(good)) == 6 and adapter.side_streams(good) == {"e": [0] * 4}
    with pytest.raises(ValueError, match=r"q\[0, 1\]=8 is out of range: allowed \[-8, 7\]"):
        adapter.golden({**good, "q": np.array([[0, 8, 0], [0, 0, 0]])})
    with pytest.raises(ValueError, match=r"err\[1, 1\]=2 is out of range: allowed 0 on an "
                                         r"ordinary channel"):
        adapter.golden({**good, "err": np.array([[0, 0, 0], [0, 2, 0]])})
    with pytest.raises(ValueError, match=r"important must be \[C\]=3"):
        adapter.golden({**good, "important": np.array([1, 0])})
    with pytest.raises(ValueError, match="missing field 'important'"):
        adapter.golden({"q": good["q"], "err": good["err"]})
