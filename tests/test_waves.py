"""Waveforms on request (``--waves``, ``WAVES=1``): FST on both simulators -- Icarus through
cocotb's dump module, Verilator with ``--trace-fst`` where the lz4 headers are installed
(``make sim WAVES=1`` installs them; without them Verilator writes VCD)."""

import numpy as np
import pytest

from quantrtl.blocks import get_block
from quantrtl.tb import runner
from quantrtl.tb.runner import build_dir_for, run_block

VECTORS = {"q": np.arange(-4, 4).reshape(1, 8), "err": np.zeros((1, 8), dtype=np.int64),
           "important": np.ones(8, dtype=np.int64)}


@pytest.mark.sim
def test_waves_are_fst(sim):
    if sim == "verilator" and not runner.fst_available():
        pytest.skip(f"no {runner.LZ4_HEADER} (apt-get install liblz4-dev, as make lz4 does): "
                    "Verilator writes VCD")
    result = run_block("dqa", {}, VECTORS, sim=sim, waves=True)
    assert np.array_equal(result.rtl, result.expected)
    build = build_dir_for(sim, "dqa", get_block("dqa").resolve({}))
    build = build.with_name(build.name + "-waves")
    waves = sorted(build.glob("*.fst"))
    assert waves and waves[0].stat().st_size > 0, sorted(p.name for p in build.iterdir())
    assert not list(build.glob("*.vcd"))
