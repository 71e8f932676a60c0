"""Quantization experiments on real models (``quantrtl experiment ...``, ``make experiments``)."""
