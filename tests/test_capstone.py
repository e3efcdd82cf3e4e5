"""The capstone's network (book/bookkit/capstone.py) on a few images: a smoke test, not the
training. The numpy network (the course's reference layers) and its PyTorch twin agree on
the loss and on every gradient of one batch with the same weights (float64); a few Adam
steps lower the loss; the data split is stratified and the shifts keep the images' shape."""
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
import bookkit  # noqa: E402
from bookkit import capstone as cap  # noqa: E402


@pytest.fixture(scope="module")
def layers():
    return bookkit.reference("ch07_cnn")


@pytest.fixture(scope="module")
def adam():
    return bookkit.reference("ch08_optimizers").adam


@pytest.fixture(scope="module")
def data():
    return cap.load_mnist()


def test_split_is_stratified_and_seeded(data):
    X_train, X_test, y_train, y_test = data
    assert X_train.shape == (4000, 1, 28, 28) and X_test.shape == (1000, 1, 28, 28)
    assert np.all(np.bincount(y_test) == 100) and np.all(np.bincount(y_train) == 400)
    again = cap.load_mnist()
    np.testing.assert_array_equal(again[3], y_test)


@pytest.mark.parametrize("arch", sorted(cap.ARCHS))
def test_numpy_and_pytorch_agree_on_one_step(layers, data, arch):
    X_train, _, y_train, _ = data
    X = X_train[:6].astype(np.float64)
    y = y_train[:6]
    params = cap.init_params(arch, np.random.default_rng(1), dtype=np.float64)
    for k in params:                      # nonzero biases, so their gradients matter too
        if k.startswith("b"):
            params[k] = np.random.default_rng(2).normal(scale=0.1, size=params[k].shape)
    loss, grads = cap.cnn_loss(params, X, y, layers, arch)
    model = cap.torch_model(arch, params)
    t_loss, t_grads = cap.torch_grads(model, arch, X, y)
    assert loss == pytest.approx(t_loss, rel=1e-10)
    assert set(grads) == set(t_grads) == set(params)
    for k in params:
        assert grads[k].shape == params[k].shape
        np.testing.assert_allclose(grads[k], t_grads[k], rtol=1e-7, atol=1e-10, err_msg=k)


def test_a_few_adam_steps_lower_the_loss(layers, adam, data):
    X_train, _, y_train, _ = data
    X, y = cap.standardise(X_train[:32], X_train[:32])[0], y_train[:32]
    params = cap.init_params("seed", np.random.default_rng(0))
    configs = {k: {"learning_rate": 2e-3} for k in params}
    first, _ = cap.cnn_loss(params, X, y, layers, "seed")
    for _ in range(5):
        loss, grads = cap.cnn_loss(params, X, y, layers, "seed")
        assert all(g.dtype == np.float32 for g in grads.values())
        for k in params:
            params[k], configs[k] = adam(params[k], grads[k], configs[k])
    last, _ = cap.cnn_loss(params, X, y, layers, "seed")
    assert last < 0.8 * first


def test_shift_moves_images_by_at_most_two_pixels():
    rng = np.random.default_rng(0)
    X = np.zeros((50, 1, 28, 28), dtype=np.float32)
    X[:, :, 14, 14] = 1.0
    out = cap.shift(X, rng)
    assert out.shape == X.shape and out.dtype == X.dtype
    rows, cols = np.nonzero(out[:, 0].sum(axis=0))
    where = np.argwhere(out[:, 0] == 1.0)
    assert len(where) == 50
    assert np.all(np.abs(where[:, 1:] - 14) <= 2)
    assert len({tuple(p) for p in where[:, 1:]}) > 5


def test_the_schedule_is_shared():
    X = np.arange(20 * 784, dtype=np.float32).reshape(20, 1, 28, 28)
    a = cap.batches(20, 2, 5, 3, True, X)
    b = cap.batches(20, 2, 5, 3, True, X)
    assert len(a) == 8
    for (ea, ia, xa), (eb, ib, xb) in zip(a, b):
        assert ea == eb
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_array_equal(xa, xb)
