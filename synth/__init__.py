"""Yosys synthesis flows and reports (area, timing, energy) -- see the synthesis issue."""
