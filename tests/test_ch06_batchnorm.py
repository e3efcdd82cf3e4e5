"""Chapter 6's reference: batch normalisation against central differences and PyTorch.

The reference is the solution notebook (``autograder.grading.reference``), with cs231n's API:
``batchnorm_forward(x, gamma, beta, bn_param)``, ``batchnorm_backward`` (the staged graph of
seed 000, node by node) and ``batchnorm_backward_alt`` (the closed form). The tests check
(1) the staged and the closed-form gradients against each other and against central
differences, on several shapes including one and two examples; (2) the forward pass, the
gradients and the running averages against PyTorch (``torch.nn.functional.batch_norm``,
float64, ``momentum = 1 - 0.9``), including the one place where the two differ on purpose:
PyTorch's running variance uses the unbiased batch variance, cs231n's the biased one;
(3) what the chapter says about the seed and about all-ones upstream gradients.
"""
import zlib

import numpy as np
import pytest
import torch

from autograder.grading.reference import load_reference
from autograder.toolkit.checks import numerical_gradient

SHAPES = ((4, 3), (2, 5), (1, 4), (7, 1), (16, 8), (3, 3))     # (N, D)


@pytest.fixture(scope="module")
def ref():
    return load_reference("ch06_batchnorm")


def _rng(*key):
    """A generator seeded by the test's key: the same inputs at every run."""
    return np.random.default_rng(zlib.crc32(repr(("ch06_batchnorm",) + key).encode()))


def batch(rng, N, D):
    """x far from standardised, gamma, beta and an upstream gradient."""
    x = rng.normal(loc=rng.normal(scale=3.0, size=D), scale=rng.uniform(0.5, 4.0, size=D),
                   size=(N, D))
    return x, rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))


def train(ref, x, gamma, beta, **param):
    return ref.batchnorm_forward(x, gamma, beta, dict(param, mode="train"))


@pytest.mark.parametrize("shape", SHAPES)
def test_staged_equals_closed_form(ref, shape):
    x, gamma, beta, dout = batch(_rng("staged", shape), *shape)
    _, cache = train(ref, x, gamma, beta)
    staged = ref.batchnorm_backward(dout, cache)
    closed = ref.batchnorm_backward_alt(dout, cache)
    for a, b in zip(staged, closed):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backward", ("batchnorm_backward", "batchnorm_backward_alt"))
@pytest.mark.parametrize("shape", SHAPES)
def test_backward_matches_central_differences(ref, backward, shape):
    x, gamma, beta, dout = batch(_rng("numeric", shape), *shape)
    _, cache = train(ref, x, gamma, beta)
    dx, dgamma, dbeta = getattr(ref, backward)(dout, cache)
    num_dx = numerical_gradient(lambda a: train(ref, a, gamma, beta)[0], x.copy(), dout)
    num_dg = numerical_gradient(lambda g: train(ref, x, g, beta)[0], gamma.copy(), dout)
    num_db = numerical_gradient(lambda b: train(ref, x, gamma, b)[0], beta.copy(), dout)
    np.testing.assert_allclose(dx, num_dx, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dgamma, num_dg, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dbeta, num_db, rtol=1e-6, atol=1e-8)


def torch_batchnorm(x, gamma, beta, dout, running_mean, running_var, training, eps=1e-5):
    """PyTorch's batch norm in float64: (out, dx, dgamma, dbeta, running_mean, running_var)."""
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(gamma, requires_grad=True)
    bt = torch.tensor(beta, requires_grad=True)
    rm, rv = torch.tensor(running_mean), torch.tensor(running_var)
    out = torch.nn.functional.batch_norm(xt, rm, rv, weight=gt, bias=bt, training=training,
                                         momentum=1 - 0.9, eps=eps)
    out.backward(torch.tensor(dout))
    return (out.detach().numpy(), xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy(),
            rm.numpy(), rv.numpy())


@pytest.mark.parametrize("shape", [s for s in SHAPES if s[0] > 1])
def test_train_mode_matches_pytorch(ref, shape):
    rng = _rng("torch", shape)
    x, gamma, beta, dout = batch(rng, *shape)
    mean0, var0 = rng.normal(size=shape[1]), rng.uniform(0.5, 2.0, size=shape[1])
    param = {"mode": "train", "running_mean": mean0.copy(), "running_var": var0.copy()}
    out, cache = ref.batchnorm_forward(x, gamma, beta, param)
    t_out, t_dx, t_dg, t_db, t_mean, t_var = torch_batchnorm(x, gamma, beta, dout, mean0, var0,
                                                              training=True)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(ref.batchnorm_backward(dout, cache), (t_dx, t_dg, t_db)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
    for ours, theirs in zip(ref.batchnorm_backward_alt(dout, cache), (t_dx, t_dg, t_db)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
    # The running mean is the same with momentum 0.9 (cs231n) and 1 - 0.9 (PyTorch) ...
    np.testing.assert_allclose(param["running_mean"], t_mean, rtol=1e-12)
    # ... the running variance is not: PyTorch averages the unbiased batch variance.
    N = shape[0]
    np.testing.assert_allclose(t_var, 0.9 * var0 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(param["running_var"], 0.9 * var0 + 0.1 * x.var(axis=0),
                               rtol=1e-12)
    assert not np.allclose(param["running_var"], t_var, rtol=1e-6)
    np.testing.assert_allclose(param["running_var"] - 0.9 * var0,
                               (t_var - 0.9 * var0) * (N - 1) / N, rtol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_test_mode_matches_pytorch(ref, shape):
    rng = _rng("torch-test", shape)
    x, gamma, beta, dout = batch(rng, *shape)
    mean, var = rng.normal(size=shape[1]), rng.uniform(0.5, 2.0, size=shape[1])
    param = {"mode": "test", "running_mean": mean.copy(), "running_var": var.copy()}
    out, _ = ref.batchnorm_forward(x, gamma, beta, param)
    t_out = torch_batchnorm(x, gamma, beta, dout, mean, var, training=False)[0]
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(param["running_mean"], mean)
    np.testing.assert_array_equal(param["running_var"], var)


def test_defaults_and_several_calls(ref):
    """eps 1e-5 and momentum 0.9 by default; running averages start at zeros of shape (D,)."""
    rng = _rng("calls")
    param = {"mode": "train"}
    mean, var = np.zeros(3), np.zeros(3)
    for _ in range(4):
        x, gamma, beta, _ = batch(rng, 5, 3)
        out, _ = ref.batchnorm_forward(x, gamma, beta, param)
        mean = 0.9 * mean + 0.1 * x.mean(axis=0)
        var = 0.9 * var + 0.1 * x.var(axis=0)
        np.testing.assert_allclose(param["running_mean"], mean, rtol=1e-12)
        np.testing.assert_allclose(param["running_var"], var, rtol=1e-12)
        np.testing.assert_allclose(
            out, gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) + beta, rtol=1e-12)
    with pytest.raises(ValueError):
        ref.batchnorm_forward(x, gamma, beta, {"mode": "eval"})


def test_one_example(ref):
    """N = 1: the variance is 0, the output is beta, and the gradient is finite (zero)."""
    x, gamma, beta, dout = batch(_rng("one"), 1, 6)
    out, cache = train(ref, x, gamma, beta)
    np.testing.assert_allclose(out, beta[None, :], atol=1e-12)
    for backward in (ref.batchnorm_backward, ref.batchnorm_backward_alt):
        dx, dgamma, dbeta = backward(dout, cache)
        assert np.all(np.isfinite(dx))
        np.testing.assert_allclose(dx, 0.0, atol=1e-12)
        np.testing.assert_allclose(dgamma, 0.0, atol=1e-12)
        np.testing.assert_allclose(dbeta, dout[0])


def test_inputs_are_not_changed(ref):
    x, gamma, beta, dout = batch(_rng("inputs"), 5, 4)
    copies = [a.copy() for a in (x, gamma, beta, dout)]
    _, cache = train(ref, x, gamma, beta)
    ref.batchnorm_backward(dout, cache)
    ref.batchnorm_backward_alt(dout, cache)
    for a, b in zip((x, gamma, beta, dout), copies):
        np.testing.assert_array_equal(a, b)


def test_seed_dh_with_the_output_is_wrong(ref):
    """The seed's op 8 reads dh = dk * y: with y, the output, dx is wrong; with gamma, right."""
    x, gamma, beta, dout = batch(_rng("seed"), 4, 3)
    out, cache = train(ref, x, gamma, beta)
    dx = ref.batchnorm_backward(dout, cache)[0]
    i, h = cache["i"], cache["h"]
    N = x.shape[0]
    for factor, right in ((gamma, True), (out, False)):
        dh = dout * factor
        candidate = i / N * (N * dh - dh.sum(0) - h * (dh * h).sum(0))
        assert np.allclose(candidate, dx, rtol=1e-10) == right


def test_all_ones_upstream_hides_bugs(ref):
    """With dout = 1 the true dx and dgamma are 0, so a backward without the variance passes."""
    x, gamma, beta, dout = batch(_rng("ones"), 6, 4)
    _, cache = train(ref, x, gamma, beta)
    ones = np.ones_like(x)
    dx, dgamma, _ = ref.batchnorm_backward(ones, cache)
    np.testing.assert_allclose(dx, 0.0, atol=1e-12)
    np.testing.assert_allclose(dgamma, 0.0, atol=1e-12)

    def forgets_variance(d):
        g = d * gamma
        return (g - g.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)

    num_ones = numerical_gradient(lambda a: train(ref, a, gamma, beta)[0], x.copy(), ones)
    np.testing.assert_allclose(forgets_variance(ones), num_ones, rtol=1e-5, atol=1e-7)
    num_rand = numerical_gradient(lambda a: train(ref, a, gamma, beta)[0], x.copy(), dout)
    assert not np.allclose(forgets_variance(dout), num_rand, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ref.batchnorm_backward(dout, cache)[0], num_rand, rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("reg", (0.0, 0.3))
def test_bn_net_loss_matches_central_differences(ref, reg):
    """The net with batch norm (chapter 5's layers from chapter 5's reference)."""
    rng = _rng("net", reg)
    D, H, C, N = 6, 5, 4, 8
    params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
              "gamma1": rng.normal(1.0, 0.3, size=H), "beta1": rng.normal(size=H),
              "W2": rng.normal(size=(H, C)), "b2": rng.normal(size=C)}
    X, y = rng.normal(size=(N, 2, 3)), rng.integers(0, C, size=N)
    bn_param = {"mode": "train"}
    loss, grads = ref.bn_net_loss(params, bn_param, X, y, reg)
    assert bn_param["mode"] == "train" and bn_param["running_mean"].shape == (H,)
    for name in params:
        def f(value, name=name):
            return ref.bn_net_loss(dict(params, **{name: value}), {"mode": "train"}, X, y, reg)[0]
        np.testing.assert_allclose(grads[name], numerical_gradient(f, params[name].copy()),
                                   rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(grads["b1"], 0.0, atol=1e-12)   # batch norm cancels b1
    scores = ref.bn_net_loss(params, bn_param, X)
    assert bn_param["mode"] == "test" and scores.shape == (N, C)
    np.testing.assert_allclose(ref.bn_net_loss(params, bn_param, X[3:4]), scores[3:4])
