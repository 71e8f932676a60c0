"""Random vector sets of every block, sized in input beats: the stimulus of the vector
player's tests and of the verification bench (every field inside the block's ranges, zero
codes, gaps in the packet lengths and table reloads included)."""

from __future__ import annotations

import numpy as np

from quantrtl.spec import MULTIPLIER_MAX, MULTIPLIER_MIN, SHIFT_MAX, SHIFT_MIN

__all__ = ["random_vectors", "signed_values", "GENERATORS"]


def signed_values(rng, width, size):
    """Uniform signed ``width``-bit integers of shape ``size``."""
    return rng.integers(-(1 << (width - 1)), 1 << (width - 1), size=size)


def _mac(c, rng, beats):
    """Rows of 1..4 beats (random lengths), biases and the input offset when built."""
    k = 4 * c.lanes
    rows = beats // 3
    a = signed_values(rng, c.width, (rows, k))
    w = signed_values(rng, c.width, (rows, k) if c.pes == 1 else (rows, c.pes, k))
    vectors = {"a": a, "w": w, "length": c.lanes * rng.integers(1, 5, size=rows)}
    if c.bias:
        vectors["bias"] = signed_values(rng, c.acc_width - 2, rows if c.pes == 1 else (rows, c.pes))
    if c.offset:
        vectors["input_offset"] = np.int64(rng.integers(-(1 << c.width), 1 << c.width))
    return vectors


def _requant(c, rng, beats):
    lo, hi = -(1 << (c.out_width - 1)), (1 << (c.out_width - 1)) - 1
    zero_point = int(rng.integers(lo // 2, hi // 2))
    return {"acc": signed_values(rng, 32, beats) >> rng.integers(0, 24, size=beats),
            "multiplier": rng.integers(MULTIPLIER_MIN, MULTIPLIER_MAX, size=beats,
                                       endpoint=True),
            "shift": rng.integers(SHIFT_MIN, SHIFT_MAX, size=beats, endpoint=True),
            "zero_point": np.int64(zero_point), "qmin": np.int64(lo + 3),
            "qmax": np.int64(hi - 5)}


def _dnateq(c, rng, beats):
    k = min(c.max_length, 4 * c.lanes)
    rows = max(1, (beats - c.entries) // 4)
    codes = (lambda shape: np.where(rng.random(shape) < 0.2, c.zero_code,
                                    rng.integers(0, 1 << c.n, size=shape)))
    return {"x": codes((rows, k)), "w": codes((rows, k) if c.pes == 1 else (rows, c.pes, k)),
            "length": rng.integers(1, k + 1, size=rows),
            "lut": rng.integers(0, 1 << c.lut_width, size=c.entries)}


def _huffman(c, rng, beats):
    symbols = np.minimum(rng.geometric(0.4, size=beats), (1 << c.symbol_bits)) - 1
    cut = sorted(rng.integers(0, beats, size=2))
    return {"symbols": symbols, "lengths": np.array([cut[0], cut[1] - cut[0], beats - cut[1]])}


def _dqa(c, rng, beats):
    channels = 16
    important = rng.random(channels) < 0.5
    q = signed_values(rng, c.n, (max(1, beats // channels), channels))
    err = rng.integers(0, 1 << c.m, size=q.shape) * important
    return {"q": q, "err": err, "important": important.astype(np.int64)}


def _dnaenc(c, rng, beats):
    top = (1 << (c.width - 1)) - 1
    table = np.concatenate([np.sort(rng.integers(0, top >> 4, size=size, endpoint=True))
                            for size in (c.m, c.m - 1)])
    span = int(table.max()) * 2 + 4
    r = np.concatenate([rng.integers(-span, span, size=max(0, beats - 8)),
                        [0, 1, -1, -(top + 1), top, span, -span, 2]])
    return {"r": r, "thresholds": table}


GENERATORS = {"mac": _mac, "requant": _requant, "dnateq": _dnateq, "huffman": _huffman,
              "dqa": _dqa, "dnaenc": _dnaenc}


def random_vectors(block: str, component, rng, beats: int) -> dict:
    """A random vector set of ``block`` (built as ``component``) of about ``beats`` input
    beats."""
    if block not in GENERATORS:
        raise ValueError(f"block={block!r} has no random vector generator: allowed "
                         f"{{{', '.join(GENERATORS)}}}")
    return GENERATORS[block](component, rng, beats)
