"""quantrtl: RTL generator and verification framework for quantized NN arithmetic.

One import package, in floors that import only downward (``ARCHITECTURE.md``):

- :mod:`quantrtl.spec`     -- parameter specs, checks, shared enums and ranges;
- :mod:`quantrtl.golden`   -- the integer-exact NumPy reference (repository folder ``golden/``);
- :mod:`quantrtl.hw`       -- the Amaranth hardware blocks (``hw/``);
- :mod:`quantrtl.vectors`  -- vector sets as stream beats, golden results, cycle models;
  :mod:`quantrtl.blocks`, the registry of blocks, on top of it;
- :mod:`quantrtl.tb`       -- cocotb streams, harness, runner, proofs (``tb/``);
- :mod:`quantrtl.synth`    -- synthesis, timing, energy (``synth/``);
- the application: the ``quantrtl`` command line, benches, experiments, reports.
"""

__version__ = "0.1.0"
