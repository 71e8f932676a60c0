"""The base of the block adapters: a vector set's field checks, written once."""

from __future__ import annotations

import numpy as np

from quantrtl.spec import check_array_range, check_fields
from .codec import PayloadCodec

__all__ = ["Adapter"]


class Adapter:
    """How one block's vector sets (dicts of NumPy arrays) become input beats,
    configuration-port values, golden results and a cycle model.

    A subclass names its ``block`` (for messages), its ``output`` field, the ``required``
    and ``optional`` fields of a vector set, and implements :meth:`encode` (input payload
    words), :meth:`golden` (the expected outputs) and :meth:`count` (output items); it may
    override :meth:`config` (configuration ports), :meth:`cycles` (clocks at full
    throughput, for timeouts and the player), ``side_streams(vectors)`` (more input
    streams) and ``status_ports`` (ports read at the end, with ``status`` and
    ``golden_status``).  Every check raises a one-line ``ValueError``.
    """

    block = ""
    output = ""
    required: tuple = ()
    optional: tuple = ()
    status_ports: tuple = ()

    def __init__(self, component):
        self.c = component
        self.codec = PayloadCodec(component.input_layout)

    def check_fields(self, vectors) -> None:
        """Every required field present, none outside ``required`` and ``optional``."""
        check_fields(f"{self.block} vectors", vectors, self.required, self.optional)

    @staticmethod
    def scalar(vectors, name):
        """Field ``name`` as one value (a size-1 array of any shape)."""
        value = np.asarray(vectors[name])
        if value.size != 1:
            raise ValueError(f"{name} must be a scalar, got shape {value.shape}")
        return value.reshape(())[()]

    @staticmethod
    def port_value(vectors, name, default, lo, hi) -> int:
        """A configuration port's value from field ``name`` (a scalar in ``[lo, hi]``), or
        ``default`` when the vector set does not give it."""
        if name not in vectors:
            return default
        value = check_array_range(name, vectors[name], lo, hi)
        if value.size != 1:
            raise ValueError(f"{name} must be a scalar (it drives a configuration port), "
                             f"got shape {value.shape}")
        return int(value.reshape(()))

    def config(self, vectors) -> dict:
        """Configuration-port values (none by default)."""
        self.check_fields(vectors)
        return {}

    def cycles(self, vectors) -> int | None:
        """Clocks the block needs at full throughput; ``None``: one per input beat."""
        return None

    def encode(self, vectors) -> list[int]:
        raise NotImplementedError

    def golden(self, vectors) -> np.ndarray:
        raise NotImplementedError

    def count(self, vectors) -> int:
        raise NotImplementedError
