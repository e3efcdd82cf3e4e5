"""Chapter 8's reference update rules against torch.optim (CPU, float64) over many steps,
and the relations the chapter states.

- cs231n's momentum (v = mu v - lr dw, w + v) is torch.optim.SGD(momentum=mu) with the same
  learning rate (PyTorch keeps b = mu b + dw and steps -lr b, i.e. v = -lr b);
- seed 001's average form (V = beta V + (1 - beta) dw, w - lr' V) is cs231n's with
  lr = (1 - beta) lr';
- rmsprop is torch.optim.RMSprop(alpha=decay_rate), epsilon outside the square root;
- adam is torch.optim.Adam(betas=(beta1, beta2)).
Also: the seed's Adam (with (1 - beta)^t, corrected values fed back) is not Adam, and every
classic mistake of the table the checks use differs from the right rule.
"""
import numpy as np
import pytest
import torch

from autograder.grading.reference import load_reference

STEPS = 300


@pytest.fixture(scope="module")
def ref():
    return load_reference("ch08_optimizers")


def problem(seed=0, n=6):
    """A badly conditioned quadratic plus a quartic term: f(w) = 1/2 w'Aw - b'w + 0.1 sum w^4."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = q @ np.diag(np.logspace(-2, 1, n)) @ q.T
    b = rng.normal(size=n)
    w0 = rng.normal(size=n)

    def grad(w):
        return A @ w - b + 0.4 * w ** 3

    def loss_torch(p):
        At, bt = torch.tensor(A), torch.tensor(b)
        return 0.5 * p @ At @ p - bt @ p + 0.1 * torch.sum(p ** 4)
    return w0, grad, loss_torch


def numpy_path(rule, w0, grad, config, steps=STEPS):
    """Our rule in a closed loop: each gradient at the rule's own current w."""
    w, path = w0.copy(), []
    for _ in range(steps):
        w, config = rule(w, grad(w), config)
        path.append(w.copy())
    return np.array(path), config


def torch_path(make, w0, loss_torch, steps=STEPS):
    """A torch optimizer in the same closed loop, the gradient from autograd."""
    p = torch.tensor(w0.copy(), dtype=torch.float64, requires_grad=True)
    opt = make([p])
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss_torch(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def open_loop(rule, make, seed, config, steps=STEPS, n=7):
    """Both optimizers fed the same fixed gradients (spread over six orders of magnitude,
    some exactly 0): a comparison of the update rules alone, with no feedback that could
    amplify rounding differences. Returns (ours, theirs), each (steps, n), and our config."""
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=n)
    dws = rng.normal(size=(steps, n)) * 10.0 ** rng.uniform(-5, 1, size=(steps, n))
    dws[rng.random(size=dws.shape) < 0.05] = 0.0
    w, ours = w0.copy(), []
    for dw in dws:
        w, config = rule(w, dw, config)
        ours.append(w.copy())
    p = torch.tensor(w0.copy(), dtype=torch.float64, requires_grad=True)
    opt = make([p])
    theirs = []
    for dw in dws:
        p.grad = torch.tensor(dw)
        opt.step()
        theirs.append(p.detach().numpy().copy())
    return np.array(ours), np.array(theirs), config


@pytest.mark.parametrize("lr", [1e-3, 1e-2, 5e-2])
def test_sgd_is_torch_sgd(ref, lr):
    w0, grad, loss_torch = problem(1)
    ours, config = numpy_path(ref.sgd, w0, grad, {"learning_rate": lr})
    theirs = torch_path(lambda p: torch.optim.SGD(p, lr=lr), w0, loss_torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert set(config) == {"learning_rate"}


@pytest.mark.parametrize("lr, mu", [(1e-2, 0.9), (3e-2, 0.5), (1e-3, 0.99)])
def test_momentum_is_torch_sgd_momentum(ref, lr, mu):
    w0, grad, loss_torch = problem(2)
    ours, config = numpy_path(ref.sgd_momentum, w0, grad, {"learning_rate": lr, "momentum": mu})
    theirs = torch_path(lambda p: torch.optim.SGD(p, lr=lr, momentum=mu), w0, loss_torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    ours, theirs, _ = open_loop(ref.sgd_momentum,
                                lambda p: torch.optim.SGD(p, lr=lr, momentum=mu), 2,
                                {"learning_rate": lr, "momentum": mu})
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)
    assert set(config) == {"learning_rate", "momentum", "velocity"}


@pytest.mark.parametrize("lr_seed, beta", [(0.1, 0.9), (0.05, 0.5)])
def test_seed_average_momentum_is_rescaled_velocity(ref, lr_seed, beta):
    """V = beta V + (1 - beta) g, w -= lr' V  ==  v = beta v - (1 - beta) lr' g, w += v."""
    w0, grad, _ = problem(3)
    w, V, path = w0.copy(), np.zeros_like(w0), []
    for _ in range(STEPS):
        V = beta * V + (1 - beta) * grad(w)
        w = w - lr_seed * V
        path.append(w.copy())
    ours, _ = numpy_path(ref.sgd_momentum, w0, grad,
                         {"learning_rate": (1 - beta) * lr_seed, "momentum": beta})
    np.testing.assert_allclose(ours, np.array(path), rtol=1e-9, atol=1e-12)
    # and the seed's form with PyTorch's dampening: buf = beta buf + (1 - beta) g, except that
    # PyTorch starts the buffer at g itself (no dampening on the first step), so they differ
    theirs = torch_path(lambda p: torch.optim.SGD(p, lr=lr_seed, momentum=beta, dampening=beta),
                        w0, problem(3)[2])
    assert not np.allclose(theirs[0], path[0])


@pytest.mark.parametrize("lr, decay, eps", [(1e-2, 0.99, 1e-8), (1e-3, 0.9, 1e-6)])
def test_rmsprop_is_torch_rmsprop(ref, lr, decay, eps):
    ours, theirs, config = open_loop(
        ref.rmsprop, lambda p: torch.optim.RMSprop(p, lr=lr, alpha=decay, eps=eps), 4,
        {"learning_rate": lr, "decay_rate": decay, "epsilon": eps})
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)
    # in a closed loop too, for the first 100 steps (later, RMSProp's sign-like steps near
    # the minimum amplify rounding differences)
    w0, grad, loss_torch = problem(4)
    ours, _ = numpy_path(ref.rmsprop, w0, grad,
                         {"learning_rate": lr, "decay_rate": decay, "epsilon": eps}, steps=100)
    theirs = torch_path(lambda p: torch.optim.RMSprop(p, lr=lr, alpha=decay, eps=eps), w0,
                        loss_torch, steps=100)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert set(config) == {"learning_rate", "decay_rate", "epsilon", "cache"}


def test_rmsprop_torch_adds_eps_outside_the_root(ref):
    """With a large epsilon, PyTorch matches sqrt(c) + eps and not sqrt(c + eps)."""
    w0, grad, loss_torch = problem(5)
    theirs = torch_path(lambda p: torch.optim.RMSprop(p, lr=1e-2, alpha=0.99, eps=0.1), w0,
                        loss_torch, steps=1)
    g = grad(w0)
    c = 0.01 * g ** 2
    np.testing.assert_allclose(theirs[0], w0 - 1e-2 * g / (np.sqrt(c) + 0.1), rtol=1e-12)
    assert not np.allclose(theirs[0], w0 - 1e-2 * g / np.sqrt(c + 0.1), rtol=1e-6)


@pytest.mark.parametrize("lr, b1, b2, eps", [(1e-3, 0.9, 0.999, 1e-8), (1e-2, 0.5, 0.99, 1e-6),
                                             (5e-2, 0.9, 0.999, 1e-8)])
def test_adam_is_torch_adam(ref, lr, b1, b2, eps):
    w0, grad, loss_torch = problem(6)
    ours, config = numpy_path(ref.adam, w0, grad,
                              {"learning_rate": lr, "beta1": b1, "beta2": b2, "epsilon": eps})
    theirs = torch_path(lambda p: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=eps), w0,
                        loss_torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert config["t"] == STEPS
    ours, theirs, config = open_loop(
        ref.adam, lambda p: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=eps), 6,
        {"learning_rate": lr, "beta1": b1, "beta2": b2, "epsilon": eps})
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)
    assert set(config) == {"learning_rate", "beta1", "beta2", "epsilon", "m", "v", "t"}


def test_defaults(ref):
    w, dw = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    for rule, defaults in ref.CH8_DEFAULTS.items():
        _, config = getattr(ref, rule)(w, dw, None)
        for key, value in defaults.items():
            assert config[key] == value
        assert set(config) == set(ref.CH8_KEYS[rule])


def test_rules_leave_their_inputs(ref):
    w, dw = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    for rule in ("sgd", "sgd_momentum", "rmsprop", "adam"):
        getattr(ref, rule)(w, dw, None)
        np.testing.assert_array_equal(w, [1.0, -2.0])
        np.testing.assert_array_equal(dw, [0.5, 0.25])


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_every_mistake_differs(ref, rule):
    w0, grad, _ = problem(7)
    # gradients with entries down to 1e-5, where the place of epsilon matters
    dws = [grad(w0 + 0.1 * k) * np.logspace(-5, 0, w0.size) for k in range(5)]
    right = ref.run_steps(getattr(ref, rule), w0, dws, None)
    for why, wrong in ref.update_mistakes(rule):
        run = ref.run_steps(wrong, w0, dws, None)
        assert max(np.max(np.abs(a[0] - b[0])) for a, b in zip(run, right)) > 1e-6, why


def test_seed_adam_is_not_adam(ref):
    """The erratum: seed 001's (1 - beta)^t equals 1 - beta^t at t = 1 only."""
    b1, b2 = 0.9, 0.999
    assert np.isclose((1 - b1) ** 1, 1 - b1 ** 1)
    assert (1 - b1) ** 2 == pytest.approx(0.01) and 1 - b1 ** 2 == pytest.approx(0.19)
    assert (1 - b2) ** 2 == pytest.approx(1e-6) and 1 - b2 ** 2 == pytest.approx(1.999e-3)


def test_worked_numbers_are_the_reference(ref):
    for rule, expected in ref.CH8_EXPECTED.items():
        run = ref.run_steps(getattr(ref, rule), ref.CH8_W, ref.CH8_DWS, ref.CH8_CONFIGS[rule])
        for (w, c), (ew, ec) in zip(run, expected):
            np.testing.assert_allclose(w, ew, rtol=1e-11)
            for key in ref.CH8_STATE[rule]:
                np.testing.assert_allclose(c[key], ec[key], rtol=1e-9)
