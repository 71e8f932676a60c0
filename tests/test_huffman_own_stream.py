"""``quantrtl run huffman`` on a stream of your own (``counts``, ``code_symbols``, ``words``,
``count``): good, corrupt tables and corrupt streams go through the RTL and their outcome
(symbols, ``error``, ``error_kind``) is compared with the golden decoder's; only malformed
files are refused, with a one-line error."""

import numpy as np
import pytest

from quantrtl.golden.huffman import build_code, encode
from quantrtl.cli import main

SYMBOLS = np.array([3, 1, 1, 0, 2, 2, 2, 2, 5, 1, 0, 2] * 6)
CODE = build_code(SYMBOLS, 8, alphabet_size=16)
ENC = encode(SYMBOLS, CODE, 32)


def _own(**changes):
    vectors = {"counts": CODE.counts.copy(), "code_symbols": CODE.symbols.copy(),
               "words": ENC.words.astype(np.uint64), "count": np.int64(ENC.count)}
    vectors.update(changes)
    return vectors


def _flipped():
    words = ENC.words.astype(np.uint64).copy()
    words[0] ^= np.uint64(0xF0F0F0F0)
    return words


def _more_codes():
    counts = CODE.counts.copy()
    counts[-1] += 1
    return counts


# name: (vectors, golden error_kind) -- every one goes through the RTL
CASES = {
    "good": (_own(), "none"),
    "claims more symbols": (_own(count=np.int64(ENC.count + 40)), "truncated"),
    "claims fewer symbols": (_own(count=np.int64(ENC.count - 40)), "protocol"),
    "a word cut off": (_own(words=ENC.words[:-1].astype(np.uint64)), "truncated"),
    "flipped bits": (_own(words=_flipped()), None),                 # whatever golden says
    "counts sum to more than the symbols": (_own(counts=_more_codes()), "protocol"),
    "a symbol dropped": (_own(code_symbols=CODE.symbols[:-1]), "protocol"),
    "a symbol repeated": (_own(code_symbols=np.r_[CODE.symbols[:-1], CODE.symbols[:1]]),
                          "protocol"),
    "a length beyond the block's": (_own(counts=np.r_[CODE.counts, [0] * 9, [1]]), "protocol"),
    "count 0 with words": (_own(count=np.int64(0)), "protocol"),
    "no words": (_own(words=np.zeros(0, np.uint64)), "truncated"),
}


def _run(tmp_path, vectors, *args):
    src, out = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(src, **vectors)
    status = main(["run", "huffman", str(src), "-o", str(out), *args])
    with np.load(out) as npz:
        return status, {k: npz[k] for k in npz.files}


def _cases_for(sim):
    """With both simulators in the session and available, every other case on each (each
    case is one CLI launch, whose cost is mostly the simulator's start-up); else all."""
    from conftest import session_sims
    sims = session_sims()
    cases = list(CASES.items())
    return cases[sims.index(sim)::len(sims)] if sim in sims else cases


@pytest.mark.sim
def test_own_streams_go_through_the_rtl(tmp_path, sim):
    """Each case's RTL outcome equals the golden one (exit 0), its error kind is what the
    case is about; the output npz holds both sides."""
    kinds, cases = set(), _cases_for(sim)
    for name, (vectors, kind) in cases:
        status, out = _run(tmp_path, vectors, "--sim", sim, "--ready-probability", "0.7",
                           "--valid-probability", "0.8", "--seed", "3")
        assert status == 0, name
        assert str(out["error_kind"]) == str(out["golden_error_kind"]), name
        assert bool(out["error"]) == bool(out["golden_error"]) == (out["error_kind"] != "none")
        assert np.array_equal(out["symbols"], out["golden_symbols"]), name
        if kind is not None:
            assert str(out["error_kind"]) == kind, (name, out["error_kind"])
        kinds.add(str(out["error_kind"]))
        if name == "good":
            assert np.array_equal(out["symbols"], SYMBOLS)
    assert kinds >= {kind for _, (_, kind) in cases if kind is not None}


MALFORMED = {
    "missing field": ({k: v for k, v in _own().items() if k != "count"}, "missing field 'count'"),
    "unknown field": (dict(_own(), symbols=SYMBOLS), "unknown field 'symbols'"),
    "float words": (_own(words=np.array([0.5, 1.0])), "words must hold integers"),
    "2-d words": (_own(words=ENC.words.reshape(1, -1).astype(np.uint64)),
                  "words must be one-dimensional"),
    "word too wide": (_own(words=np.array([1 << 40], np.uint64)), r"words\[0\]=1099511627776"),
    "negative count": (_own(counts=np.r_[CODE.counts[:-1], [-1]]), r"counts\[8\]=-1"),
    "2-d counts": (_own(counts=CODE.counts.reshape(1, -1)), "counts must be one-dimensional"),
    "too many symbols": (_own(code_symbols=np.zeros(300, np.int64)),
                         "at most 256 entries"),
    "count not scalar": (_own(count=np.array([1, 2])), "count must be a scalar"),
    "text count": (_own(count=np.array("seven")), "count must hold integers"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_own_streams_are_refused(tmp_path, capsys, case):
    vectors, message = MALFORMED[case]
    src = tmp_path / "in.npz"
    np.savez(src, **vectors)
    assert main(["run", "huffman", str(src), "-o", str(tmp_path / "out.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    import re
    assert re.search(message, err), err
