"""A small MLP trained here, in NumPy, on scikit-learn's bundled digits data set.

No download: ``sklearn.datasets.load_digits`` ships its 1,797 8x8 images.  The network,
``64 -> 64 (ReLU) -> 32 (ReLU) -> 10``, is trained deterministically (fixed seed, full
NumPy Adam on cross-entropy) in about a second; its API mirrors :class:`quantrtl.models.minilm.MiniLM`
(``linear_layers``, ``weight``, ``forward(..., transform=, capture=)``) so that the same
quantization experiments run on both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantrtl.spec import check_int

__all__ = ["DigitsData", "load_digits_data", "DigitsMLP"]


@dataclass(frozen=True)
class DigitsData:
    x_train: np.ndarray   # float32 [n, 64] in [0, 1]
    y_train: np.ndarray   # int64 [n]
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits_data(seed: int = 0, test_fraction: float = 0.25) -> DigitsData:
    """The digits, scaled to [0, 1], split per class (stratified) with a fixed seed."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        test[idx[:int(round(len(idx) * test_fraction))]] = True
    return DigitsData(x[~test], y[~test], x[test], y[test])


class DigitsMLP:
    """``fc1 (64->64, ReLU) -> fc2 (64->32, ReLU) -> fc3 (32->10)``; weights ``[out, in]``."""

    LAYERS = ("fc1", "fc2", "fc3")
    SIZES = (64, 64, 32, 10)

    def __init__(self, params: dict[str, np.ndarray]):
        self._params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}

    @classmethod
    def train(cls, data: DigitsData | None = None, *, seed: int = 0, epochs: int = 60,
              batch_size: int = 64, learning_rate: float = 3e-3) -> "DigitsMLP":
        """Train with Adam on softmax cross-entropy; deterministic for a given seed."""
        epochs = check_int("epochs", epochs, 1, 10_000)
        batch_size = check_int("batch_size", batch_size, 1, 1 << 16)
        data = data or load_digits_data()
        rng = np.random.default_rng(seed)
        params = {}
        for name, n_in, n_out in zip(cls.LAYERS, cls.SIZES[:-1], cls.SIZES[1:]):
            params[f"{name}.weight"] = rng.normal(0, np.sqrt(2.0 / n_in), (n_out, n_in))
            params[f"{name}.bias"] = np.zeros(n_out)
        moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
        beta1, beta2, eps, step = 0.9, 0.999, 1e-8, 0
        x_all, y_all = data.x_train.astype(np.float64), data.y_train
        for _ in range(epochs):
            order = rng.permutation(len(y_all))
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                grads = cls._gradients(params, x_all[batch], y_all[batch])
                step += 1
                for k, g in grads.items():
                    m, v = moments[k]
                    m[:] = beta1 * m + (1 - beta1) * g
                    v[:] = beta2 * v + (1 - beta2) * g * g
                    m_hat = m / (1 - beta1 ** step)
                    v_hat = v / (1 - beta2 ** step)
                    params[k] -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)
        return cls(params)

    @classmethod
    def _gradients(cls, params, x, y):
        acts = [x]
        for k, name in enumerate(cls.LAYERS):
            z = acts[-1] @ params[f"{name}.weight"].T + params[f"{name}.bias"]
            acts.append(np.maximum(z, 0) if k < len(cls.LAYERS) - 1 else z)
        logits = acts[-1]
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        delta = p
        delta[np.arange(len(y)), y] -= 1
        delta /= len(y)
        grads = {}
        for k in reversed(range(len(cls.LAYERS))):
            name = cls.LAYERS[k]
            grads[f"{name}.weight"] = delta.T @ acts[k]
            grads[f"{name}.bias"] = delta.sum(axis=0)
            if k:
                delta = (delta @ params[f"{name}.weight"]) * (acts[k] > 0)
        return grads

    def linear_layers(self) -> list[str]:
        return list(self.LAYERS)

    def weight(self, name: str) -> np.ndarray:
        return self._params[f"{name}.weight"]

    def bias(self, name: str) -> np.ndarray:
        return self._params[f"{name}.bias"]

    def forward(self, x, *, transform=None, capture: bool = False):
        """Logits ``[n, 10]``; ``transform(name, x, w) -> (x, w)`` substitutes each layer's
        input and weights (e.g. quantized-dequantized); ``capture=True`` also returns each
        layer's input activations ``{name: [n, in]}``."""
        h = np.asarray(x, dtype=np.float32)
        captured = {}
        for k, name in enumerate(self.LAYERS):
            w = self.weight(name)
            if capture:
                captured[name] = h
            if transform is not None:
                h, w = transform(name, h, w)
            h = h @ np.asarray(w, dtype=np.float32).T + self.bias(name)
            if k < len(self.LAYERS) - 1:
                h = np.maximum(h, 0)
        return (h, captured) if capture else h

    def accuracy(self, x, y, *, transform=None) -> float:
        return float(np.mean(np.argmax(self.forward(x, transform=transform), axis=1) == y))
