"""Chapter 7's reference: convolution and max pooling against central differences and PyTorch.

The reference is the solution notebook (``autograder.grading.reference``), with cs231n's API:
``conv_forward_naive(x, w, b, conv_param)``, ``conv_backward_naive(dout, cache)``,
``max_pool_forward_naive(x, pool_param)``, ``max_pool_backward_naive(dout, cache)`` and the
``_fast`` versions of all four (pure numpy). The tests check (1) the forward passes against
``torch.nn.functional.conv2d`` / ``max_pool2d`` and the gradients against PyTorch's autograd
(float64), ties in max pooling included; (2) the gradients against central differences;
(3) naive == fast on random shapes, strides and paddings; (4) the ValueError for a stride
that does not fit; (5) the small CNN's gradients end to end; (6) what the chapter says about
the seed (its convolution, its equations, its errata).
"""
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from autograder.grading.reference import load_reference
from autograder.toolkit.checks import numerical_gradient

# (N, C, H, W, F, HH, WW, stride, pad)
CONV_CASES = (
    (2, 3, 5, 5, 2, 3, 3, 1, 1),
    (2, 2, 7, 5, 3, 3, 3, 2, 1),
    (1, 1, 6, 6, 1, 2, 2, 2, 0),
    (3, 2, 8, 7, 2, 2, 4, 3, 0),
    (2, 3, 9, 8, 4, 5, 5, 1, 2),
    (2, 1, 11, 11, 2, 3, 3, 4, 0),
    (1, 2, 4, 4, 3, 1, 1, 1, 0),
    (2, 2, 5, 5, 2, 3, 3, 1, 3),
)
# (N, C, H, W, HH, WW, stride)
POOL_CASES = (
    (2, 3, 4, 6, 2, 2, 2),
    (2, 2, 5, 4, 3, 2, 1),
    (1, 1, 7, 9, 3, 3, 2),
    (3, 2, 6, 6, 3, 3, 3),
    (2, 1, 8, 8, 4, 2, 2),
)


@pytest.fixture(scope="module")
def ref():
    return load_reference("ch07_cnn")


def _rng(*key):
    """A generator seeded by the test's key: the same inputs at every run."""
    return np.random.default_rng(zlib.crc32(repr(("ch07_cnn",) + key).encode()))


def conv_inputs(case, rng):
    N, C, H, W, F, HH, WW, stride, pad = case
    return (rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, HH, WW)), rng.normal(size=F),
            {"stride": stride, "pad": pad})


def torch_conv(x, w, b, conv_param, dout):
    """PyTorch's forward and (dx, dw, db) for the upstream gradient dout."""
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = TF.conv2d(tx, tw, tb, stride=conv_param["stride"], padding=conv_param["pad"])
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def torch_pool(x, pool_param, dout):
    tx = torch.tensor(x, requires_grad=True)
    out = TF.max_pool2d(tx, (pool_param["pool_height"], pool_param["pool_width"]),
                        pool_param["stride"])
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), tx.grad.numpy()


def pool_inputs(case, rng, ties=False):
    N, C, H, W, HH, WW, stride = case
    x = (rng.integers(0, 3, size=(N, C, H, W)).astype(float) if ties
         else rng.normal(size=(N, C, H, W)))
    return x, {"pool_height": HH, "pool_width": WW, "stride": stride}


@pytest.mark.parametrize("kind", ("naive", "fast"))
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_matches_pytorch(ref, kind, case):
    x, w, b, conv_param = conv_inputs(case, _rng("conv-torch", case))
    out, cache = getattr(ref, "conv_forward_" + kind)(x, w, b, conv_param)
    dout = _rng("conv-torch-dout", case).normal(size=out.shape)
    t_out, t_dx, t_dw, t_db = torch_conv(x, w, b, conv_param, dout)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    dx, dw, db = getattr(ref, "conv_backward_" + kind)(dout, cache)
    for got, expected in ((dx, t_dx), (dw, t_dw), (db, t_db)):
        assert got.shape == expected.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ("naive", "fast"))
@pytest.mark.parametrize("case", CONV_CASES[:4])
def test_conv_matches_central_differences(ref, kind, case):
    x, w, b, conv_param = conv_inputs(case, _rng("conv-numeric", case))
    forward = getattr(ref, "conv_forward_" + kind)
    out, cache = forward(x, w, b, conv_param)
    dout = _rng("conv-numeric-dout", case).normal(size=out.shape)
    dx, dw, db = getattr(ref, "conv_backward_" + kind)(dout, cache)
    np.testing.assert_allclose(dx, numerical_gradient(
        lambda a: forward(a, w, b, conv_param)[0], x.copy(), dout=dout), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dw, numerical_gradient(
        lambda a: forward(x, a, b, conv_param)[0], w.copy(), dout=dout), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, numerical_gradient(
        lambda a: forward(x, w, a, conv_param)[0], b.copy(), dout=dout), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("ties", (False, True))
@pytest.mark.parametrize("kind", ("naive", "fast"))
@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_matches_pytorch(ref, kind, case, ties):
    """PyTorch's max_pool2d also sends a tie's gradient to the first maximum (row-major)."""
    x, pool_param = pool_inputs(case, _rng("pool-torch", case, ties), ties)
    out, cache = getattr(ref, "max_pool_forward_" + kind)(x, pool_param)
    dout = _rng("pool-torch-dout", case).normal(size=out.shape)
    t_out, t_dx = torch_pool(x, pool_param, dout)
    np.testing.assert_allclose(out, t_out, rtol=0, atol=0)
    dx = getattr(ref, "max_pool_backward_" + kind)(dout, cache)
    assert dx.shape == x.shape and dx.dtype == np.float64
    np.testing.assert_allclose(dx, t_dx, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ("naive", "fast"))
@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_matches_central_differences(ref, kind, case):
    x, pool_param = pool_inputs(case, _rng("pool-numeric", case))
    forward = getattr(ref, "max_pool_forward_" + kind)
    out, cache = forward(x, pool_param)
    dout = _rng("pool-numeric-dout", case).normal(size=out.shape)
    dx = getattr(ref, "max_pool_backward_" + kind)(dout, cache)
    numeric = numerical_gradient(lambda a: forward(a, pool_param)[0], x.copy(), dout=dout)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)


def test_naive_equals_fast_on_random_shapes(ref):
    rng = _rng("random-shapes")
    for _ in range(25):
        N, C, F = rng.integers(1, 4, size=3)
        HH, WW = rng.integers(1, 6, size=2)
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        H = HH - 2 * pad + stride * int(rng.integers(max(0, 2 * pad - HH + stride) // stride, 5))
        W = WW - 2 * pad + stride * int(rng.integers(max(0, 2 * pad - WW + stride) // stride, 5))
        if H < 1 or W < 1:
            continue
        x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, HH, WW)), rng.normal(size=F)
        conv_param = {"stride": stride, "pad": pad}
        out_n, cache_n = ref.conv_forward_naive(x, w, b, conv_param)
        out_f, cache_f = ref.conv_forward_fast(x, w, b, conv_param)
        np.testing.assert_allclose(out_f, out_n, rtol=1e-10, atol=1e-12)
        dout = rng.normal(size=out_n.shape)
        for g_n, g_f in zip(ref.conv_backward_naive(dout, cache_n),
                            ref.conv_backward_fast(dout, cache_f)):
            np.testing.assert_allclose(g_f, g_n, rtol=1e-10, atol=1e-12)
        ph, pw, ps = (int(v) for v in rng.integers(1, 4, size=3))
        Hp, Wp = ph + ps * int(rng.integers(0, 4)), pw + ps * int(rng.integers(0, 4))
        xp = rng.integers(0, 3, size=(N, C, Hp, Wp)).astype(float)   # many ties
        pool_param = {"pool_height": ph, "pool_width": pw, "stride": ps}
        out_n, cache_n = ref.max_pool_forward_naive(xp, pool_param)
        out_f, cache_f = ref.max_pool_forward_fast(xp, pool_param)
        np.testing.assert_array_equal(out_f, out_n)
        dout = rng.normal(size=out_n.shape)
        np.testing.assert_allclose(ref.max_pool_backward_fast(dout, cache_f),
                                   ref.max_pool_backward_naive(dout, cache_n), atol=1e-14)


@pytest.mark.parametrize("name", ("conv_forward_naive", "conv_forward_fast"))
def test_conv_stride_that_does_not_fit_raises(ref, name):
    with pytest.raises(ValueError):
        getattr(ref, name)(np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1),
                           {"stride": 2, "pad": 0})
    with pytest.raises(ValueError):
        getattr(ref, name)(np.zeros((1, 1, 5, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1),
                           {"stride": 2, "pad": 1})


@pytest.mark.parametrize("name", ("max_pool_forward_naive", "max_pool_forward_fast"))
def test_pool_stride_that_does_not_fit_raises(ref, name):
    with pytest.raises(ValueError):
        getattr(ref, name)(np.zeros((1, 1, 5, 5)), {"pool_height": 2, "pool_width": 2,
                                                    "stride": 2})


def test_inputs_are_not_modified(ref):
    rng = _rng("unchanged")
    x, w, b, conv_param = conv_inputs(CONV_CASES[1], rng)
    copies = [a.copy() for a in (x, w, b)]
    for kind in ("naive", "fast"):
        out, cache = getattr(ref, "conv_forward_" + kind)(x, w, b, conv_param)
        dout = rng.normal(size=out.shape)
        dout_copy = dout.copy()
        getattr(ref, "conv_backward_" + kind)(dout, cache)
        for a, c in zip((x, w, b, dout), copies + [dout_copy]):
            np.testing.assert_array_equal(a, c)


def torch_seed_network(x, t, params):
    """The notes' network in PyTorch: S and its gradients, by autograd."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx = torch.tensor(x, requires_grad=True)
    # (10): a convolution is a cross-correlation with the kernel flipped
    z1 = TF.conv2d(tx[None, None], torch.flip(p["W_conv"], (0, 1))[None, None])[0, 0] + p["b1"]
    z2 = TF.max_pool2d(torch.relu(z1)[None, None], 2, 2)[0, 0] + p["b2"]
    z3 = p["W_full"].reshape(len(t), -1) @ torch.relu(z2).reshape(-1) + p["b3"]
    S = -(torch.tensor(t) * torch.log_softmax(z3, 0)).sum()
    S.backward()
    return S.item(), tx.grad.numpy(), {k: v.grad.numpy() for k, v in p.items()}


def seed_case(ref, seed=None):
    """The chapter's example of the notes' network, or a random one."""
    if seed is None:
        return ref.SEED_X, ref.SEED_T, ref.SEED_PARAMS
    rng = _rng("seed-network", seed)
    K = 3
    params = {"W_conv": rng.normal(size=(3, 3)), "b1": rng.normal(size=(6, 4)),
              "b2": rng.normal(size=(3, 2)), "W_full": rng.normal(size=(K, 3, 2)),
              "b3": rng.normal(size=K)}
    return rng.normal(size=(8, 6)), np.eye(K)[seed % K], params


@pytest.mark.parametrize("seed", (None, 1, 2, 3))
def test_seed_network_gradients_match_pytorch(ref, seed):
    x, t, params = seed_case(ref, seed)
    got = ref.seed_network(x, t, params)
    S, dx, grads = torch_seed_network(x, t, params)
    assert got["S"] == pytest.approx(S, rel=1e-12)
    for name, key in (("dW_conv", "W_conv"), ("db1", "b1"), ("db2", "b2"),
                      ("dW_full", "W_full"), ("db3", "b3")):
        np.testing.assert_allclose(got[name], grads[key], rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(got["dx"], dx, rtol=1e-10, atol=1e-12)


def test_seed_equation_49_is_off_by_the_probability_of_the_target(ref):
    """The notes' (49) keeps y_h: with a one-hot target it is y_target times the gradient."""
    x, t, params = seed_case(ref)
    got = ref.seed_network(x, t, params)
    y_target = got["y"][int(np.argmax(t))]
    np.testing.assert_allclose(got["db2_seed"], y_target * got["db2"], rtol=1e-12, atol=1e-15)
    assert not np.allclose(got["db2_seed"], got["db2"])
    numeric = numerical_gradient(lambda b: ref.seed_network(x, t, dict(params, b2=b))["S"],
                                 params["b2"].copy())
    np.testing.assert_allclose(got["db2"], numeric, rtol=1e-6, atol=1e-9)


def test_seed_convolution_is_a_flipped_cross_correlation(ref):
    x, t, params = seed_case(ref)
    got = ref.seed_network(x, t, params)
    out, _ = ref.conv_forward_naive(x[None, None], params["W_conv"][::-1, ::-1][None, None].copy(),
                                    np.zeros(1), {"stride": 1, "pad": 0})
    np.testing.assert_allclose(got["z1"] - params["b1"], out[0, 0], rtol=1e-12, atol=1e-14)


def test_gradient_of_a_cross_correlation_is_a_convolution(ref):
    """dx of the layer = the full convolution of dout with w: a cross-correlation of dout,
    padded by HH - 1, with the flipped kernel (channels in and out swapped); and dw = the
    cross-correlation of x with dout."""
    rng = _rng("duality")
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    out, cache = ref.conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    dout = rng.normal(size=out.shape)
    dx, dw, _ = ref.conv_backward_naive(dout, cache)
    doutp = np.pad(dout, ((0, 0), (0, 0), (2, 2), (1, 1)))
    w_flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    full, _ = ref.conv_forward_naive(doutp, w_flipped, np.zeros(3), {"stride": 1, "pad": 0})
    np.testing.assert_allclose(dx, full, rtol=1e-12, atol=1e-12)
    corr, _ = ref.conv_forward_naive(x.transpose(1, 0, 2, 3).copy(),
                                     dout.transpose(1, 0, 2, 3).copy(), np.zeros(4),
                                     {"stride": 1, "pad": 0})
    np.testing.assert_allclose(dw, corr.transpose(1, 0, 2, 3), rtol=1e-12, atol=1e-12)


def cnn_case(seed, N=4, C=3, H=8, W=6, F=5, K=4, size=3):
    rng = _rng("cnn", seed)
    params = {"W1": rng.normal(size=(F, C, size, size)), "b1": rng.normal(size=F),
              "W2": rng.normal(scale=0.5, size=(F * H * W // 4, K)), "b2": rng.normal(size=K)}
    return params, rng.normal(size=(N, C, H, W)), rng.integers(0, K, size=N)


def torch_cnn_loss(params, X, y, reg):
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    pad = (params["W1"].shape[2] - 1) // 2
    h = TF.max_pool2d(torch.relu(TF.conv2d(torch.tensor(X), p["W1"], p["b1"], padding=pad)), 2, 2)
    scores = h.reshape(len(X), -1) @ p["W2"] + p["b2"]
    loss = TF.cross_entropy(scores, torch.tensor(y)) \
        + 0.5 * reg * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
    loss.backward()
    return scores.detach().numpy(), loss.item(), {k: v.grad.numpy() for k, v in p.items()}


@pytest.mark.parametrize("seed,reg,size", ((0, 0.0, 3), (1, 0.3, 3), (2, 0.1, 5), (3, 0.0, 1)))
def test_cnn_loss_matches_pytorch(ref, seed, reg, size):
    params, X, y = cnn_case(seed, size=size)
    scores, loss, grads = torch_cnn_loss(params, X, y, reg)
    np.testing.assert_allclose(ref.cnn_loss(params, X), scores, rtol=1e-10, atol=1e-12)
    got_loss, got = ref.cnn_loss(params, X, y, reg)
    assert got_loss == pytest.approx(loss, rel=1e-12)
    assert set(got) == set(params)
    for name in params:
        np.testing.assert_allclose(got[name], grads[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_cnn_loss_matches_central_differences(ref):
    params, X, y = cnn_case(7, N=2, C=2, H=4, W=4, F=2, K=3)
    _, grads = ref.cnn_loss(params, X, y, 0.2)
    for name in params:
        numeric = numerical_gradient(
            lambda a, name=name: ref.cnn_loss(dict(params, **{name: a}), X, y, 0.2)[0],
            params[name].copy())
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def test_worked_examples_match_pytorch(ref):
    """The literals of the setup cell: the conv outputs and the max-pool example."""
    for (stride, pad), expected in ref.CONV_OUT.items():
        out = TF.conv2d(torch.tensor(ref.CONV_X), torch.tensor(ref.CONV_W),
                        torch.tensor(ref.CONV_B), stride=stride, padding=pad).numpy()
        np.testing.assert_array_equal(expected, out)
    flipped = TF.conv2d(torch.tensor(ref.CONV_X), torch.flip(torch.tensor(ref.CONV_W), (2, 3)),
                        torch.tensor(ref.CONV_B), padding=1).numpy()
    np.testing.assert_array_equal(ref.CONV_OUT_FLIPPED, flipped)
    out, dx = torch_pool(ref.POOL_X, ref.POOL_PARAM, ref.POOL_DOUT)
    np.testing.assert_array_equal(ref.POOL_OUT, out)
    np.testing.assert_array_equal(ref.POOL_DX, dx)
    assert not np.array_equal(ref.POOL_DX_ALL_MAXIMA, ref.POOL_DX)
