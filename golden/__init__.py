"""NumPy golden model of quantrtl's blocks.

Pure, vectorised, integer-exact functions; the RTL must match them bit for bit.

- :mod:`golden.quant`   -- uniform affine quantization (scales, zero points, calibration);
- :mod:`golden.requant` -- TFLite's fixed-point multiplier and requantization (SPEC 2);
- :mod:`golden.mac`     -- the integer dot product of the MAC unit (SPEC 1);
- :mod:`golden.fc`      -- TFLite's int8 fully-connected kernel built from the two above.
"""
