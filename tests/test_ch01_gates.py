"""Chapter 1's reference gradients, checked against central differences and PyTorch.

The reference is the solution notebook (``autograder.grading.reference``). PyTorch (CPU build)
is an independent autodiff; every comparison is in float64. Where max/min have no
derivative (ties) the chapter's rule is "all of the gradient to the first maximal (minimal)
input"; the tests compare it with ``torch.max(x, dim=0)``, which routes the gradient to the
one index it returns, and they record that ``torch.amax`` (like ``torch.max(x)`` without
``dim``) splits it evenly instead.
"""
import warnings
import zlib

import numpy as np
import pytest
import torch

from autograder.grading.reference import load_reference
from autograder.toolkit.checks import numerical_gradient

SIZES = (1, 2, 3, 5, 8)
FORWARD = {"add": np.sum, "mul": np.prod, "max": np.max, "min": np.min}
TORCH_FORWARD = {"add": torch.sum, "mul": torch.prod,
                 "max": lambda t: torch.max(t, dim=0)[0],
                 "min": lambda t: torch.min(t, dim=0)[0]}


@pytest.fixture(scope="module")
def ref():
    return load_reference("ch01_gates")


def _rng(*key):
    """A generator seeded by the test's key: the same inputs at every run."""
    return np.random.default_rng(zlib.crc32(repr(("ch01_gates",) + key).encode()))


def _torch_grad(f, *arrays, upstream=1.0):
    """Gradients of sum(f(*tensors) * upstream) with respect to every array (float64)."""
    ts = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = f(*ts)
    out.backward(torch.as_tensor(upstream, dtype=torch.float64).expand_as(out))
    return float(out.detach()) if out.ndim == 0 else out.detach().numpy(), \
        [t.grad.numpy() for t in ts]


def _gate(ref, name):
    return getattr(ref, "%s_backward" % name)


# ------------------------------------------------------------------ the four gates

@pytest.mark.parametrize("name", sorted(FORWARD))
@pytest.mark.parametrize("n", SIZES)
def test_gate_matches_numerical_gradient(ref, name, n):
    rng = _rng("num", name, n)
    xs = rng.normal(size=n)                       # continuous: no ties, no zeros
    dout = float(rng.normal())
    analytic = _gate(ref, name)(dout, xs.copy())
    numeric = numerical_gradient(FORWARD[name], xs.copy(), dout=dout)
    assert analytic.shape == (n,)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(FORWARD))
@pytest.mark.parametrize("n", SIZES)
def test_gate_matches_torch(ref, name, n):
    rng = _rng("torch", name, n)
    xs = rng.normal(size=n)
    dout = float(rng.normal())
    _, (expected,) = _torch_grad(TORCH_FORWARD[name], xs, upstream=dout)
    np.testing.assert_allclose(_gate(ref, name)(dout, xs.copy()), expected, rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("xs", [[0.0], [2.0, 0.0], [2.0, 0.0, 3.0], [0.0, 5.0, 0.0],
                                [1.5, -0.5, 0.0, 0.8, -1.2], [0.0, 0.0, 0.0]])
def test_mul_with_zero_inputs(ref, xs):
    """The product of the other inputs, not z / x_i: finite and right when an input is 0."""
    xs = np.array(xs)
    dout = -1.3
    got = ref.mul_backward(dout, xs.copy())
    _, (by_torch,) = _torch_grad(torch.prod, xs, upstream=dout)
    np.testing.assert_allclose(got, by_torch, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got, numerical_gradient(np.prod, xs.copy(), dout=dout),
                               rtol=1e-6, atol=1e-8)
    others = np.array([np.prod(np.delete(xs, i)) for i in range(xs.size)])
    np.testing.assert_array_equal(got, dout * others)


def test_mul_erratum_example(ref):
    """The erratum's example: the seed's z / x_i is NaN where the right gradient is 6."""
    xs = np.array([0.0, 3.0, 2.0])
    with np.errstate(invalid="ignore"):
        seed = np.prod(xs) / xs
    assert np.isnan(seed[0]) and not np.isnan(seed[1:]).any()
    np.testing.assert_array_equal(ref.mul_backward(1.0, xs), [6.0, 0.0, 0.0])


TIES = [("max", [3.0, 3.0]), ("max", [3.0, 1.0, 3.0, 3.0]), ("max", [1.0] * 5),
        ("max", [0.0, -1.0, 4.0, 4.0, -1.0, 2.0]), ("max", [-5.0, 2.0, -1.0, 2.0]),
        ("min", [3.0, 3.0]), ("min", [-2.0, 0.0, 5.0, -2.0]), ("min", [1.0] * 5),
        ("min", [0.0, -1.0, 4.0, 4.0, -1.0, 2.0]), ("min", [5.0, 2.0, 7.0, 2.0, 2.0])]


@pytest.mark.parametrize("name, xs", TIES)
def test_ties_go_to_the_first_extreme_input(ref, name, xs):
    """The tie rule: a unit vector at np.argmax (np.argmin), times dout; sums to dout."""
    xs = np.array(xs)
    pick = np.argmax if name == "max" else np.argmin
    dout = 0.7
    got = _gate(ref, name)(dout, xs.copy())
    expected = np.zeros_like(xs)
    expected[pick(xs)] = dout
    np.testing.assert_array_equal(got, expected)
    assert got.sum() == pytest.approx(dout)


@pytest.mark.parametrize("name, xs", TIES)
def test_ties_compared_with_torch(ref, name, xs):
    """torch.max/min(x, dim=0) agree with the rule; torch.amax/amin split evenly instead.

    Both are documented: max/min with ``dim`` return the first maximal (minimal) index and
    propagate only to it; amax/amin, and max/min over all dimensions, split the gradient
    evenly. The test checks what the installed torch (CPU) really does. Both rules pass
    the same total gradient on.
    """
    xs = np.array(xs)
    dout = 0.7
    got = _gate(ref, name)(dout, xs.copy())
    _, (by_dim,) = _torch_grad(TORCH_FORWARD[name], xs, upstream=dout)
    np.testing.assert_allclose(got, by_dim, rtol=0, atol=0)
    tied = xs == (xs.max() if name == "max" else xs.min())
    assert tied.sum() >= 2                        # the case really is a tie
    even = np.where(tied, dout / tied.sum(), 0.0)
    reductions = (torch.amax, torch.max) if name == "max" else (torch.amin, torch.min)
    for reduction in reductions:                  # amax(x), max(x) without dim: even split
        _, (by_torch,) = _torch_grad(reduction, xs, upstream=dout)
        np.testing.assert_allclose(by_torch, even, rtol=1e-12)
        assert by_torch.sum() == pytest.approx(got.sum())
        assert not np.allclose(by_torch, got)     # the two rules really differ at a tie


@pytest.mark.parametrize("name", ["max", "min"])
def test_binary_torch_maximum_splits_ties(ref, name):
    """torch.maximum(a, b) (torch.minimum) gives 1/2 to each input when a == b."""
    pair = torch.maximum if name == "max" else torch.minimum
    _, grads = _torch_grad(pair, 2.5, 2.5, upstream=0.8)
    np.testing.assert_allclose([float(g) for g in grads], [0.4, 0.4], rtol=1e-12)
    np.testing.assert_array_equal(_gate(ref, name)(0.8, np.array([2.5, 2.5])), [0.8, 0.0])


# ------------------------------------------------------------------ sigmoid

SATURATED = np.array([-1000.0, -745.0, -709.0, -30.0, 0.0, 30.0, 36.0, 37.0, 709.0, 1000.0])


@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4)])
def test_sigmoid_matches_torch_and_numerical(ref, shape):
    rng = _rng("sigmoid", shape)
    x = rng.normal(size=shape) * 4
    dout = rng.normal(size=shape)
    z = ref.sigmoid_forward(x.copy())
    by_torch, (dx_torch,) = _torch_grad(torch.sigmoid, x, upstream=dout)
    assert np.shape(z) == shape
    np.testing.assert_allclose(z, by_torch, rtol=1e-12, atol=0)
    dx = ref.sigmoid_backward(dout, x.copy())
    np.testing.assert_allclose(dx, dx_torch, rtol=1e-12, atol=1e-300)
    numeric = numerical_gradient(ref.sigmoid_forward, np.array(x, dtype=np.float64),
                                 dout=dout)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-9)


def _exact_sigmoid_and_slope(x):
    """sigma(x) and sigma'(x) = e^{-|x|} / (1 + e^{-|x|})^2, to 40 digits, rounded to float64."""
    import mpmath
    with mpmath.workdps(40):
        e = [mpmath.exp(-abs(mpmath.mpf(float(v)))) for v in x]     # no cancellation
        z = [1 / (1 + ei) if v >= 0 else ei / (1 + ei) for v, ei in zip(x, e)]
        return (np.array([float(v) for v in z]),
                np.array([float(ei / (1 + ei) ** 2) for ei in e]))


def test_sigmoid_saturated_is_accurate(ref):
    """The reference keeps every digit of sigma and sigma' where they saturate (|x| to 1000)."""
    dout = np.linspace(-2.0, 2.0, SATURATED.size)
    z, slope = _exact_sigmoid_and_slope(SATURATED)
    np.testing.assert_allclose(ref.sigmoid_forward(SATURATED.copy()), z, rtol=1e-13,
                               atol=1e-320)       # e^{-745} is subnormal: a few digits only
    np.testing.assert_allclose(ref.sigmoid_backward(dout, SATURATED.copy()), dout * slope,
                               rtol=1e-13, atol=1e-320)


def test_sigmoid_saturated_matches_torch(ref):
    """PyTorch computes sigma' as z (1 - z), the textbook form: equal to within 2e-16."""
    dout = np.linspace(-2.0, 2.0, SATURATED.size)
    by_torch, (dx_torch,) = _torch_grad(torch.sigmoid, SATURATED, upstream=dout)
    np.testing.assert_allclose(ref.sigmoid_forward(SATURATED.copy()), by_torch,
                               rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ref.sigmoid_backward(dout, SATURATED.copy()), dx_torch,
                               rtol=1e-12, atol=2 * 2.0 * 2e-16)     # |dout| <= 2


def test_textbook_sigmoid_slope_loses_relative_accuracy():
    """z (1 - z) from the output is 0 at x = 37, where sigma'(37) is 8.5e-17 (the chapter's
    numbers); it is never off by more than 2e-16, which is why the tests accept it."""
    x = np.linspace(-40.0, 40.0, 4001)
    z = 1.0 / (1.0 + np.exp(-x))
    _, exact = _exact_sigmoid_and_slope(x)
    assert np.max(np.abs(z * (1 - z) - exact)) < 2e-16
    z37 = 1.0 / (1.0 + np.exp(-37.0))
    assert z37 == 1.0 and z37 * (1 - z37) == 0.0
    assert _exact_sigmoid_and_slope([37.0])[1][0] == pytest.approx(8.533e-17, rel=1e-3)


def test_sigmoid_is_overflow_free(ref):
    """No numpy warning (overflow, invalid) at +-1000, and the right limits."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            z = ref.sigmoid_forward(SATURATED.copy())
            dx = ref.sigmoid_backward(1.0, SATURATED.copy())
            z_scalar = ref.sigmoid_forward(-1000.0)
    assert np.all(np.isfinite(z)) and np.all(np.isfinite(dx))
    assert z[0] == 0.0 and z[-1] == 1.0 and z_scalar == 0.0
    assert dx[0] == 0.0 and dx[-1] == 0.0 and np.all(dx >= 0) and dx.max() == 0.25


# ------------------------------------------------------------------ the two circuits

def test_circuit1_worked_numbers(ref):
    assert ref.circuit1_forward_backward(-2.0, 5.0, -4.0) == (-12.0, -4.0, -4.0, 3.0)


@pytest.mark.parametrize("seed", range(5))
def test_circuit1_matches_torch_and_numerical(ref, seed):
    v = _rng("circuit1", seed).normal(size=3) * 3
    if seed == 0:
        v[1] = -v[0]                                # x + y = 0: dL/dz = 0
    L, dx, dy, dz = ref.circuit1_forward_backward(*map(float, v))
    by_torch, grads = _torch_grad(lambda x, y, z: (x + y) * z, *v)
    assert L == pytest.approx(by_torch, rel=1e-12)
    np.testing.assert_allclose([dx, dy, dz], [float(g) for g in grads], rtol=1e-12, atol=0)
    numeric = numerical_gradient(lambda u: ref.circuit1_forward_backward(*u)[0], v.copy())
    np.testing.assert_allclose([dx, dy, dz], numeric, rtol=1e-6, atol=1e-8)


def test_neuron_worked_numbers(ref):
    """The numbers the notebook and the page state for w = (2, -3, -1), x = (-1, -2, 2)."""
    L, dw, dx, db = ref.neuron_forward_backward(np.array([2.0, -3.0, -1.0]),
                                                np.array([-1.0, -2.0, 2.0]), -1.0)
    assert round(L, 4) == 0.7311 and round(db, 4) == 0.1966
    np.testing.assert_array_equal(np.round(dw, 4), [-0.1966, -0.3932, 0.3932])
    np.testing.assert_array_equal(np.round(dx, 4), [0.3932, -0.5898, -0.1966])


def _neuron_torch(w, x, b):
    return torch.sigmoid(torch.dot(w, x) + b)


@pytest.mark.parametrize("n", (1, 3, 5))
@pytest.mark.parametrize("scale", (1.0, 30.0))       # 30: w.x + b far into saturation
def test_neuron_matches_torch_and_numerical(ref, n, scale):
    rng = _rng("neuron", n, scale)
    w, x, b = rng.normal(size=n) * scale, rng.normal(size=n) * scale, float(rng.normal())
    L, dw, dx, db = ref.neuron_forward_backward(w.copy(), x.copy(), b)
    by_torch, (tw, tx, tb) = _torch_grad(_neuron_torch, w, x, b)
    assert L == pytest.approx(by_torch, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(dw, tw, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(dx, tx, rtol=1e-10, atol=1e-300)
    assert db == pytest.approx(float(tb), rel=1e-10, abs=1e-300)
    num_w = numerical_gradient(lambda u: ref.neuron_forward_backward(u, x, b)[0], w.copy())
    num_x = numerical_gradient(lambda u: ref.neuron_forward_backward(w, u, b)[0], x.copy())
    np.testing.assert_allclose(dw, num_w, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dx, num_x, rtol=1e-5, atol=1e-8)
