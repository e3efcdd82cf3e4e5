"""Hidden tests of chapter 4 (the numeric example network): forward and backward by hand.

Conventions of the chapter: vectors are 1-D arrays, W1 has shape (H, D), W2 (C, H), y is
one-hot; L = -sum y log o (no 1/2); the penalty is 1/2 ||W1||_F^2 + 1/2 ||W2||_F^2;
ReLU'(0) = 0. ``forward`` returns a dict of intermediates, ``backward`` a dict of gradients
of J; both are compared key by key in the order they are computed, and the first wrong
key is named.
"""
import numpy as np

from autograder.grading.testkit import points
from autograder.toolkit.checks import CheckFailure, check_close

FORWARD_KEYS = ("u", "h", "v", "o", "L", "s1", "s2", "s", "J")
BACKWARD_KEYS = ("dv", "dW2", "db2", "dh", "du", "dW1", "db1")
SIZES = ((2, 3, 2), (1, 4, 3), (5, 2, 4), (3, 6, 5))      # (D, H, C)

SEED_NETWORK = {
    "x": np.array([6.0, 3.0]),
    "W1": np.array([[0.3, 0.5], [0.2, 0.7], [0.1, 0.4]]),
    "b1": np.array([0.1, 0.2, 0.3]),
    "W2": np.array([[0.3, 0.5, 0.1], [0.2, 0.7, 0.8]]),
    "b2": np.array([0.3, 0.5]),
    "y": np.array([0.0, 1.0]),
}

SCALED_BY_J = ("every gradient is multiplied by the value of J: the backward pass starts from "
               "dJ/dJ = 1, not from J")
RELU_AT_ZERO = "used ReLU'(0) = 1 where u is exactly 0; this course uses ReLU'(0) = 0 (u > 0)"
SOFTMAX_DIAGONAL = ("softmax' taken elementwise, as o(1 - o) times dJ/do: the softmax Jacobian "
                    "is not diagonal, and dJ/dv = o - y")


def network(rng, D, H, C, target):
    """A random network of sizes D, H, C with a one-hot target of class ``target``."""
    return {"x": rng.normal(size=D), "W1": rng.normal(size=(H, D)), "b1": rng.normal(size=H),
            "W2": rng.normal(size=(C, H)), "b2": rng.normal(size=C), "y": np.eye(C)[target]}


def check_in_order(what, got, expected, keys, mistakes=None):
    """Compare dict entries key by key in the order ``keys``; fail at the first wrong one.

    what: a description of the call (never its inputs); got: the student's dict;
    expected: the reference dict; mistakes: dict key -> list of (description, wrong value).
    """
    if not isinstance(got, dict):
        raise CheckFailure("%s: should return a dict with the keys %s; it returned a value of "
                           "type %s." % (what, ", ".join(keys), type(got).__name__))
    missing = [key for key in keys if key not in got]
    if missing:
        raise CheckFailure("%s: the returned dict has no key %s."
                           % (what, ", ".join(repr(key) for key in missing)))
    for key in keys:
        try:
            check_close("%r from %s" % (key, what), got[key], expected[key],
                        mistakes=(mistakes or {}).get(key, ()))
        except CheckFailure as failure:
            raise CheckFailure("%s It is the first wrong value in the order %s: fix it first, "
                               "the later values may depend on it." % (failure, ", ".join(keys))) from None


def forward_mistakes(ref):
    """Classic forward mistakes, as wrong values built from the reference intermediates."""
    return {"L": [("a factor 1/2 too many: L = -sum y log o has no 1/2", 0.5 * ref["L"])],
            "s1": [("missing the 1/2: s1 = 1/2 ||W1||_F^2", 2 * ref["s1"])],
            "s2": [("missing the 1/2: s2 = 1/2 ||W2||_F^2", 2 * ref["s2"])],
            "J": [("the penalty is missing: J = L + s", ref["L"])]}


def backward_mistakes(net, fwd, ref):
    """Classic backward mistakes, as wrong values built from the reference gradients."""
    J = fwd["J"]
    wrong = {key: [(SCALED_BY_J, J * ref[key])] for key in BACKWARD_KEYS}
    wrong["dv"].append((SOFTMAX_DIAGONAL, -net["y"] * (1 - fwd["o"])))
    wrong["dW2"].append(("missing the regularisation gradient W2", ref["dW2"] - net["W2"]))
    wrong["dW1"].append(("missing the regularisation gradient W1", ref["dW1"] - net["W1"]))
    relu_one = ref["dh"] * (fwd["u"] >= 0)
    if np.any(relu_one != ref["du"]):
        for key in ("du", "db1"):
            wrong[key].append((RELU_AT_ZERO, relu_one))
        wrong["dW1"].append((RELU_AT_ZERO, np.outer(relu_one, net["x"]) + net["W1"]))
    return wrong


# ---------------------------------------------------------------- the small pieces

@points(1)
def test_relu(student, reference, rng):
    """relu: max(u, 0) elementwise, for vectors and matrices, negative and zero entries included"""
    for shape in ((1,), (5,), (3, 4)):
        u = rng.normal(size=shape)
        u.flat[0] = 0.0
        check_close("relu on an input of shape %s" % (shape,), student.relu(u), reference.relu(u))


@points(1)
def test_relu_backward(student, reference, rng):
    """relu_backward: the upstream gradient passes where u > 0 and is stopped where u < 0"""
    for n in (1, 4, 9):
        u, dh = rng.normal(size=n), rng.normal(size=n)
        check_close("relu_backward with %d unit%s" % (n, "s" if n > 1 else ""),
                    student.relu_backward(dh, u), reference.relu_backward(dh, u),
                    mistakes=[("multiplied by ReLU(u) instead of ReLU'(u)",
                               dh * np.maximum(u, 0))])


@points(1)
def test_relu_backward_at_zero(student, reference, rng):
    """relu_backward: ReLU'(0) = 0, so no gradient passes where u is exactly 0"""
    u = rng.normal(size=6)
    u[[1, 4]] = 0.0
    dh = rng.normal(size=6) + 3.0
    check_close("relu_backward where some u are exactly 0", student.relu_backward(dh, u),
                reference.relu_backward(dh, u), mistakes=[(RELU_AT_ZERO, dh * (u >= 0))])


@points(1)
def test_softmax(student, reference, rng):
    """softmax: probabilities of random logits, for 2 to 7 classes"""
    for C in (2, 3, 7):
        v = rng.normal(size=C) * 2
        check_close("softmax of %d logits" % C, student.softmax(v), reference.softmax(v))


@points(1)
def test_softmax_large_logits(student, reference, rng):
    """softmax: stable for logits near +1000 and -1000 (subtract the maximum first)"""
    for centre in (1000.0, -1000.0):
        v = centre + rng.normal(size=4)
        check_close("softmax of 4 logits near %g" % centre, student.softmax(v),
                    reference.softmax(v))


@points(2)
def test_softmax_backward(student, reference, rng):
    """softmax_backward: the full Jacobian of softmax applied to the upstream gradient"""
    for C in (2, 3, 6):
        o = reference.softmax(rng.normal(size=C))
        do = rng.normal(size=C)
        check_close("softmax_backward with %d classes" % C, student.softmax_backward(do, o),
                    reference.softmax_backward(do, o),
                    mistakes=[("multiplied elementwise by o(1 - o): the softmax Jacobian is not "
                               "diagonal", do * o * (1 - o))])


@points(1)
def test_cross_entropy(student, reference, rng):
    """cross_entropy: -sum y log o for one-hot targets of every class"""
    for C in (2, 3, 5):
        o = reference.softmax(rng.normal(size=C))
        for k in range(C):
            y = np.eye(C)[k]
            check_close("cross_entropy with %d classes, target class %d" % (C, k),
                        student.cross_entropy(o, y), reference.cross_entropy(o, y),
                        mistakes=[("a factor 1/2 too many: L = -sum y log o has no 1/2",
                                   0.5 * reference.cross_entropy(o, y))])


@points(1)
def test_cross_entropy_zero_probability(student, reference, rng):
    """cross_entropy: a class with y = 0 adds nothing even where o = 0 (0 log 0 = 0)"""
    o = reference.softmax(np.array([0.0, 900.0, 1.0]) + rng.normal(size=3))
    y = np.eye(3)[1]
    check_close("cross_entropy where a class with y = 0 has probability 0",
                student.cross_entropy(o, y), reference.cross_entropy(o, y))


# ---------------------------------------------------------------- the forward pass

@points(2)
def test_forward_seed_network(student, reference, rng):
    """forward: every intermediate of the chapter's network, u to J (J = 1.403)"""
    expected = reference.forward(**SEED_NETWORK)
    check_in_order("forward on the chapter's network", student.forward(**SEED_NETWORK),
                   expected, FORWARD_KEYS, forward_mistakes(expected))


@points(2)
def test_forward_random_networks(student, reference, rng):
    """forward: random networks of other sizes, with targets of different classes"""
    for D, H, C in SIZES:
        for target in (0, C - 1):
            net = network(rng, D, H, C, target)
            expected = reference.forward(**net)
            check_in_order("forward with D=%d, H=%d, C=%d" % (D, H, C), student.forward(**net),
                           expected, FORWARD_KEYS, forward_mistakes(expected))


def large_logit_networks(rng):
    """Two 3-4-3 networks with huge logits, as (name, network) pairs: "near 1000" (every
    logit raised by 1000) and "far apart" (only the first raised by 900, so the other
    classes get o = 0)."""
    for shift, name in ((1000.0, "near 1000"), (900.0, "far apart")):
        net = network(rng, 3, 4, 3, 0)
        net["W1"] *= 0.3
        net["W2"] *= 0.3
        net["b2"][0] += shift
        if name == "near 1000":
            net["b2"][1:] += shift
        yield name, net


@points(1)
def test_forward_large_logits(student, reference, rng):
    """forward: finite and right when the logits are near 1000, or far apart"""
    for name, net in large_logit_networks(rng):
        expected = reference.forward(**net)
        check_in_order("forward with logits %s" % name, student.forward(**net), expected,
                       FORWARD_KEYS, forward_mistakes(expected))


# ---------------------------------------------------------------- the backward pass

def compare_backward(student, reference, net, what, keys=BACKWARD_KEYS):
    """Run the student's backward on the reference's forward values and compare."""
    fwd = reference.forward(**net)
    expected = reference.backward(**net, cache=fwd)
    check_in_order(what, student.backward(**net, cache=fwd), expected, keys,
                   backward_mistakes(net, fwd, expected))


@points(2)
def test_backward_seed_network(student, reference, rng):
    """backward: every gradient of the chapter's network, dv to db1"""
    compare_backward(student, reference, dict(SEED_NETWORK), "backward on the chapter's network")


@points(3)
def test_backward_random_networks(student, reference, rng):
    """backward: random networks of other sizes, with targets of different classes"""
    for D, H, C in SIZES:
        for target in (0, C - 1):
            compare_backward(student, reference, network(rng, D, H, C, target),
                             "backward with D=%d, H=%d, C=%d" % (D, H, C))


@points(1)
def test_backward_penalty_gradient(student, reference, rng):
    """backward: dW1 and dW2 include the penalty's gradients W1 and W2"""
    for D, H, C in SIZES[:2]:
        net = network(rng, D, H, C, 0)
        net["x"][:] = 0.0                       # no data gradient reaches W1 ...
        net["b1"] = -np.abs(net["b1"]) - 0.1    # ... nor W2 (h = 0): only the penalty's
        compare_backward(student, reference, net,
                         "backward with D=%d, H=%d, C=%d, where only the penalty moves W1 "
                         "and W2" % (D, H, C), keys=("dW2", "dW1"))


@points(1)
def test_backward_relu_at_zero(student, reference, rng):
    """backward: no gradient flows through a hidden unit whose u is exactly 0"""
    for D, H, C in SIZES[2:]:
        net = network(rng, D, H, C, 1)
        net["W1"][0] = 0.0                       # unit 0: u = 0 exactly
        net["b1"][0] = 0.0
        compare_backward(student, reference, net,
                         "backward with D=%d, H=%d, C=%d and a hidden unit at u = 0" % (D, H, C))


@points(1)
def test_backward_large_logits(student, reference, rng):
    """backward: finite and right when the logits are near 1000, or far apart"""
    for name, net in large_logit_networks(rng):
        compare_backward(student, reference, net, "backward with logits %s" % name)
