"""Chapter 2 reference (logistic regression, batch size 1) checked three ways.

The analytic gradients of the reference solutions are compared with central differences
(``autograder.toolkit.checks.numerical_gradient``) and with PyTorch autograd (CPU, float64,
``torch.nn.functional.binary_cross_entropy_with_logits``), on random inputs and on edge
cases: logits of ±30 and ±1000, zero inputs, a zero upstream gradient.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.grading.reference import load_reference
from autograder.hidden.cases import logistic_example
from autograder.toolkit.checks import numerical_gradient

RTOL = 1e-7


@pytest.fixture(scope="module")
def ref():
    return load_reference("ch02_logistic")


def torch_grads(w, x, b, y):
    """Loss and (dL/dw, dL/db) of BCE-with-logits at z = w.x + b, by autograd."""
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    z = tw @ torch.tensor(x, dtype=torch.float64) + tb
    loss = F.binary_cross_entropy_with_logits(z, torch.tensor(float(y), dtype=torch.float64))
    loss.backward()
    return loss.item(), tw.grad.numpy(), tb.grad.item()


def random_cases(seed):
    """(w, x, b, y, dloss) with the grader's generator, for n = 1 to 50 and both labels."""
    rng = np.random.default_rng(seed)
    for n in (1, 2, 3, 10, 50):
        for y in (0.0, 1.0):
            w, x, b = logistic_example(rng, n)
            yield w, x, b, y, float(rng.uniform(-3, 3))


def test_sigmoid_matches_torch(ref):
    z = np.array([-1000.0, -745.0, -30.0, -1.0, 0.0, 1e-9, 2.5, 30.0, 710.0, 1000.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow
        got = ref.sigmoid(z)
    np.testing.assert_allclose(got, torch.sigmoid(torch.tensor(z)).numpy(), rtol=RTOL,
                               atol=1e-300)   # sigmoid(-745) is 5e-324 here, 0 in torch
    assert isinstance(ref.sigmoid(0.5), float) and ref.sigmoid(0.0) == 0.5


def test_backward_matches_numerical_gradient(ref):
    for w, x, b, y, dloss in random_cases(0):
        cache = ref.logistic_forward(w, x, b, y)[1]
        dw, db = ref.logistic_backward(dloss, cache)
        num_w = numerical_gradient(lambda w_, x=x, b=b, y=y: ref.logistic_forward(w_, x, b, y)[0],
                                   w.copy(), dout=dloss)
        num_b = numerical_gradient(lambda b_, w=w, x=x, y=y: ref.logistic_forward(w, x, b_, y)[0],
                                   np.array(b), dout=dloss)
        np.testing.assert_allclose(dw, num_w, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(db, num_b, rtol=1e-6, atol=1e-9)
        assert dw.shape == w.shape and np.ndim(db) == 0


def test_forward_and_backward_match_torch(ref):
    for w, x, b, y, _ in random_cases(1):
        loss, cache = ref.logistic_forward(w, x, b, y)
        dw, db = ref.logistic_backward(1.0, cache)
        t_loss, t_dw, t_db = torch_grads(w, x, b, y)
        np.testing.assert_allclose(loss, t_loss, rtol=RTOL)
        np.testing.assert_allclose(dw, t_dw, rtol=RTOL, atol=1e-15)
        np.testing.assert_allclose(db, t_db, rtol=RTOL, atol=1e-15)
        assert cache["z"] == pytest.approx(float(w @ x + b), rel=1e-12)
        t_z = torch.tensor(cache["z"], dtype=torch.float64)
        assert cache["y_hat"] == pytest.approx(torch.sigmoid(t_z).item(), rel=1e-12)


@pytest.mark.parametrize("z", [-1000.0, -30.0, 30.0, 1000.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_backward_saturated_matches_torch(ref, z, y):
    """At |z| = 1000 the staged loss is inf or nan, but its gradients stay right."""
    x = np.array([2.0, -1.0, 0.5])
    w = np.array([z / 2.0, 0.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        cache = ref.logistic_forward(w, x, 0.0, y)[1]
    dw, db = ref.logistic_backward(1.0, cache)
    _, t_dw, t_db = torch_grads(w, x, 0.0, y)
    assert np.all(np.isfinite(dw)) and np.isfinite(db)
    np.testing.assert_allclose(dw, t_dw, rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(db, t_db, rtol=RTOL, atol=1e-15)


def test_stable_loss_matches_torch_at_extremes(ref):
    z = np.repeat([-1000.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 1000.0], 2)
    y = np.tile([0.0, 1.0], 7)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no log(0), 0/0
        loss, dz = ref.stable_bce_with_logits(z, y)
    tz = torch.tensor(z, requires_grad=True)
    t_loss = F.binary_cross_entropy_with_logits(tz, torch.tensor(y), reduction="none")
    t_loss.sum().backward()
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(dz))
    # torch loses the digits of ln(1 + e^-30) = 9.3576e-14 (it returns 9.237e-14): atol
    np.testing.assert_allclose(loss, t_loss.detach().numpy(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(dz, tz.grad.numpy(), rtol=RTOL, atol=1e-300)
    # exact values where they are known in closed form; ln(1 + u) = u - u^2/2 + ...
    small = loss[(np.abs(z) == 30.0) & (y == (z > 0))]
    np.testing.assert_allclose(small, np.exp(-30.0), rtol=1e-12)
    assert ref.stable_bce_with_logits(1000.0, 0.0)[0] == 1000.0
    assert ref.stable_bce_with_logits(-1000.0, 1.0)[0] == 1000.0
    assert ref.stable_bce_with_logits(0.0, 1.0)[0] == pytest.approx(np.log(2), rel=1e-15)


def test_stable_loss_matches_numerical_gradient_and_forward(ref):
    rng = np.random.default_rng(2)
    for shape in ((), (7,), (3, 4)):
        z = rng.normal(scale=4.0, size=shape)
        y = rng.integers(0, 2, size=shape).astype(np.float64)
        loss, dz = ref.stable_bce_with_logits(z, y)
        num = numerical_gradient(lambda z_, y=y: ref.stable_bce_with_logits(z_, y)[0],
                                 np.array(z, dtype=np.float64))
        np.testing.assert_allclose(dz, num, rtol=1e-6, atol=1e-9)
        assert np.shape(loss) == shape and np.shape(dz) == shape
    for w, x, b, y, _ in random_cases(3):     # same loss as the staged forward
        loss, cache = ref.logistic_forward(w, x, b, y)
        stable, dz = ref.stable_bce_with_logits(cache["z"], y)
        assert stable == pytest.approx(loss, rel=1e-12)
        assert dz == pytest.approx(ref.logistic_backward(1.0, cache)[1], rel=1e-12)


def test_zero_inputs(ref):
    """x = 0: dw is 0, db is y_hat - y; a zero upstream gradient gives zero gradients."""
    for n in (1, 4):
        w = np.linspace(-1, 1, n)
        for y in (0.0, 1.0):
            cache = ref.logistic_forward(w, np.zeros(n), 0.0, y)[1]
            dw, db = ref.logistic_backward(1.0, cache)
            _, t_dw, t_db = torch_grads(w, np.zeros(n), 0.0, y)
            np.testing.assert_array_equal(dw, np.zeros(n))
            np.testing.assert_allclose(dw, t_dw, atol=0)
            assert db == pytest.approx(t_db, rel=1e-15) and db == 0.5 - y
            dw0, db0 = ref.logistic_backward(0.0, cache)
            assert not np.any(dw0) and db0 == 0.0
    loss, cache = ref.logistic_forward(np.zeros(3), np.ones(3), 0.0, 1.0)
    assert loss == pytest.approx(np.log(2), rel=1e-15) and cache["y_hat"] == 0.5


def test_training_matches_torch_sgd(ref):
    """train_logistic equals per-example SGD written with torch autograd, loss curve too."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(25, 3))
    y = (rng.random(25) < 1 / (1 + np.exp(-X @ np.array([2.0, -1.0, 0.5])))).astype(float)
    lr, epochs = 0.2, 6
    w, b, losses = ref.train_logistic(X, y, lr, epochs)
    tw = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    tb = torch.zeros((), dtype=torch.float64, requires_grad=True)
    tX, ty = torch.tensor(X), torch.tensor(y)
    t_losses = []
    for _ in range(epochs):
        for i in range(len(y)):
            loss = F.binary_cross_entropy_with_logits(tw @ tX[i] + tb, ty[i])
            gw, gb = torch.autograd.grad(loss, (tw, tb))
            with torch.no_grad():
                tw -= lr * gw
                tb -= lr * gb
        with torch.no_grad():
            t_losses.append(F.binary_cross_entropy_with_logits(tX @ tw + tb, ty).item())
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-10)
    assert b == pytest.approx(tb.item(), rel=1e-10)
    np.testing.assert_allclose(losses, t_losses, rtol=1e-10)
    assert losses.shape == (epochs,) and losses[-1] < losses[0]
