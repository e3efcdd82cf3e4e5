"""Chapter 5's reference: the losses, the staged graphs, the layers and the two-layer net
against central differences and PyTorch autograd (CPU, float64), edge cases included.

Also checked: naive == vectorized == staged; the seed's mistakes recorded in the chapter's
errata (the SVM graph's L = i + R + Delta, the softmax graph's global maximum and its (N,)
sum broadcast against (N, 1)).
"""
import zlib

import numpy as np
import pytest
import torch

from autograder.grading.reference import load_reference
from autograder.hidden.cases import integer_batch
from autograder.toolkit.checks import numerical_gradient

SHAPES = ((1, 3, 2), (4, 5, 3), (7, 2, 4), (10, 6, 10))      # (N, D, C)


@pytest.fixture(scope="module")
def ref():
    return load_reference("ch05_losses")


def _rng(*key):
    """A generator seeded by the test's key: the same inputs at every run."""
    return np.random.default_rng(zlib.crc32(repr(("ch05_losses",) + key).encode()))


def batch(rng, N, D, C):
    return 0.5 * rng.normal(size=(D, C)), rng.normal(size=(N, D)), rng.integers(0, C, size=N)


def large_batches(rng):
    C = 4
    yield "near +1000", np.eye(C), 1000.0 + rng.normal(size=(3, C)), rng.integers(0, C, size=3)
    yield "near -1000", np.eye(C), -1000.0 + rng.normal(size=(3, C)), rng.integers(0, C, size=3)
    X = rng.normal(size=(3, C))
    X[1] += 1000.0
    yield "row far below", np.eye(C), X, rng.integers(0, C, size=3)


# ---------------------------------------------------------------- PyTorch versions

def t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def torch_svm(scores, y):
    N = scores.shape[0]
    correct = scores[torch.arange(N), torch.as_tensor(y)].reshape(-1, 1)
    margins = torch.relu(scores - correct + 1.0)     # relu'(0) = 0; clamp's would be 1
    mask = torch.ones_like(margins)
    mask[torch.arange(N), torch.as_tensor(y)] = 0.0
    return (margins * mask).sum() / N


def torch_softmax(scores, y):
    return torch.nn.functional.cross_entropy(scores, torch.as_tensor(y), reduction="mean")


def torch_linear(kind, W, X, y, reg):
    """(loss, dW) of a linear classifier from autograd."""
    Wt = t(W)
    scores = torch.as_tensor(X) @ Wt
    loss = (torch_svm if kind == "svm" else torch_softmax)(scores, y) + reg * (Wt * Wt).sum()
    loss.backward()
    return loss.item(), Wt.grad.numpy()


def torch_scores_loss(kind, x, y):
    xt = t(x)
    loss = (torch_svm if kind == "svm" else torch_softmax)(xt, y)
    loss.backward()
    return loss.item(), xt.grad.numpy()


# ---------------------------------------------------------------- linear classifiers

LINEAR = [(kind, version) for kind in ("svm", "softmax")
          for version in ("naive", "vectorized", "staged")]


def linear(ref, kind, version, W, X, y, reg):
    out = getattr(ref, "%s_loss_%s" % (kind, version))(W, X, y, reg)
    return out[0], out[1]


@pytest.mark.parametrize("kind,version", LINEAR)
@pytest.mark.parametrize("N,D,C", SHAPES)
def test_linear_against_torch_and_central_differences(ref, kind, version, N, D, C):
    W, X, y = batch(_rng(kind, version, N), N, D, C)
    loss, dW = linear(ref, kind, version, W, X, y, 0.37)
    t_loss, t_dW = torch_linear(kind, W, X, y, 0.37)
    assert np.isclose(loss, t_loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dW, t_dW, rtol=1e-10, atol=1e-12)
    numeric = numerical_gradient(lambda w: linear(ref, kind, version, w, X, y, 0.37)[0], W.copy())
    np.testing.assert_allclose(dW, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("version", ("naive", "vectorized", "staged"))
def test_svm_ties_and_zero_margins_against_torch(ref, version):
    """At a margin of exactly 0, max(0, .) has no derivative: the course takes 0, as
    torch.relu does (torch.clamp(min=0) would take 1); ties with the correct class (margin 1)
    are violated."""
    W, X, y = integer_batch(_rng("ties", version))
    loss, dW = linear(ref, "svm", version, W, X, y, 0.1)
    t_loss, t_dW = torch_linear("svm", W, X, y, 0.1)
    assert np.isclose(loss, t_loss, rtol=1e-12)
    np.testing.assert_allclose(dW, t_dW, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("version", ("naive", "vectorized", "staged"))
def test_softmax_large_scores_against_torch(ref, version):
    for name, W, X, y in large_batches(_rng("large", version)):
        with np.errstate(all="raise"):
            loss, dW = linear(ref, "softmax", version, W, X, y, 0.0)
        t_loss, t_dW = torch_linear("softmax", W, X, y, 0.0)
        assert np.isfinite(loss), name
        assert np.isclose(loss, t_loss, rtol=1e-12), name
        np.testing.assert_allclose(dW, t_dW, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", ("svm", "softmax"))
def test_naive_vectorized_and_staged_agree(ref, kind):
    rng = _rng("agree", kind)
    for N, D, C in SHAPES:
        W, X, y = batch(rng, N, D, C)
        results = [linear(ref, kind, v, W, X, y, 0.2) for v in ("naive", "vectorized", "staged")]
        for loss, dW in results[1:]:
            assert np.isclose(loss, results[0][0], rtol=1e-13)
            np.testing.assert_allclose(dW, results[0][1], rtol=1e-11, atol=1e-14)


# ---------------------------------------------------------------- staged graphs: every node

def svm_nodes_torch(W, X, y, reg):
    """The SVM graph's nodes as PyTorch tensors, with gradients retained."""
    N = X.shape[0]
    Wt = t(W)
    Xt = t(X)
    W3 = Wt ** 2
    W4 = W3.sum()
    R = reg * W4
    a = Xt @ Wt
    d = a[torch.arange(N), torch.as_tensor(y)].reshape(N, -1)
    e = a - d
    f = e + 1.0
    g = torch.relu(f)
    h = g.sum()
    i = h / N
    L = i + R - 1.0
    nodes = {"R": R, "i": i, "h": h, "g": g, "f": f, "e": e, "d": d, "a": a, "W4": W4, "W3": W3}
    for v in nodes.values():
        v.retain_grad()
    L.backward()
    return L.item(), nodes, Wt.grad.numpy(), Xt.grad.numpy()


def test_svm_staged_nodes_against_torch(ref):
    rng = _rng("svm nodes")
    for N, D, C in SHAPES:
        W, X, y = batch(rng, N, D, C)
        loss, dW, grads = ref.svm_loss_staged(W, X, y, 0.3)
        t_loss, nodes, t_dW, t_dX = svm_nodes_torch(W, X, y, 0.3)
        assert np.isclose(loss, t_loss, rtol=1e-12)
        for key in ("R", "i", "h", "g", "f", "e", "d", "W4", "W3"):
            np.testing.assert_allclose(grads["d" + key], nodes[key].grad.numpy(), atol=1e-12,
                                       err_msg=key)
        # b and c are both a: their gradients add up to a's
        np.testing.assert_allclose(grads["da"], nodes["a"].grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(grads["db"] + grads["dc"], grads["da"], atol=1e-15)
        np.testing.assert_allclose(grads["dW1"] + grads["dW2"], t_dW, atol=1e-12)
        np.testing.assert_allclose(grads["dX"], t_dX, atol=1e-12)


def softmax_nodes_torch(W, X, y, reg):
    N = X.shape[0]
    Wt, Xt = t(W), t(X)
    R = reg * (Wt ** 2).sum()
    a = Xt @ Wt
    d = a.max(dim=1, keepdim=True).values
    f = a - d
    m = f[torch.arange(N), torch.as_tensor(y)].reshape(N, -1)
    h = torch.exp(f)
    i = h.sum(dim=1, keepdim=True)
    j = torch.log(i)
    l = j - m                                      # noqa: E741 (the chapter's name)
    beta = l.sum()
    alpha = beta / N
    L = R + alpha
    nodes = {"R": R, "alpha": alpha, "beta": beta, "l": l, "j": j, "m": m, "i": i, "h": h,
             "f": f, "d": d, "a": a}
    for v in nodes.values():
        v.retain_grad()
    L.backward()
    return L.item(), nodes, Wt.grad.numpy(), Xt.grad.numpy()


def test_softmax_staged_nodes_against_torch(ref):
    rng = _rng("softmax nodes")
    cases = [batch(rng, N, D, C) for N, D, C in SHAPES]
    cases += [(W, X, y) for _, W, X, y in large_batches(rng)]
    for W, X, y in cases:
        loss, dW, grads = ref.softmax_loss_staged(W, X, y, 0.3)
        t_loss, nodes, t_dW, t_dX = softmax_nodes_torch(W, X, y, 0.3)
        assert np.isclose(loss, t_loss, rtol=1e-12)
        for key in ("R", "alpha", "beta", "l", "j", "m", "i", "h"):
            np.testing.assert_allclose(grads["d" + key], nodes[key].grad.numpy(), atol=1e-12,
                                       err_msg=key)
        # f feeds k and g; a feeds b and c (through the max)
        np.testing.assert_allclose(grads["df"], nodes["f"].grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(grads["dk"] + grads["dg"], grads["df"], atol=1e-15)
        np.testing.assert_allclose(grads["dd"], nodes["d"].grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(grads["dd"], 0.0, atol=1e-12)   # a row shift changes nothing
        np.testing.assert_allclose(grads["da"], nodes["a"].grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(grads["dW1"] + grads["dW2"], t_dW, atol=1e-12)
        np.testing.assert_allclose(grads["dX"], t_dX, atol=1e-12)


# ---------------------------------------------------------------- the seed's mistakes

def test_seed_svm_graph_with_plus_delta_is_two_margins_too_high(ref):
    """The seed's op 11, L = i + R + Delta: the correct classes already put Delta into i."""
    W, X, y = batch(_rng("seed svm"), 5, 4, 3)
    loss = ref.svm_loss_vectorized(W, X, y, 0.2)[0]
    s = X @ W
    g = np.maximum(0, s - s[np.arange(5), y][:, None] + 1.0)
    i = g.sum() / 5
    R = 0.2 * np.sum(W * W)
    assert np.isclose(i + R - 1.0, loss)
    assert np.isclose((i + R + 1.0) - loss, 2.0)


def test_seed_softmax_global_max_fails_on_a_row_far_below(ref):
    X = np.array([[0.0, 1.0, 2.0], [1000.0, 1001.0, 999.0]])
    y = np.array([1, 2])
    with np.errstate(all="ignore"):
        f = X - np.max(X)                        # the seed's global maximum
        seed_loss = np.mean(np.log(np.exp(f).sum(axis=1)) - f[np.arange(2), y])
    assert np.isinf(seed_loss)
    assert np.isfinite(ref.softmax_loss_vectorized(np.eye(3), X, y, 0.0)[0])


def test_seed_softmax_sum_without_keepdims_is_n_times_the_loss(ref):
    """i = np.sum(h, axis=1) has shape (N,); j - m with m (N, 1) broadcasts to (N, N)."""
    W, X, y = batch(_rng("seed keepdims"), 4, 3, 5)
    s = X @ W
    f = s - s.max(axis=1, keepdims=True)
    m = f[np.arange(4), y].reshape(4, -1)
    j = np.log(np.exp(f).sum(axis=1))
    assert (j - m).shape == (4, 4)
    loss = ref.softmax_loss_vectorized(W, X, y, 0.0)[0]
    assert np.isclose(np.sum(j - m) / 4, 4 * loss)


# ---------------------------------------------------------------- layers and losses on scores

@pytest.mark.parametrize("shape,M", (((1, 4), 3), ((5, 6), 2), ((4, 2, 3, 2), 5)))
def test_affine_against_torch_and_central_differences(ref, shape, M):
    rng = _rng("affine", shape)
    D = int(np.prod(shape[1:]))
    x, w, b = rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M)
    dout = rng.normal(size=(shape[0], M))
    out, cache = ref.affine_forward(x, w, b)
    dx, dw, db = ref.affine_backward(dout, cache)
    xt, wt, bt = t(x), t(w), t(b)
    ot = xt.reshape(shape[0], -1) @ wt + bt
    ot.backward(torch.as_tensor(dout))
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-13)
    for mine, theirs in ((dx, xt), (dw, wt), (db, bt)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dx, numerical_gradient(lambda v: ref.affine_forward(v, w, b)[0],
                                                      x.copy(), dout), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dw, numerical_gradient(lambda v: ref.affine_forward(x, v, b)[0],
                                                      w.copy(), dout), rtol=1e-6, atol=1e-8)


def test_relu_against_torch_with_zeros(ref):
    rng = _rng("relu")
    x, dout = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    x.flat[::4] = 0.0
    out, cache = ref.relu_forward(x)
    xt = t(x)
    torch.relu(xt).backward(torch.as_tensor(dout))
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    np.testing.assert_array_equal(ref.relu_backward(dout, cache), xt.grad.numpy())


@pytest.mark.parametrize("kind", ("svm", "softmax"))
def test_losses_on_scores_against_torch(ref, kind):
    rng = _rng("scores", kind)
    cases = [(rng.normal(size=(N, C)), rng.integers(0, C, size=N))
             for N, C in ((1, 3), (4, 5), (9, 10))]
    x = rng.integers(-2, 3, size=(6, 4)).astype(np.float64)
    y = rng.integers(0, 4, size=6)
    x[0, (y[0] + 1) % 4] = x[0, y[0]] - 1.0          # a zero margin
    x[0, (y[0] + 2) % 4] = x[0, y[0]]                # a tie
    cases.append((x, y))
    if kind == "softmax":
        cases += [(X, yy) for _, _, X, yy in large_batches(rng)]
    for x, y in cases:
        with np.errstate(all="raise"):
            loss, dx = getattr(ref, kind + "_loss")(x, y)
        t_loss, t_dx = torch_scores_loss(kind, x, y)
        assert np.isclose(loss, t_loss, rtol=1e-12)
        np.testing.assert_allclose(dx, t_dx, rtol=1e-10, atol=1e-13)
        if np.abs(x).max() < 100 and kind == "softmax":
            numeric = numerical_gradient(lambda v, y=y: ref.softmax_loss(v, y)[0], x.copy())
            np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- the two-layer net

@pytest.mark.parametrize("shape,H,C,reg", (((1, 4), 3, 2, 0.0), ((5, 6), 4, 3, 0.3),
                                           ((3, 2, 2, 3), 5, 4, 1.1)))
def test_two_layer_net_against_torch_and_central_differences(ref, shape, H, C, reg):
    rng = _rng("net", shape)
    D = int(np.prod(shape[1:]))
    params = {"W1": 0.5 * rng.normal(size=(D, H)), "b1": rng.normal(size=H),
              "W2": 0.5 * rng.normal(size=(H, C)), "b2": rng.normal(size=C)}
    X, y = rng.normal(size=shape), rng.integers(0, C, size=shape[0])
    loss, grads = ref.two_layer_net_loss(params, X, y, reg)
    pt = {k: t(v) for k, v in params.items()}
    scores = torch.relu(torch.as_tensor(X).reshape(shape[0], -1) @ pt["W1"] + pt["b1"])
    scores = scores @ pt["W2"] + pt["b2"]
    t_loss = torch_softmax(scores, y) + 0.5 * reg * ((pt["W1"] ** 2).sum() + (pt["W2"] ** 2).sum())
    t_loss.backward()
    assert np.isclose(loss, t_loss.item(), rtol=1e-12)
    np.testing.assert_allclose(ref.two_layer_net_loss(params, X), scores.detach().numpy(),
                               rtol=1e-12)
    for key in params:
        np.testing.assert_allclose(grads[key], pt[key].grad.numpy(), rtol=1e-10, atol=1e-12)

        def f(v, key=key):
            return ref.two_layer_net_loss(dict(params, **{key: v}), X, y, reg)[0]
        np.testing.assert_allclose(grads[key], numerical_gradient(f, params[key].copy()),
                                   rtol=1e-5, atol=1e-8)


def test_two_layer_net_class_uses_the_function(ref):
    np.random.seed(0)
    net = ref.TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3, weight_scale=1e-2, reg=0.4)
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (6, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
    X, y = np.random.randn(5, 2, 3), np.array([0, 1, 2, 1, 0])
    np.testing.assert_array_equal(net.loss(X), ref.two_layer_net_loss(net.params, X))
    loss, grads = net.loss(X, y)
    assert loss == ref.two_layer_net_loss(net.params, X, y, 0.4)[0]
