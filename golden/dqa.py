"""DQA: deep activation quantization with shifting errors (SPEC 4, arXiv 2412.09687).

Activations ``x`` are ``[..., channels]`` (the channel axis is the last one) quantized
symmetrically at ``n`` bits (3..5) with scale ``s`` (per tensor, or one per channel):

- ordinary channels: ``q = clamp(round(x / s), -2^(n-1), 2^(n-1) - 1)``;
- important channels get ``m`` extra bits (1..4): ``q' = clamp(round(x * 2^m / s),
  -2^(n+m-1), 2^(n+m-1) - 1)`` at scale ``s / 2^m``, stored as ``q = q' >> m`` (arithmetic,
  so ``q`` is ``n``-bit) and the shifting error ``err = q' - (q << m)``, in ``[0, 2^m)``.

Which channels are important (the ``important`` argument everywhere) is given either as a
boolean mask ``[channels]`` or as integer channel indices; floats and anything else are a
``ValueError`` (an integer 0/1 array is read as indices, never as a mask).

Rounding is to nearest, ties away from zero (as :mod:`golden.quant`).  Dequantization:
``x_hat = ((q << m) + err) * s / 2^m`` for important channels, ``q * s`` for the others.
The hardware dequantizer (:mod:`hw.dqa`) outputs the integer :func:`join`:
``(q << m) + err`` (``err = 0`` on ordinary channels), all on the scale ``s / 2^m``.

The default scale is ``max|x| / (2^(n-1) - 1)`` (per tensor or per channel, 1.0 for an
all-zero range).  The shifting errors of a tensor, in row-major order of its important
elements (:func:`error_stream`), are what :mod:`golden.huffman` codes.

Offline, :func:`rank_channels` orders the channels by a greedy search on training data: it
starts from no important channel and repeatedly adds the channel(s) whose promotion lowers a
caller-given loss the most (the network's loss, the next layer's output error -- see
:func:`output_error_loss` -- ...); :func:`important_channels` takes the first
``ratio * channels`` of that order.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from quantrtl.spec import (DQA_JOIN_M_BITS, DQA_JOIN_N_BITS, DQA_M_BITS, DQA_N_BITS,
                           check_array_range, check_int, check_integer_array, check_real_array)
from ._ints import round_half_away, signed_range

__all__ = ["N_BITS", "M_BITS", "calibrate_scale", "quantize", "dequantize", "join",
           "error_stream", "important_channels", "rank_channels", "output_error_loss"]

N_BITS, M_BITS = DQA_N_BITS, DQA_M_BITS


def _check_nm(n, m):
    return check_int("n", n, *N_BITS), check_int("m", m, *M_BITS)


def _activations(x, name="x"):
    x = check_real_array(name, x)
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ValueError(f"{name} must be [..., channels] with at least one channel, got "
                         f"{x.shape}")
    return x


def _mask(important, channels: int) -> np.ndarray:
    """A boolean ``[channels]`` mask from ``important``, which is either

    - a boolean mask of shape ``[channels]`` (dtype ``bool``: ``True`` marks an important
      channel), or
    - integer channel indices (any shape, each in ``[0, channels)``; repeats allowed).

    Nothing else is accepted: floats (even integral ones) and 0/1 integer masks are
    ambiguous -- ``[1, 0, 1]`` is read as the indices 1, 0, 1 -- so floats, text and
    objects are a ``ValueError``.  An empty list means no important channel."""
    important = np.asarray(important)
    if important.size == 0 and important.dtype != np.bool_:
        return np.zeros(channels, dtype=bool)
    if important.dtype == np.bool_:
        if important.shape != (channels,):
            raise ValueError(f"important mask must be [{channels}], got {important.shape}")
        return important.copy()
    if important.dtype.kind not in "iu":
        raise ValueError(f"important must be a boolean mask [{channels}] or integer channel "
                         f"indices, got dtype {important.dtype}")
    idx = check_array_range("important", np.ravel(important), 0, channels - 1)
    mask = np.zeros(channels, dtype=bool)
    mask[idx] = True
    return mask


def _scale(scale, channels: int) -> np.ndarray:
    scale = check_real_array("scale", scale)
    if scale.ndim == 0:
        scale = np.full(channels, float(scale))
    if scale.shape != (channels,) or not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise ValueError(f"scale must be positive and finite, a scalar or [{channels}]")
    return scale


def calibrate_scale(x, n: int, *, per_channel: bool = False):
    """``max|x| / (2^(n-1) - 1)`` per tensor (a float) or per channel (``[channels]``)."""
    n = check_int("n", n, *N_BITS)
    x = _activations(x)
    amax = np.abs(x).reshape(-1, x.shape[-1]).max(axis=0) if per_channel else np.abs(x).max()
    qmax = (1 << (n - 1)) - 1
    scale = np.where(amax > 0, amax / qmax, 1.0)
    return scale if per_channel else float(scale)


def quantize(x, scale, important, n: int, m: int):
    """``(q, err)`` int64 arrays of ``x``'s shape (``err = 0`` on ordinary channels)."""
    n, m = _check_nm(n, m)
    x = _activations(x)
    channels = x.shape[-1]
    mask = _mask(important, channels)
    s = _scale(scale, channels)
    lo, hi = signed_range(n)
    q_plain = np.clip(round_half_away(x / s), lo, hi).astype(np.int64)
    lo2, hi2 = signed_range(n + m)
    q_ext = np.clip(round_half_away(x * (1 << m) / s), lo2, hi2).astype(np.int64)
    q = np.where(mask, q_ext >> m, q_plain)
    err = np.where(mask, q_ext & ((1 << m) - 1), 0)
    return q, err


def join(q, err, important, n: int, m: int) -> np.ndarray:
    """The integer the dequantizer hardware outputs: ``(q << m) + err`` (``err`` ignored,
    taken as 0, on ordinary channels); ``x_hat = join * s / 2^m``.  Accepts the hardware's
    wider ranges, ``n`` in 2..8 and ``m`` in 1..8."""
    n, m = check_int("n", n, *DQA_JOIN_N_BITS), check_int("m", m, *DQA_JOIN_M_BITS)
    q = check_array_range("q", q, *signed_range(n))
    err = check_array_range("err", err, 0, (1 << m) - 1)
    mask = _mask(important, q.shape[-1])
    return (q << m) + np.where(mask, err, 0)


def dequantize(q, err, scale, important, n: int, m: int) -> np.ndarray:
    """``x_hat = ((q << m) + err) * s / 2^m`` on important channels, ``q * s`` elsewhere."""
    joined = join(q, err, important, n, m)
    s = _scale(scale, joined.shape[-1])
    return joined * (s / (1 << m))


def error_stream(err, important) -> np.ndarray:
    """The shifting errors of the important elements, row-major (the Huffman-coded stream)."""
    err = check_integer_array("err", err)
    mask = _mask(important, err.shape[-1])
    return err.reshape(-1, err.shape[-1])[:, mask].reshape(-1)


def important_channels(order, ratio: float, channels: int | None = None) -> np.ndarray:
    """Mask of the first ``round(ratio * channels)`` channels of ``order``."""
    order = check_integer_array("order", order)
    channels = order.size if channels is None else channels
    if not 0.0 <= float(ratio) <= 1.0:
        raise ValueError(f"ratio={ratio} is out of range: allowed [0, 1]")
    k = int(round_half_away(float(ratio) * channels))
    return _mask(order[:k], channels)


def output_error_loss(x, weight) -> Callable[[np.ndarray], float]:
    """A ranking loss: the next linear layer's mean squared output error,
    ``mean(((x_hat - x) @ weight.T)^2)`` (``weight`` is ``[out_features, channels]``)."""
    x = _activations(x)
    weight = check_real_array("weight", weight)
    if weight.ndim != 2 or weight.shape[1] != x.shape[-1]:
        raise ValueError(f"weight must be [out, {x.shape[-1]}], got {weight.shape}")
    flat = x.reshape(-1, x.shape[-1])

    def loss(x_hat):
        delta = np.asarray(x_hat).reshape(flat.shape) - flat
        return float(np.mean((delta @ weight.T) ** 2))
    return loss


def rank_channels(x, loss: Callable[[np.ndarray], float], n: int, m: int, *, scale=None,
                  per_channel: bool = False, step: int = 1, limit: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Greedy offline channel ranking (most important first).

    Starting from no important channel, each round evaluates ``loss(x_hat)`` for every
    remaining channel promoted to important (``x_hat`` dequantized by :func:`dequantize`)
    and appends the ``step`` channels with the lowest loss (``step = 1``: pure greedy
    forward selection, ``O(channels^2)`` loss calls; larger steps trade fidelity for
    speed).  After ``limit`` channels are ranked, the rest follow in order of their last
    evaluated loss.  Ties go to the lower channel index.
    """
    n, m = _check_nm(n, m)
    x = _activations(x)
    channels = x.shape[-1]
    step = check_int("step", step, 1, channels)
    limit = channels if limit is None else check_int("limit", limit, 0, channels)
    s = calibrate_scale(x, n, per_channel=per_channel) if scale is None else scale
    s = _scale(s, channels)
    # Each channel's two dequantized versions, computed once.
    q0, e0 = quantize(x, s, np.zeros(channels, bool), n, m)
    plain = dequantize(q0, e0, s, np.zeros(channels, bool), n, m)
    q1, e1 = quantize(x, s, np.ones(channels, bool), n, m)
    promoted = dequantize(q1, e1, s, np.ones(channels, bool), n, m)
    current = plain.copy()
    order: list[int] = []
    remaining = list(range(channels))
    last = np.zeros(channels)
    while remaining and len(order) < limit:
        scores = np.empty(len(remaining))
        for k, c in enumerate(remaining):
            saved = current[..., c].copy()
            current[..., c] = promoted[..., c]
            scores[k] = loss(current)
            current[..., c] = saved
        last[remaining] = scores
        take = np.argsort(scores, kind="stable")[:min(step, limit - len(order))]
        chosen = [remaining[k] for k in take]
        for c in chosen:
            current[..., c] = promoted[..., c]
        order.extend(chosen)
        remaining = [c for c in remaining if c not in set(chosen)]
        if progress is not None:
            progress(len(order), channels)
    rest = sorted(remaining, key=lambda c: (last[c], c))
    return np.array(order + rest, dtype=np.int64)
