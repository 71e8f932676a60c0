"""cocotb test behind ``quantrtl run``: drive a user's vector file through the RTL.

Reads the vectors from ``QUANTRTL_VECTORS`` (npz), writes what the RTL produced to
``QUANTRTL_OUTPUT`` (npz, one array named after the block's output, the adapter's status
fields if it has any, plus ``cycles``).  The
comparison with the golden model is done by the caller, so that a mismatch still yields the
RTL's outputs.
"""

import os

import cocotb
import numpy as np

from ..env import start
from ..harness import read_status, run_vectors
from quantrtl.blocks import adapter_for


@cocotb.test()
async def run_vector_file(dut):
    env = await start(dut)
    with np.load(os.environ["QUANTRTL_VECTORS"]) as npz:
        vectors = {name: npz[name] for name in npz.files}
    received, monitor = await run_vectors(
        env, vectors, check=False,
        valid_probability=env.option("valid_probability", 1.0),
        ready_probability=env.option("ready_probability", 1.0))
    adapter = adapter_for(env.block.name, env.component)
    np.savez(os.environ["QUANTRTL_OUTPUT"],
             **{adapter.output: np.array(received, dtype=np.int64)},
             **read_status(adapter, dut), cycles=np.int64(monitor.cycles))
