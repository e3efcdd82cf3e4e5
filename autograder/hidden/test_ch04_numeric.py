"""Hidden tests of chapter 4 (the numeric example network): forward and backward by hand.

Conventions of the chapter: vectors are 1-D arrays, W1 has shape (H, D), W2 (C, H), y is
one-hot; L = -sum y log o (no 1/2), computed from the logits v; the penalty is
1/2 ||W1||_F^2 + 1/2 ||W2||_F^2; ReLU'(0) = 0. `forward` returns a dict of intermediates,
`backward` a dict of gradients of J; both are compared key by key in the order they are
computed, and the first wrong key is named.

The chapter's network (`reference.CH4`) and the tables of classic mistakes
(`reference.forward_mistakes`, `reference.backward_mistakes`) are defined once, in the
solution notebook's locked cells, which the notebook's public checks use too. The backward
pass is graded on the student's own forward dict (a wrong forward is named when a gradient
is wrong too), except on the chapter's network. The
chapter teaches a stable softmax and a cross-entropy from the logits: the tests with logits
near 1000 are marked stable, so an overflow, or a log of 0, loses them.
"""
import numpy as np

from autograder.grading.testkit import points
from autograder.hidden.cases import SIZES, large_logit_networks, network
from autograder.toolkit.checks import check_close, check_in_order, fix_first

FORWARD_KEYS = ("u", "h", "v", "o", "L", "s1", "s2", "s", "J")
BACKWARD_KEYS = ("dv", "dW2", "db2", "dh", "du", "dW1", "db1")
LOG_SOFTMAX = ("compute L from the logits with the log-softmax, log o_k = v_k - m - "
               "log sum_j e^(v_j - m): log(softmax(v)) is -inf where o_k underflows to 0")


def chapter_network(reference):
    """The chapter's network, `reference.CH4`, as fresh arrays (a test may not change it)."""
    return {key: np.array(value, dtype=np.float64) for key, value in reference.CH4.items()}


def check_forward(student, reference, net, what):
    """The student's forward on `net`, compared key by key; returns the student's dict."""
    expected = reference.forward(**net)
    got = student.forward(**net)
    check_in_order(what, got, expected, FORWARD_KEYS,
                   mistakes=reference.forward_mistakes(expected))
    return got


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
                reference.relu_backward(dh, u),
                mistakes=[(reference.RELU_AT_ZERO, dh * (u >= 0))])


@points(1)
def test_softmax(student, reference, rng):
    """softmax: probabilities of random logits, for 2 to 7 classes"""
    for C in (2, 3, 7):
        v = rng.normal(size=C) * 2
        check_close("softmax of %d logits" % C, student.softmax(v), reference.softmax(v))


@points(1, stable=True)
def test_softmax_large_logits(student, reference, rng):
    """softmax: stable for logits near +1000 and -1000 (subtract the maximum first)"""
    for centre in (1000.0, -1000.0):
        v = centre + rng.normal(size=4)
        check_close("softmax of 4 logits near %g" % centre, student.softmax(v),
                    reference.softmax(v), hint="subtract the largest logit before np.exp")


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
    """cross_entropy: -sum y log softmax(v) from the logits, for one-hot targets of every class"""
    for C in (2, 3, 5):
        v = rng.normal(size=C) * 2
        for k in range(C):
            y = np.eye(C)[k]
            expected = reference.cross_entropy(v, y)
            check_close("cross_entropy with %d classes, target class %d" % (C, k),
                        student.cross_entropy(v, y), expected,
                        mistakes=[("a factor 1/2 too many: L = -sum y log o has no 1/2",
                                   0.5 * expected),
                                  ("used the target's logit, not log softmax(v): "
                                   "L = -log o_k", -v[k])])


@points(2, stable=True)
def test_cross_entropy_large_logits(student, reference, rng):
    """cross_entropy: finite and exact where the target's probability underflows to 0"""
    cases = [("logits (0, 1000), target class 0", np.array([0.0, 1000.0]), np.eye(2)[0])]
    for centre in (1000.0, -1000.0):
        cases.append(("4 logits near %g" % centre, centre + rng.normal(size=4),
                      np.eye(4)[rng.integers(4)]))
    v = rng.normal(size=3)
    v[1] += 900.0                                   # o_0 = o_2 = 0 exactly; L about 900
    cases.append(("3 logits, the target's 900 below the largest", v, np.eye(3)[0]))
    for what, v, y in cases:
        check_close("cross_entropy of %s" % what, student.cross_entropy(v, y),
                    reference.cross_entropy(v, y), hint=LOG_SOFTMAX)


# ---------------------------------------------------------------- the forward pass

@points(2)
def test_forward_seed_network(student, reference, rng):
    """forward: every intermediate of the chapter's network, u to J (J = 1.403)"""
    check_forward(student, reference, chapter_network(reference),
                  "forward on the chapter's network")


@points(2)
def test_forward_random_networks(student, reference, rng):
    """forward: random networks of other sizes, with targets of different classes"""
    for D, H, C in SIZES:
        for target in (0, C - 1):
            check_forward(student, reference, network(rng, D, H, C, target),
                          "forward with D=%d, H=%d, C=%d" % (D, H, C))


@points(1, stable=True)
def test_forward_large_logits(student, reference, rng):
    """forward: finite and right for logits near 1000, far apart, or with the target's o = 0"""
    for name, net in large_logit_networks(rng):
        check_forward(student, reference, net, "forward with logits %s" % name)


# ---------------------------------------------------------------- the backward pass

def compare_backward(student, reference, net, what, keys=BACKWARD_KEYS):
    """The student's forward, its dict into the student's backward, compared in order; when
    a gradient is wrong and forward is wrong too, the message says to fix forward first."""
    fwd = student.forward(**net)
    ref_fwd = reference.forward(**net)
    expected = reference.backward(**net, cache=ref_fwd)
    with fix_first("forward", lambda: check_in_order("forward " + what, fwd, ref_fwd,
                                                     FORWARD_KEYS)):
        got = student.backward(**net, cache=fwd)
        check_in_order("backward " + what, got, expected, keys,
                       mistakes=reference.backward_mistakes(net, ref_fwd, expected))


@points(2)
def test_backward_seed_network(student, reference, rng):
    """backward: every gradient of the chapter's network, dv to db1"""
    # backward alone, on the reference's forward dict: the chapter fixes that dict's keys
    # (forward's docstring), so a student whose forward is wrong can still show a right
    # backward here; the other backward tests use the student's own forward.
    net = chapter_network(reference)
    fwd = reference.forward(**net)
    expected = reference.backward(**net, cache=fwd)
    check_in_order("backward on the chapter's network", student.backward(**net, cache=fwd),
                   expected, BACKWARD_KEYS,
                   mistakes=reference.backward_mistakes(net, fwd, expected))


@points(3)
def test_backward_random_networks(student, reference, rng):
    """backward on your forward's dict: random networks of other sizes and target classes"""
    for D, H, C in SIZES:
        for target in (0, C - 1):
            compare_backward(student, reference, network(rng, D, H, C, target),
                             "with D=%d, H=%d, C=%d" % (D, H, C))


@points(1)
def test_backward_penalty_gradient(student, reference, rng):
    """backward: dW1 and dW2 include the penalty's gradients W1 and W2"""
    for D, H, C in SIZES[:2]:
        net = network(rng, D, H, C, 0)
        net["x"][:] = 0.0                       # no data gradient reaches W1 ...
        net["b1"] = -np.abs(net["b1"]) - 0.1    # ... nor W2 (h = 0): only the penalty's
        compare_backward(student, reference, net,
                         "with D=%d, H=%d, C=%d, where only the penalty moves W1 and W2"
                         % (D, H, C), keys=("dW2", "dW1"))


@points(1)
def test_backward_relu_at_zero(student, reference, rng):
    """backward: no gradient flows through a hidden unit whose u is exactly 0"""
    for D, H, C in SIZES[2:]:
        net = network(rng, D, H, C, 1)
        net["W1"][0] = 0.0                       # unit 0: u = 0 exactly
        net["b1"][0] = 0.0
        compare_backward(student, reference, net,
                         "with D=%d, H=%d, C=%d and a hidden unit at u = 0" % (D, H, C))


@points(1, stable=True)
def test_backward_large_logits(student, reference, rng):
    """backward: finite and right for logits near 1000, far apart, or with the target's o = 0"""
    for name, net in large_logit_networks(rng):
        compare_backward(student, reference, net, "with logits %s" % name)

# nbgrader grade cells: each public check cell of the solution notebook is worth the
# points of these hidden tests (autograder.course.gradebook; solutions/README.md).
GRADE_CELLS = {
    "check_relu": ["test_relu"],
    "check_relu_backward": ["test_relu_backward", "test_relu_backward_at_zero"],
    "check_softmax": ["test_softmax", "test_softmax_large_logits"],
    "check_softmax_backward": ["test_softmax_backward"],
    "check_cross_entropy": ["test_cross_entropy", "test_cross_entropy_large_logits"],
    "check_forward": [
        "test_forward_seed_network", "test_forward_random_networks", "test_forward_large_logits"],
    "check_backward": [
        "test_backward_seed_network",
        "test_backward_random_networks",
        "test_backward_penalty_gradient",
        "test_backward_relu_at_zero",
        "test_backward_large_logits",
    ],
}
