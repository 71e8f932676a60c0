"""Golden DQA quantization: shifting errors, dequantization, greedy channel ranking."""

import numpy as np
import pytest

from quantrtl.golden.dqa import (calibrate_scale, dequantize, error_stream, important_channels, join,
                        output_error_loss, quantize, rank_channels)

RNG = np.random.default_rng(4)


@pytest.mark.parametrize("n", [3, 4, 5])
@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("per_channel", [False, True])
def test_shifting_errors(n, m, per_channel):
    x = RNG.standard_normal((50, 16)) * RNG.uniform(0.1, 4, 16)
    scale = calibrate_scale(x, n, per_channel=per_channel)
    mask = RNG.random(16) < 0.5
    q, err = quantize(x, scale, mask, n, m)
    assert q.min() >= -(1 << (n - 1)) and q.max() <= (1 << (n - 1)) - 1
    assert err.min() >= 0 and err.max() < (1 << m)
    assert np.all(err[:, ~mask] == 0)
    # q' = (q << m) + err is the direct (n + m)-bit quantization at scale s / 2^m
    s = np.broadcast_to(scale, (16,))
    q_ext = np.clip(np.sign(x) * np.floor(np.abs(x * (1 << m) / s) + 0.5),
                    -(1 << (n + m - 1)), (1 << (n + m - 1)) - 1)
    assert np.array_equal(join(q, err, mask, n, m)[:, mask], q_ext[:, mask])
    x_hat = dequantize(q, err, scale, mask, n, m)
    inside = np.abs(x) <= s * ((1 << (n - 1)) - 1)
    # error bounds: s / 2^(m+1) on important channels, s / 2 on the others (inside range)
    bound = np.where(mask, s / (1 << (m + 1)), s / 2) * (1 + 1e-9)
    assert np.all((np.abs(x_hat - x) <= bound)[inside])
    assert np.abs(x_hat - x)[:, mask].mean() < np.abs(x_hat - x)[:, ~mask].mean() or not mask.any()


def test_error_stream_order_and_join():
    q = np.array([[1, -2, 3], [-4, 0, 2]])
    err = np.array([[5, 0, 7], [1, 0, 2]])
    mask = np.array([True, False, True])
    assert error_stream(err, mask).tolist() == [5, 7, 1, 2]
    assert join(q, err, mask, 3, 3).tolist() == [[13, -16, 31], [-31, 0, 18]]
    assert error_stream(err, [0, 2]).tolist() == [5, 7, 1, 2]


def test_rejects_bad_parameters():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"n=6 is out of range: allowed \[3, 5\]"):
        quantize(x, 1.0, [0], 6, 2)
    with pytest.raises(ValueError, match=r"m=0 is out of range: allowed \[1, 4\]"):
        quantize(x, 1.0, [0], 4, 0)
    with pytest.raises(ValueError, match="err"):
        join(np.zeros((1, 3), int), np.full((1, 3), 8), [0], 4, 3)
    with pytest.raises(ValueError, match="important"):
        quantize(x, 1.0, [3], 4, 2)
    with pytest.raises(ValueError, match="ratio"):
        important_channels([0, 1, 2], 1.5)


def test_greedy_ranking_finds_the_channel_that_matters():
    """The next layer reads mostly channel 5 and 2: they must rank first."""
    x = RNG.standard_normal((200, 8))
    weight = np.zeros((4, 8))
    weight[:, 5] = 10.0
    weight[:, 2] = 3.0
    weight[:, [0, 1, 3, 4, 6, 7]] = 0.01
    loss = output_error_loss(x, weight)
    order = rank_channels(x, loss, 3, 2)
    assert sorted(order.tolist()) == list(range(8))
    assert order[:2].tolist() == [5, 2]
    mask = important_channels(order, 0.25)
    assert np.flatnonzero(mask).tolist() == [2, 5]
    # greedy is monotone here: promoting the chosen channels lowers the loss
    scale = calibrate_scale(x, 3)
    base = loss(dequantize(*quantize(x, scale, [], 3, 2), scale, [], 3, 2))
    best = loss(dequantize(*quantize(x, scale, mask, 3, 2), scale, mask, 3, 2))
    assert best < base


def test_ranking_step_and_limit():
    x = RNG.standard_normal((40, 12))
    loss = output_error_loss(x, RNG.standard_normal((6, 12)))
    calls = []
    order = rank_channels(x, lambda v: calls.append(1) or loss(v), 4, 3, step=4, limit=8)
    assert sorted(order.tolist()) == list(range(12))
    assert len(calls) == 12 + 8          # two rounds: 12 then 8 candidates
