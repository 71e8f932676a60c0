"""The digits MLP trained here (quantrtl.models.digits)."""

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is a dev dependency")

from quantrtl.models.digits import DigitsMLP, load_digits_data  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return load_digits_data()


@pytest.fixture(scope="module")
def model(data):
    return DigitsMLP.train(data)


def test_split_is_stratified_and_disjoint(data):
    assert len(data.y_train) + len(data.y_test) == 1797
    counts = np.bincount(data.y_test, minlength=10)
    assert counts.min() >= 40 and counts.max() <= 48
    assert data.x_train.min() >= 0 and data.x_train.max() <= 1


def test_training_is_deterministic_and_accurate(data, model):
    again = DigitsMLP.train(data)
    for name in model.linear_layers():
        assert np.array_equal(model.weight(name), again.weight(name))
    assert model.accuracy(data.x_test, data.y_test) > 0.94


def test_capture_and_transform(data, model):
    logits, acts = model.forward(data.x_test[:20], capture=True)
    assert {k: v.shape for k, v in acts.items()} == {"fc1": (20, 64), "fc2": (20, 64),
                                                    "fc3": (20, 32)}
    assert np.all(acts["fc2"] >= 0)                       # after ReLU
    identity = model.forward(data.x_test[:20], transform=lambda n, x, w: (x, w))
    assert np.array_equal(identity, logits)
    zeroed = model.forward(data.x_test[:20], transform=lambda n, x, w: (x, w * (n != "fc3")))
    assert np.allclose(zeroed, model.bias("fc3"))


def test_bad_parameters(data):
    with pytest.raises(ValueError, match=r"epochs=0 is out of range"):
        DigitsMLP.train(data, epochs=0)
