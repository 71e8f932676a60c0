"""The DQA pair sets of :mod:`quantrtl.vectors.bulk`: every pair once; the corners cover
every q and every error value (the coverage bins of the cocotb test that streams them) with
each extreme on the other side."""

import numpy as np
import pytest

from quantrtl.blocks import configure
from quantrtl.vectors.bulk import dqa_every_pair, every_pair, pair_extremes


@pytest.mark.parametrize("n, m", [(2, 1), (3, 2), (8, 8)])
def test_every_pair_and_its_corners(n, m):
    lo, hi = -(1 << (n - 1)), (1 << (n - 1)) - 1
    q, err = every_pair(n, m)
    assert q.size == err.size == 1 << (n + m)
    assert np.unique(np.stack([q, err], 1), axis=0).shape[0] == q.size
    cq, ce = pair_extremes(n, m)
    pairs = set(zip(cq.tolist(), ce.tolist()))
    assert len(pairs) == cq.size and pairs <= set(zip(q.tolist(), err.tolist()))
    assert set(cq.tolist()) == set(range(lo, hi + 1))
    assert set(ce.tolist()) == set(range(1 << m))
    for v in range(lo, hi + 1):
        assert {(v, 0), (v, (1 << m) - 1)} <= pairs
    for e in range(1 << m):
        assert {(lo, e), (hi, e), (0, e), (-1, e)} <= pairs


def test_dqa_every_pair_is_a_valid_vector_set():
    from quantrtl.vectors.dqa import DqaAdapter
    config = configure("dqa", {"n": 3, "m": 2})
    vectors = dqa_every_pair(config.component, np.random.default_rng(1))
    adapter = DqaAdapter(config.component)
    out = adapter.golden(vectors).reshape(-1, 2)
    q, err = vectors["q"][:, 0], vectors["err"][:, 0]
    assert sorted(zip(q.tolist(), err.tolist())) == sorted(zip(*map(np.ndarray.tolist,
                                                                   every_pair(3, 2))))
    assert np.array_equal(out[:, 0], (q << 2) + err) and np.array_equal(out[:, 1], q << 2)
    assert adapter.count(vectors) == 2 * 32
