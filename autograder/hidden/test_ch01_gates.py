"""Hidden tests of chapter 1: the scalar gates (add, multiply, max/min, sigmoid) and the
two circuits. Inputs are drawn fresh (seeded per test) in several sizes, with the edge
cases the chapter discusses: inputs equal to 0, ties, saturated sigmoids. The chapter
teaches an overflow-free sigmoid: the tests at |x| up to 1000 are marked stable, so a
sigmoid whose exp overflows loses them.
"""
import numpy as np

from autograder.grading.testkit import points
from autograder.toolkit.checks import check_close, unpack

TIE_RULE = "the rule here gives all of it to the first %s input (np.%s)"


def _inputs(n):
    """'1 input' or 'n inputs'."""
    return "1 input" if n == 1 else "%d inputs" % n


def _dout(rng):
    """An upstream gradient that is neither 0 nor 1, with a random sign."""
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0))


def _tie_mistakes(xs, dout, pick):
    """Classic wrong answers for a max/min gate with ties; pick is np.max or np.min."""
    tied = (xs == pick(xs)).astype(float)
    first, last = np.zeros_like(xs), np.zeros_like(xs)
    first[np.flatnonzero(tied)[0]] = dout
    last[np.flatnonzero(tied)[-1]] = dout
    kind, fn = ("maximal", "argmax") if pick is np.max else ("minimal", "argmin")
    rule = TIE_RULE % (kind, fn)
    return [("split the gradient between tied inputs; " + rule, dout * tied / tied.sum()),
            ("every tied input got the whole gradient, so they add up to more than the "
             "upstream gradient; " + rule, dout * tied),
            ("the gradient went to the last tied input; " + rule, last)]


def _with_ties(rng, n, k, pick):
    """n integer-valued inputs where exactly k >= 2 share the max (or min), first not at 0."""
    xs = rng.integers(-3, 4, size=n).astype(float)
    extreme = xs.max() + 1.0 if pick is np.max else xs.min() - 1.0
    where = np.sort(rng.choice(np.arange(1, n), size=k, replace=False)) if n > k \
        else np.arange(n)
    xs[where] = extreme
    return xs


@points(1)
def test_add_backward(student, reference, rng):
    """add gate: every input gets a copy of the upstream gradient"""
    for n in (8, 5, 2, 1):
        xs, dout = rng.normal(size=n), _dout(rng)
        expected = reference.add_backward(dout, xs)
        mistakes = [("multiplied by the inputs; the add gate's local derivative is 1",
                     dout * xs)]
        if n > 1:
            mistakes.insert(0, ("the gradient was split between the inputs; the add gate "
                                "gives each input a full copy", expected / n))
        check_close("add_backward with %s" % _inputs(n), student.add_backward(dout, xs.copy()),
                    expected, mistakes=mistakes)


@points(2)
def test_mul_backward(student, reference, rng):
    """multiply gate: each input gets the upstream gradient times the other inputs"""
    for n in (5, 3, 2, 1):
        xs = rng.choice([-1.0, 1.0], size=n) * rng.uniform(0.5, 2.0, size=n)
        dout = _dout(rng)
        mistakes = [("each input was scaled by itself; the multiply gate scales by the "
                     "other inputs", dout * xs)]
        check_close("mul_backward with %s" % _inputs(n), student.mul_backward(dout, xs.copy()),
                    reference.mul_backward(dout, xs), mistakes=mistakes)


@points(2)
def test_mul_backward_zero_input(student, reference, rng):
    """multiply gate with inputs equal to 0 (z / x_i does not work there)"""
    cases = [(3, 1), (5, 1), (4, 2), (1, 1)]
    for n, zeros in cases:
        xs = rng.choice([-1.0, 1.0], size=n) * rng.uniform(0.5, 2.0, size=n)
        xs[rng.choice(n, size=zeros, replace=False)] = 0.0
        dout = _dout(rng)
        expected = reference.mul_backward(dout, xs)
        wrong_zero = np.where(xs == 0.0, 0.0, expected)
        name = "mul_backward with %s, %s" % (
            _inputs(n), "equal to 0" if n == 1 else "one of them 0" if zeros == 1
            else "%d of them 0" % zeros)
        check_close(name, student.mul_backward(dout, xs.copy()), expected,
                    mistakes=[("used z / x_i with 0/0 replaced by 0; an input equal to 0 "
                               "has derivative equal to the product of the other inputs",
                               wrong_zero)])


def _check_routing(student, reference, rng, gate, other, word):
    """Distinct inputs of several sizes: ``gate`` ("max"/"min") routes to the winner."""
    for n in (9, 5, 2, 1):
        xs = rng.permutation(n) + rng.uniform(0.0, 0.5, size=n)
        dout = _dout(rng)
        name = "%s_backward" % gate
        check_close("%s with %s%s" % (name, _inputs(n), ", no tie" if n > 1 else ""),
                    getattr(student, name)(dout, xs.copy()),
                    getattr(reference, name)(dout, xs),
                    mistakes=[("the gradient went to the %s input" % other[1],
                               getattr(reference, "%s_backward" % other[0])(dout, xs)),
                              ("every input got the gradient; only the %s should" % word,
                               np.full(n, dout))])


def _check_ties(student, reference, rng, gate, reduce, word):
    """Tied winners: all of the gradient to the first of them."""
    for n, k in ((6, 3), (4, 2), (2, 2)):
        xs, dout = _with_ties(rng, n, k, reduce), _dout(rng)
        name = "%s_backward" % gate
        check_close("%s with %d inputs, %d of them tied for the %s" % (name, n, k, word),
                    getattr(student, name)(dout, xs.copy()),
                    getattr(reference, name)(dout, xs),
                    mistakes=_tie_mistakes(xs, dout, reduce))


@points(1)
def test_max_backward(student, reference, rng):
    """max gate: the largest input gets the whole upstream gradient"""
    _check_routing(student, reference, rng, "max", ("min", "smallest"), "largest")


@points(1)
def test_max_backward_ties(student, reference, rng):
    """max gate with tied maxima: all of the gradient to the first maximal input"""
    _check_ties(student, reference, rng, "max", np.max, "maximum")


@points(1)
def test_min_backward(student, reference, rng):
    """min gate: the smallest input gets the whole upstream gradient"""
    _check_routing(student, reference, rng, "min", ("max", "largest"), "smallest")


@points(1)
def test_min_backward_ties(student, reference, rng):
    """min gate with tied minima: all of the gradient to the first minimal input"""
    _check_ties(student, reference, rng, "min", np.min, "minimum")


def _sigmoid_forward_mistakes(reference, x):
    return [("1/(1 + e^{+x}) is sigma(-x): check the sign in the exponent",
             reference.sigmoid_forward(-np.asarray(x)))]


def _sigmoid_backward_mistakes(reference, dout, x):
    z = reference.sigmoid_forward(x)
    return [("the upstream gradient dout was not applied", z * (1 - z)),
            ("returned dout * sigma(x); the local derivative is sigma(x) * (1 - sigma(x))",
             dout * z),
            ("applied z(1 - z) to the input x; z is the output sigma(x)",
             dout * x * (1 - x))]


@points(1)
def test_sigmoid_forward(student, reference, rng):
    """sigmoid forward on arrays of several shapes and on a float"""
    for shape in ((3, 4), (5,), (1,)):
        x = rng.normal(size=shape) * 3
        check_close("sigmoid_forward of an array of shape %s" % (shape,),
                    student.sigmoid_forward(x.copy()), reference.sigmoid_forward(x),
                    mistakes=_sigmoid_forward_mistakes(reference, x))
    x0 = float(rng.normal() * 3)
    check_close("sigmoid_forward of a float", student.sigmoid_forward(x0),
                reference.sigmoid_forward(x0), mistakes=_sigmoid_forward_mistakes(reference, x0))


@points(2, stable=True)
def test_sigmoid_saturated(student, reference, rng):
    """sigmoid forward and backward at +-30, +-37 and +-1000: finite, right, no overflow"""
    x = rng.permutation(np.array([-1000.0, -37.0, -30.0, 30.0, 37.0, 1000.0, -1000.0, 30.0]))
    dout = rng.choice([-1.0, 1.0], size=x.shape) * rng.uniform(0.5, 2.0, size=x.shape)
    check_close("sigmoid_forward at saturated inputs (|x| = 30, 37 and 1000)",
                student.sigmoid_forward(x.copy()), reference.sigmoid_forward(x), atol=1e-12,
                mistakes=_sigmoid_forward_mistakes(reference, x))
    # An absolute tolerance: the textbook z(1 - z) is within 2e-16 of sigma'(x) but loses
    # all relative accuracy for large |x| (0 at x = 37, where sigma' is 8.5e-17); the
    # reference keeps every digit, and both forms are accepted.
    check_close("dx from sigmoid_backward at saturated inputs (|x| = 30, 37 and 1000)",
                student.sigmoid_backward(dout.copy(), x.copy()),
                reference.sigmoid_backward(dout, x), atol=1e-12)


@points(1)
def test_sigmoid_backward(student, reference, rng):
    """sigmoid backward: the upstream gradient times z (1 - z)"""
    for shape in ((3, 4), (5,), (1,)):
        x = rng.normal(size=shape) * 2
        dout = rng.normal(size=shape)
        check_close("dx from sigmoid_backward with arrays of shape %s" % (shape,),
                    student.sigmoid_backward(dout.copy(), x.copy()),
                    reference.sigmoid_backward(dout, x),
                    mistakes=_sigmoid_backward_mistakes(reference, dout, x))
    x0, d0 = float(rng.normal()), _dout(rng)
    check_close("dx from sigmoid_backward of floats", student.sigmoid_backward(d0, x0),
                reference.sigmoid_backward(d0, x0),
                mistakes=_sigmoid_backward_mistakes(reference, d0, x0))


@points(1)
def test_circuit1(student, reference, rng):
    """circuit L = (x + y) z: the value and the three gradients"""
    triples = [rng.normal(size=3) * 3 for _ in range(3)]
    x, _, z = rng.normal(size=3) * 3
    triples.append(np.array([x, -x, z]))         # x + y = 0, so dL/dz = 0
    for i, (x, y, z) in enumerate(triples, 1):
        got = unpack("circuit1_forward_backward (input %d)" % i,
                     student.circuit1_forward_backward(float(x), float(y), float(z)), 4,
                     ("L", "dx", "dy", "dz"))
        exp = reference.circuit1_forward_backward(float(x), float(y), float(z))
        check_close("L from circuit1_forward_backward (input %d)" % i, got[0], exp[0])
        check_close("dx from circuit1_forward_backward (input %d)" % i, got[1], exp[1],
                    mistakes=[("dx is dL/dq = z (the multiply gate swaps), not q", exp[3])])
        check_close("dy from circuit1_forward_backward (input %d)" % i, got[2], exp[2],
                    mistakes=[("dy is dL/dq = z (the multiply gate swaps), not q", exp[3])])
        check_close("dz from circuit1_forward_backward (input %d)" % i, got[3], exp[3],
                    mistakes=[("dz is q = x + y (the multiply gate swaps), not z", exp[1])])


def _check_neuron(student, reference, w, x, b, label, atol=1e-9):
    got = unpack("neuron_forward_backward " + label,
                 student.neuron_forward_backward(w.copy(), x.copy(), float(b)), 4,
                 ("L", "dw", "dx", "db"))
    L, dw, dx, db = reference.neuron_forward_backward(w, x, float(b))
    check_close("L from neuron_forward_backward " + label, got[0], L, atol=atol)
    check_close("dw from neuron_forward_backward " + label, got[1], dw, atol=atol,
                mistakes=[("dw got the weights; each multiply gate swaps, so "
                           "dw_i = dL/ds * x_i", dx),
                          ("the sigmoid's local derivative L(1 - L) is missing", x),
                          ("multiplied by L = sigma(s) instead of L(1 - L)", L * x)])
    check_close("dx from neuron_forward_backward " + label, got[2], dx, atol=atol,
                mistakes=[("dx got the inputs; each multiply gate swaps, so "
                           "dx_i = dL/ds * w_i", dw),
                          ("the sigmoid's local derivative L(1 - L) is missing", w)])
    check_close("db from neuron_forward_backward " + label, got[3], db, atol=atol,
                mistakes=[("db is dL/ds (the add gate copies), not 1", 1.0)])


@points(2)
def test_neuron(student, reference, rng):
    """neuron L = sigmoid(w.x + b): the value and the gradients for n = 5, 3, 1 inputs"""
    for n in (5, 3, 1):
        w, x, b = rng.normal(size=n), rng.normal(size=n), rng.normal()
        _check_neuron(student, reference, w, x, b, "with %s" % _inputs(n))


@points(1, stable=True)
def test_neuron_saturated(student, reference, rng):
    """neuron with a very large or very negative w.x + b: finite, no overflow"""
    for sign in (1.0, -1.0):
        w = rng.uniform(5.0, 10.0, size=4)
        x = sign * rng.uniform(20.0, 40.0, size=4)
        # absolute tolerance: L (1 - L) from the output is 0 here, the true slope < 1e-170
        _check_neuron(student, reference, w, x, sign * 10.0,
                      "with a %s pre-activation" % ("very large" if sign > 0 else
                                                    "very negative"), atol=1e-12)

# nbgrader grade cells: each public check cell of the solution notebook is worth the
# points of these hidden tests (autograder.course.gradebook; solutions/README.md).
GRADE_CELLS = {
    "check_add_backward": ["test_add_backward"],
    "check_mul_backward": ["test_mul_backward", "test_mul_backward_zero_input"],
    "check_max_backward": ["test_max_backward", "test_max_backward_ties"],
    "check_min_backward": ["test_min_backward", "test_min_backward_ties"],
    "check_sigmoid": ["test_sigmoid_forward", "test_sigmoid_saturated", "test_sigmoid_backward"],
    "check_circuit1_forward_backward": ["test_circuit1"],
    "check_neuron_forward_backward": ["test_neuron", "test_neuron_saturated"],
}
