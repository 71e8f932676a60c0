"""Amaranth hardware blocks of quantrtl (one block per module).

- :class:`hw.mac.DotProductUnit`  -- the INT8 MAC / dot-product unit (SPEC 1);
- :class:`hw.requant.Requantizer` -- the TFLite-exact fixed-point requantizer (SPEC 2).
"""
