"""quantrtl: RTL generator and verification framework for quantized NN arithmetic.

The project is split by role into sibling packages:

- :mod:`golden`  -- the NumPy reference (integer-exact golden model);
- :mod:`hw`      -- the Amaranth hardware blocks;
- :mod:`tb`      -- cocotb testbenches, stream drivers/monitors and the runner;
- :mod:`quantrtl` -- the block registry and the ``quantrtl`` command line.
"""

__version__ = "0.1.0"
