"""The real models the experiments run on, behind one interface.

A :class:`Workload` has a model with ``linear_layers()``, ``weight(name)`` and
``forward(inputs, transform=, capture=)``; calibration inputs (to fit quantizers) and
evaluation inputs (disjoint); and an end metric of a ``transform`` (``None`` = float):

- ``minilm``: sentence-transformers/all-MiniLM-L6-v2 (the real pretrained Transformer,
  NumPy forward pass); metric = mean cosine similarity of the sentence embeddings to the
  float model's on the evaluation sentences;
- ``digits``: the MLP trained here on scikit-learn's digits; metric = top-1 accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from quantrtl.spec import check_choice, check_int

__all__ = ["Workload", "load_workload", "WORKLOADS"]

WORKLOADS = ("minilm", "digits")


@dataclass
class Workload:
    name: str
    model: object
    calibration: object
    evaluation: object
    metric_name: str
    _metric: Callable = field(repr=False)
    _activations: dict | None = field(default=None, repr=False)

    def metric(self, transform=None) -> float:
        return float(self._metric(transform))

    def activations(self) -> dict[str, np.ndarray]:
        """Input activations of every linear layer on the calibration inputs (cached)."""
        if self._activations is None:
            _, self._activations = self.model.forward(self.calibration, capture=True)
        return self._activations

    def layers(self) -> list[str]:
        return list(self.model.linear_layers())


def _minilm(size: int | None) -> Workload:
    from quantrtl.models.minilm import SENTENCES, MiniLM, cosine_similarity

    model = MiniLM.load()
    n = len(SENTENCES) if size is None else check_int("size", size, 4, len(SENTENCES))
    sentences = list(SENTENCES[:n])
    calibration, evaluation = sentences[: n // 2], sentences[n // 2:]
    reference = model.forward(evaluation)

    def metric(transform):
        if transform is None:
            return 1.0
        return np.mean(cosine_similarity(model.forward(evaluation, transform=transform),
                                         reference))

    return Workload("minilm", model, calibration, evaluation, "cosine similarity to float",
                    metric)


def _digits(size: int | None) -> Workload:
    from quantrtl.models.digits import DigitsMLP, load_digits_data

    data = load_digits_data()
    model = DigitsMLP.train(data)
    n_cal = len(data.y_train) if size is None else check_int("size", size, 10, len(data.y_train))
    n_eval = len(data.y_test) if size is None else min(size, len(data.y_test))
    calibration = data.x_train[:n_cal]
    x_eval, y_eval = data.x_test[:n_eval], data.y_test[:n_eval]

    def metric(transform):
        return model.accuracy(x_eval, y_eval, transform=transform)

    workload = Workload("digits", model, calibration, (x_eval, y_eval), "top-1 accuracy",
                        metric)
    workload.labels_train = data.y_train[:n_cal]
    return workload


def load_workload(name: str, size: int | None = None) -> Workload:
    """``size`` limits the sentences (minilm) or samples (digits) for quick runs."""
    check_choice("workload", name, WORKLOADS)
    return _minilm(size) if name == "minilm" else _digits(size)
