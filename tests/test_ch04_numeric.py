"""Chapter 4's reference: the seed's numeric example, central differences and PyTorch.

The reference is the solution notebook (``autograder.grading.reference``). The chapter's network
is x = (6, 3), W1 (3x2), b1, ReLU, W2 (2x3), b2, softmax, cross-entropy with y = (0, 1),
and J = L + 1/2 ||W1||_F^2 + 1/2 ||W2||_F^2. The tests check (1) that the reference
reproduces every forward number of the notes, (2) what the notes' backward example got
wrong, as recorded in the chapter's errata, and (3) the reference gradients against central
differences and against PyTorch autograd (CPU, float64) on the chapter's network, random
networks of other sizes, a ReLU input exactly 0 and logits near 1000 or far apart. The
chapter's network is the solution notebook's `CH4`, and the random networks come from the
grader's generator (`autograder.hidden.cases`).
"""
import zlib

import numpy as np
import pytest
import torch

from autograder.grading.reference import load_reference
from autograder.hidden import cases
from autograder.toolkit.checks import numerical_gradient

PARAMS = ("W1", "b1", "W2", "b2")
GRADS = ("dv", "dW2", "db2", "dh", "du", "dW1", "db1")
SIZES = cases.SIZES + ((4, 8, 10),)     # (D, H, C): the grader's sizes and a larger one


@pytest.fixture(scope="module")
def ref():
    return load_reference("ch04_numeric")


def seed_network():
    """The network of the notes' numeric example, the notebook's CH4 (fresh arrays)."""
    return {key: np.array(value, dtype=np.float64)
            for key, value in load_reference("ch04_numeric").CH4.items()}


def _rng(*key):
    """A generator seeded by the test's key: the same inputs at every run."""
    return np.random.default_rng(zlib.crc32(repr(("ch04_numeric",) + key).encode()))


def edge_networks():
    """Networks at the edges: ReLU inputs exactly 0, logits near 1000, far-apart logits."""
    rng = _rng("edges")
    nets = {}
    net = cases.network(rng, 3, 4, 3, 1)
    net["W1"][[0, 2]] = 0.0                      # units 0 and 2: u = 0 exactly
    net["b1"][[0, 2]] = 0.0
    nets["relu_at_zero"] = net
    net = cases.network(rng, 2, 3, 2, 0)
    net["x"][:] = 0.0                            # every u = b1 = 0: h = 0
    net["b1"][:] = 0.0
    nets["all_units_at_zero"] = net
    net = cases.network(rng, 3, 4, 3, 2)
    net["b2"] += 1000.0                          # every logit near 1000
    nets["logits_near_1000"] = net
    net = cases.network(rng, 3, 4, 3, 2)
    net["b2"] += 1000.0 * np.array([-1.0, 0.0, 1.0])   # o = (0, 0, 1) exactly, y = class 2
    nets["logits_far_apart"] = net
    net = cases.network(rng, 3, 4, 3, 1)
    net["b2"] -= 1000.0                          # every logit near -1000
    nets["logits_near_minus_1000"] = net
    net = cases.network(rng, 3, 4, 3, 0)
    net["b2"] += 1000.0 * np.array([-1.0, 0.0, 1.0])   # o = (0, 0, 1), y = class 0: L ~ 2000
    nets["target_far_below"] = net
    return nets


EDGES = edge_networks()


def torch_network(net):
    """Forward values and gradients of J from PyTorch autograd, in float64.

    Returns (values, grads): dicts keyed like the reference's forward and backward.
    """
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in PARAMS)
         for k, v in net.items()}
    u = t["W1"] @ t["x"] + t["b1"]
    h = torch.relu(u)
    v = t["W2"] @ h + t["b2"]
    for node in (u, h, v):
        node.retain_grad()
    L = -(t["y"] * torch.log_softmax(v, dim=0)).sum()
    s1 = 0.5 * (t["W1"] ** 2).sum()
    s2 = 0.5 * (t["W2"] ** 2).sum()
    J = L + s1 + s2
    J.backward()
    values = {"u": u, "h": h, "v": v, "o": torch.softmax(v, dim=0), "L": L, "s1": s1,
              "s2": s2, "s": s1 + s2, "J": J}
    values = {k: t_.detach().numpy() for k, t_ in values.items()}
    grads = {"dv": v.grad, "dW2": t["W2"].grad, "db2": t["b2"].grad, "dh": h.grad,
             "du": u.grad, "dW1": t["W1"].grad, "db1": t["b1"].grad}
    return values, {k: g.numpy() for k, g in grads.items()}


def reference_pass(ref, net):
    """The reference's forward dict and backward dict for a network."""
    fwd = ref.forward(**net)
    return fwd, ref.backward(**net, cache=fwd)


# ------------------------------------------------------------------ the notes' numbers

def test_seed_forward_numbers(ref):
    """Every forward number of the notes, from the reference: J = 0.123 + 1.28 = 1.403."""
    fwd = ref.forward(**seed_network())
    np.testing.assert_allclose(fwd["u"], [3.4, 3.5, 2.1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(fwd["h"], [3.4, 3.5, 2.1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(fwd["v"], [3.28, 5.31], rtol=0, atol=1e-12)
    assert np.round(np.exp(fwd["v"]), 3).tolist() == [26.576, 202.35]
    assert round(float(np.sum(np.exp(fwd["v"]))), 3) == 228.926
    assert np.round(fwd["o"], 3).tolist() == [0.116, 0.884]
    assert fwd["o"].sum() == pytest.approx(1.0, abs=1e-15)
    assert round(fwd["L"], 3) == 0.123
    assert fwd["s1"] == pytest.approx(0.52, abs=1e-12)
    assert fwd["s2"] == pytest.approx(0.76, abs=1e-12)
    assert fwd["s"] == pytest.approx(1.28, abs=1e-12)
    assert round(fwd["J"], 3) == 1.403
    assert fwd["J"] == pytest.approx(fwd["L"] + fwd["s1"] + fwd["s2"], abs=1e-15)


def test_seed_loss_has_no_half(ref):
    """The notes' header writes L = 1/2 sum y (-log o); their example (J = 1.403) uses no 1/2."""
    fwd = ref.forward(**seed_network())
    assert round(0.5 * fwd["L"] + fwd["s"], 3) == 1.342          # what the 1/2 would give
    assert round(fwd["L"] + fwd["s"], 3) == 1.403                # what the notes print


def test_seed_log_rounding(ref):
    """ln o_1 is -2.153; the notes' -2.154 is the log of o_1 already rounded to 0.116."""
    fwd = ref.forward(**seed_network())
    assert np.round(np.log(fwd["o"]), 3).tolist() == [-2.153, -0.123]
    assert round(float(np.log(0.116)), 3) == -2.154


def test_seed_backward_right_values(ref):
    """The right gradients of the chapter's network, to 4 decimals (dJ/dJ = 1)."""
    _, grads = reference_pass(ref, seed_network())
    expected = {"dv": [0.1161, -0.1161],
                "dW2": [[0.6947, 0.9063, 0.3438], [-0.1947, 0.2937, 0.5562]],
                "db2": [0.1161, -0.1161],
                "dh": [0.0116, -0.0232, -0.0813],
                "du": [0.0116, -0.0232, -0.0813],
                "dW1": [[0.3697, 0.5348], [0.0607, 0.6303], [-0.3876, 0.1562]],
                "db1": [0.0116, -0.0232, -0.0813]}
    for key, value in expected.items():
        np.testing.assert_allclose(grads[key], value, rtol=0, atol=5e-5, err_msg=key)


def test_seed_backward_is_the_right_one_times_J(ref):
    """The notes' backward numbers are J = 1.403 times the right ones (up to their rounding)."""
    fwd, grads = reference_pass(ref, seed_network())
    notes = {"dv": ([0.163, -0.163], 5e-4),
             "dW2": ([[0.975, 1.273, 0.482], [-0.273, 0.411, 0.78]], 1.5e-3),
             "db2": ([0.163, -0.163], 5e-4),
             "dh": ([0.016, -0.033, -0.114], 5e-4),
             "du": ([0.016, -0.033, -0.114], 5e-4),
             # dh rounded to 3 decimals, then multiplied by x = (6, 3): the error grows
             "dW1": ([[0.517, 0.75], [0.083, 0.883], [-0.544, 0.219]], 2.5e-3)}
    for key, (value, atol) in notes.items():
        np.testing.assert_allclose(value, 1.403 * grads[key], rtol=0, atol=atol, err_msg=key)
        assert not np.allclose(value, grads[key], rtol=0, atol=atol), key
    assert fwd["J"] == pytest.approx(1.403, abs=5e-4)


def test_seed_relu_step_is_right(ref):
    """The notes' ReLU step is right: u > 0 everywhere, so ReLU'(u) = (1, 1, 1) and du = dh."""
    fwd, grads = reference_pass(ref, seed_network())
    assert np.all(fwd["u"] > 0)
    np.testing.assert_array_equal(grads["du"], grads["dh"])


def test_seed_w1_penalty_term(ref):
    """The notes' 2x3 "penalty term" of dJ/dW1 is 1.403 + W2; the right term is W1 (3x2)."""
    net = seed_network()
    printed = np.array([[1.703, 1.903, 1.503], [1.603, 2.103, 2.203]])
    np.testing.assert_allclose(printed, 1.403 + net["W2"], rtol=0, atol=1e-12)
    assert printed.shape != net["W1"].shape and printed.shape == net["W1"].T.shape
    assert not np.allclose(printed, 1.403 + net["W1"].T)          # not W1 transposed
    assert not np.allclose(printed, 1.403 * net["W2"])
    fwd, grads = reference_pass(ref, net)
    np.testing.assert_allclose(grads["dW1"] - np.outer(grads["du"], net["x"]), net["W1"],
                               rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.round(1.403 * net["W1"], 3),       # the notes' next line
                               [[0.421, 0.702], [0.281, 0.982], [0.140, 0.561]], atol=1e-12)


def test_seed_softmax_is_not_elementwise(ref):
    """dJ/do times o(1 - o) elementwise (the notes' header) is not dJ/dv; the Jacobian is."""
    fwd, grads = reference_pass(ref, seed_network())
    o, y = fwd["o"], np.array([0.0, 1.0])
    elementwise = (-y / o) * o * (1 - o)
    assert not np.allclose(elementwise, grads["dv"])
    np.testing.assert_allclose(ref.softmax_backward(-y / o, o), o - y, rtol=1e-12)
    np.testing.assert_allclose(grads["dv"], o - y, rtol=1e-12)


# ------------------------------------------------------------------ central differences

def _numerical_grads(ref, net):
    """Central differences of J for every parameter and for v, h and u."""
    def J_with(name):
        def J(p):
            return ref.forward(**dict(net, **{name: p}))["J"]
        return J
    num = {"d" + name: numerical_gradient(J_with(name), net[name].copy()) for name in PARAMS}
    fwd = ref.forward(**net)
    y, W2, b2 = net["y"], net["W2"], net["b2"]
    # the penalty does not depend on v, h or u: only L does
    num["dv"] = numerical_gradient(lambda v: ref.cross_entropy(v, y), fwd["v"].copy())
    num["dh"] = numerical_gradient(lambda h: ref.cross_entropy(W2 @ h + b2, y), fwd["h"].copy())
    num["du"] = numerical_gradient(lambda u: ref.cross_entropy(W2 @ ref.relu(u) + b2, y),
                                   fwd["u"].copy())
    return num


def _away_from_kinks(rng, D, H, C, target):
    """A random network whose ReLU inputs are all at least 0.01 away from 0."""
    while True:
        net = cases.network(rng, D, H, C, target)
        if np.min(np.abs(net["W1"] @ net["x"] + net["b1"])) > 0.01:
            return net


def test_seed_network_matches_numerical(ref):
    net = seed_network()
    _, grads = reference_pass(ref, net)
    num = _numerical_grads(ref, net)
    for key in GRADS:
        np.testing.assert_allclose(grads[key], num[key], rtol=1e-6, atol=1e-8, err_msg=key)


@pytest.mark.parametrize("D, H, C", SIZES)
def test_random_networks_match_numerical(ref, D, H, C):
    rng = _rng("num", D, H, C)
    for target in sorted({0, C // 2, C - 1}):
        net = _away_from_kinks(rng, D, H, C, target)
        _, grads = reference_pass(ref, net)
        num = _numerical_grads(ref, net)
        for key in GRADS:
            assert grads[key].shape == num[key].shape, key
            np.testing.assert_allclose(grads[key], num[key], rtol=1e-5, atol=1e-7,
                                       err_msg="%s, target %d" % (key, target))


@pytest.mark.parametrize("name", ["logits_near_1000", "logits_far_apart",
                                  "logits_near_minus_1000", "target_far_below"])
def test_large_logits_match_numerical(ref, name):
    net = {k: v.copy() for k, v in EDGES[name].items()}
    fwd, grads = reference_pass(ref, net)
    assert all(np.all(np.isfinite(g)) for g in grads.values())
    num = _numerical_grads(ref, net)
    for key in GRADS:
        np.testing.assert_allclose(grads[key], num[key], rtol=1e-5, atol=1e-7, err_msg=key)


def test_relu_at_zero_numerical_where_defined(ref):
    """At u = 0 ReLU has no derivative: central differences see the average slope 1/2.

    The reference uses ReLU'(0) = 0; the parameters that do not move u (W2, b2) still match
    central differences, and the others are checked against PyTorch below.
    """
    net = {k: v.copy() for k, v in EDGES["relu_at_zero"].items()}
    fwd, grads = reference_pass(ref, net)
    assert fwd["u"][0] == 0.0 and fwd["u"][2] == 0.0
    num = _numerical_grads(ref, net)
    for key in ("dv", "dW2", "db2", "dh"):
        np.testing.assert_allclose(grads[key], num[key], rtol=1e-6, atol=1e-8, err_msg=key)
    assert grads["du"][0] == 0.0 and grads["du"][2] == 0.0
    np.testing.assert_allclose(num["du"][[0, 2]], 0.5 * grads["dh"][[0, 2]], rtol=1e-5)


# ------------------------------------------------------------------ PyTorch

def _compare_with_torch(ref, net, rtol=1e-10, atol=1e-12):
    fwd, grads = reference_pass(ref, net)
    values, by_torch = torch_network(net)
    for key, value in values.items():
        np.testing.assert_allclose(fwd[key], value, rtol=rtol, atol=atol, err_msg=key)
    for key in GRADS:
        assert grads[key].shape == by_torch[key].shape, key
        np.testing.assert_allclose(grads[key], by_torch[key], rtol=rtol, atol=atol, err_msg=key)


def test_seed_network_matches_torch(ref):
    _compare_with_torch(ref, seed_network())


@pytest.mark.parametrize("D, H, C", SIZES)
def test_random_networks_match_torch(ref, D, H, C):
    rng = _rng("torch", D, H, C)
    for target in range(C):
        _compare_with_torch(ref, cases.network(rng, D, H, C, target))


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edge_cases_match_torch(ref, name):
    """ReLU inputs exactly 0 (torch also uses ReLU'(0) = 0) and logits near +-1000 or far apart."""
    _compare_with_torch(ref, EDGES[name])


def test_torch_relu_gradient_at_zero_is_zero():
    """The convention ReLU'(0) = 0 is also PyTorch's."""
    u = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    torch.relu(u).sum().backward()
    assert u.grad.tolist() == [0.0, 0.0, 1.0]


# ------------------------------------------------------------------ the small pieces

@pytest.mark.parametrize("C", [2, 3, 7])
def test_softmax_backward_matches_torch(ref, C):
    rng = _rng("softmax_backward", C)
    v = rng.normal(size=C) * 3
    do = rng.normal(size=C)
    tv = torch.tensor(v, requires_grad=True)
    torch.softmax(tv, dim=0).backward(torch.tensor(do))
    np.testing.assert_allclose(ref.softmax_backward(do, ref.softmax(v)), tv.grad.numpy(),
                               rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ref.softmax_backward(do, ref.softmax(v)),
                               numerical_gradient(ref.softmax, v.copy(), dout=do),
                               rtol=1e-6, atol=1e-9)


def test_softmax_and_cross_entropy_edges(ref):
    """softmax is finite at +-1000; cross_entropy, from the logits, is exact where o = 0."""
    for v in ([1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -999.0]):
        by_torch = torch.softmax(torch.tensor(v, dtype=torch.float64), dim=0).numpy()
        np.testing.assert_allclose(ref.softmax(np.array(v)), by_torch, rtol=1e-12)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert ref.cross_entropy(np.array([0.0, 1000.0]), np.array([1.0, 0.0])) == 1000.0
    assert ref.softmax(np.array([0.0, 1000.0]))[0] == 0.0       # so -log o_0 would be inf
    for v in ([0.0, 1000.0, -5.0], [1000.0, 1001.0, 999.0], [3.0, -2.0, 0.5], [-900.0, 5.0, 1.0]):
        for k in range(3):
            by_torch = torch.nn.functional.cross_entropy(
                torch.tensor([v], dtype=torch.float64), torch.tensor([k])).item()
            assert ref.cross_entropy(np.array(v), np.eye(3)[k]) == pytest.approx(
                by_torch, rel=1e-12, abs=1e-300)


def test_cross_entropy_is_the_log_of_the_softmax(ref):
    """Where o does not underflow, the log-softmax gives -sum y log o, the chapter's formula."""
    rng = _rng("cross_entropy")
    for C in (2, 3, 7):
        v = rng.normal(size=C) * 3
        for k in range(C):
            assert ref.cross_entropy(v, np.eye(C)[k]) == pytest.approx(
                -np.log(ref.softmax(v)[k]), rel=1e-13)


def test_relu_backward_at_zero(ref):
    np.testing.assert_array_equal(
        ref.relu_backward(np.array([1.0, 2.0, 3.0, 4.0]), np.array([-1.0, 0.0, 0.5, 2.0])),
        [0.0, 0.0, 3.0, 4.0])


# ------------------------------------------------------------------ these tests can fail

def test_comparison_rejects_the_notes_mistakes(ref):
    """The PyTorch comparison above fails for gradients scaled by J or missing the penalty."""
    net = seed_network()
    fwd, grads = reference_pass(ref, net)
    _, by_torch = torch_network(net)
    scaled = fwd["J"] * grads["dW1"]
    no_penalty = grads["dW1"] - net["W1"]
    for wrong in (scaled, no_penalty, grads["dW1"].T):
        with pytest.raises(AssertionError):
            np.testing.assert_allclose(wrong, by_torch["dW1"], rtol=1e-10, atol=1e-12)
