"""The vector layer: how a block's data becomes stream beats and back, without cocotb.

- :mod:`.codec`: payload words from the block's Amaranth layouts;
- :mod:`.adapters` (and one module per block: :mod:`.dnateq`, :mod:`.dqa`,
  :mod:`.huffman`, :mod:`.dnaenc`): a vector set (a dict of NumPy arrays, the format of
  ``quantrtl run`` files) to input beats, configuration-port values, golden results and a
  cycle model;
- :mod:`.huffman_model`: the Huffman decoder's beat-level reference;
- :mod:`.workloads`: the synthetic energy workloads of every block.

Used by the cocotb harness (:mod:`quantrtl.tb`), the native gate-level energy run
(:mod:`quantrtl.synth`) and the vector player alike.
"""

# The clock period every simulation of a block runs at (cocotb clocks, VCD windows).
CLOCK_PERIOD_NS = 10

__all__ = ["CLOCK_PERIOD_NS"]
