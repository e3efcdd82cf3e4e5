"""Hidden tests of chapter 5: SVM and softmax losses, their staged graphs, affine and ReLU
layers, the losses on scores and the two-layer net's loss.

Conventions (cs231n's): W (D, C), X (N, D), integer labels y (N,); the linear classifiers'
penalty is reg * sum(W * W) (gradient 2 reg W), the net's 0.5 reg (|W1|^2 + |W2|^2)
(gradient reg W); the hinge's margin is 1 and a margin of exactly 0 is not violated;
ReLU'(0) = 0. Layers are chained: the student's forward feeds the student's own backward
(their cache is their business) and both results are compared with the reference.

The helpers that take results apart (unpack, check_in_order, ...) are the shared toolkit's,
as in the notebook's public checks; the hint for a softmax loss that is not finite is the
notebook's own (``reference.GLOBAL_MAX``), so the two say the same.
"""
import numpy as np

from autograder.grading.testkit import points
from autograder.hidden.cases import integer_batch
from autograder.toolkit.checks import (
    check_close,
    check_in_order,
    fix_first,
    unpack,
    wrong_axis_sums,
)

SHAPES = ((1, 3, 2), (4, 5, 3), (7, 2, 4), (10, 6, 10))      # (N, D, C)
HINGE_FOR_CORRECT = ("the hinge is counted for the correct class too: every example's loss is "
                     "one margin (1) too high")


# ---------------------------------------------------------------- inputs

def batch(rng, N, D, C, scale=0.5):
    """Random weights, inputs and labels (every class drawn at random, class C-1 included)."""
    y = rng.integers(0, C, size=N)
    y[-1] = C - 1
    return scale * rng.normal(size=(D, C)), rng.normal(size=(N, D)), y


WRONG_AXIS = ("the softmax is normalised over axis 0 (the batch) instead of axis 1 (the "
              "classes)")


def softmax_loss_wrong_axis(scores, y):
    """The softmax loss with its maximum and normalisation over the batch (axis 0)."""
    shifted = scores - np.max(scores, axis=0, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    return -np.mean(log_probs[np.arange(len(y)), y])


def linear_mistakes(reference, fn, W, X, y, reg):
    """Classic mistakes of a linear classifier's (loss, dW), as (loss list, dW list)."""
    N = X.shape[0]
    data_loss, data_dW = getattr(reference, fn)(W, X, y, 0.0)
    penalty = reg * np.sum(W * W)
    losses = [("the data loss is not divided by N (a missing 1/N)", N * data_loss + penalty),
              ("the penalty reg * sum(W * W) is missing", data_loss),
              ("the penalty has a factor 1/2; here it is reg * sum(W * W)",
               data_loss + 0.5 * penalty)]
    if fn.startswith("svm"):
        losses.insert(0, (HINGE_FOR_CORRECT, data_loss + 1 + penalty))
    else:
        losses.append((WRONG_AXIS, softmax_loss_wrong_axis(X @ W, y) + penalty))
    grads = [("the data gradient is not divided by N (a missing 1/N)", N * data_dW + 2 * reg * W),
             ("the regularisation gradient 2 * reg * W is missing", data_dW),
             ("the regularisation gradient is reg * W (the gradient of 1/2 reg sum(W^2)); the "
              "gradient of reg * sum(W * W) is 2 * reg * W", data_dW + reg * W),
             ("the regularisation gradient is counted twice", data_dW + 4 * reg * W)]
    return losses, grads


def compare_linear(student, reference, fn, W, X, y, reg, what):
    """Compare (loss, dW) of the student's ``fn`` with the reference's, naming mistakes."""
    loss, dW = unpack(fn, getattr(student, fn)(W, X, y, reg), 2, ("loss", "dW"))
    ref_loss, ref_dW = getattr(reference, fn)(W, X, y, reg)
    losses, grads = linear_mistakes(reference, fn, W, X, y, reg)
    hint = reference.GLOBAL_MAX if fn.startswith("softmax") else ""
    check_close("the loss of %s %s" % (fn, what), loss, ref_loss, mistakes=losses, hint=hint)
    check_close("dW of %s %s" % (fn, what), dW, ref_dW, mistakes=grads, hint=hint)


def random_linear(student, reference, fn, rng):
    for N, D, C in SHAPES:
        W, X, y = batch(rng, N, D, C)
        compare_linear(student, reference, fn, W, X, y, float(rng.uniform(0.05, 1.0)),
                       "with N=%d, D=%d, C=%d" % (N, D, C))


def large_logit_batches(rng):
    """(name, W, X, y): scores near +1000, near -1000, and one row 1000 below another's max."""
    C = 4
    W = np.eye(C)
    yield "scores near +1000", W, 1000.0 + rng.normal(size=(3, C)), rng.integers(0, C, size=3)
    yield "scores near -1000", W, -1000.0 + rng.normal(size=(3, C)), rng.integers(0, C, size=3)
    X = rng.normal(size=(3, C))
    X[1] += 1000.0
    yield "one row far below another row's maximum", W, X, rng.integers(0, C, size=3)


# ---------------------------------------------------------------- the linear classifiers

@points(2)
def test_svm_loss_naive(student, reference, rng):
    """svm_loss_naive: loss and dW for batches of several sizes, one-example batches included"""
    random_linear(student, reference, "svm_loss_naive", rng)


@points(1)
def test_svm_loss_naive_ties_and_zero_margins(student, reference, rng):
    """svm_loss_naive: ties (margin 1, violated) and margins of exactly 0 (not violated)"""
    for N, D, C in ((5, 3, 4), (8, 4, 3)):
        W, X, y = integer_batch(rng, N, D, C)
        compare_linear(student, reference, "svm_loss_naive", W, X, y, 0.1,
                       "with integer scores, ties and zero margins (N=%d, C=%d)" % (N, C))


@points(2)
def test_svm_loss_vectorized(student, reference, rng):
    """svm_loss_vectorized: loss and dW for batches of several sizes, one-example batches too"""
    random_linear(student, reference, "svm_loss_vectorized", rng)


@points(1)
def test_svm_loss_vectorized_ties_and_zero_margins(student, reference, rng):
    """svm_loss_vectorized: ties (margin 1, violated) and margins of exactly 0 (not violated)"""
    for N, D, C in ((5, 3, 4), (8, 4, 3)):
        W, X, y = integer_batch(rng, N, D, C)
        compare_linear(student, reference, "svm_loss_vectorized", W, X, y, 0.1,
                       "with integer scores, ties and zero margins (N=%d, C=%d)" % (N, C))


@points(2)
def test_softmax_loss_naive(student, reference, rng):
    """softmax_loss_naive: loss and dW for batches of several sizes, one-example batches included"""
    random_linear(student, reference, "softmax_loss_naive", rng)


@points(2)
def test_softmax_loss_vectorized(student, reference, rng):
    """softmax_loss_vectorized: loss and dW for batches of several sizes, one-example batches
    included"""
    random_linear(student, reference, "softmax_loss_vectorized", rng)


@points(1, stable=True)
def test_softmax_loss_naive_large_scores(student, reference, rng):
    """softmax_loss_naive: stable for scores near +-1000 and rows far apart (each row's max)"""
    for name, W, X, y in large_logit_batches(rng):
        compare_linear(student, reference, "softmax_loss_naive", W, X, y, 0.0, "with " + name)


@points(1, stable=True)
def test_softmax_loss_vectorized_large_scores(student, reference, rng):
    """softmax_loss_vectorized: stable for scores near +-1000 and rows far apart (each row's max)"""
    for name, W, X, y in large_logit_batches(rng):
        compare_linear(student, reference, "softmax_loss_vectorized", W, X, y, 0.0,
                       "with " + name)


# ---------------------------------------------------------------- the staged graphs

SVM_KEYS = ("dR", "di", "dh", "dg", "df", "de", "dc", "dd", "db", "da", "dW1", "dX", "dW4",
            "dW3", "dW2")
SOFTMAX_KEYS = ("dR", "dalpha", "dbeta", "dl", "dj", "dm", "di", "dh", "dg", "dk", "df", "db",
                "dd", "dc", "da", "dW1", "dX", "dW4", "dW3", "dW2")


def staged_mistakes(reg, svm):
    """Classic slips in the staged backward pass, per node."""
    wrong = {"dW4": [("dW4 = 0.5 * reg: the notes' 1/2 convention; here R = reg * W4",
                      0.5 * reg)]}
    if svm:
        wrong["dh"] = [("dh = di: the 1/N of op 10 is missing", 1.0)]
    else:
        wrong["dbeta"] = [("dbeta = dalpha: the 1/N of op 13 is missing", 1.0)]
    return wrong


def compare_staged(student, reference, fn, W, X, y, reg, what):
    keys = SVM_KEYS if fn.startswith("svm") else SOFTMAX_KEYS
    loss, dW, grads = unpack(fn, getattr(student, fn)(W, X, y, reg), 3, ("loss", "dW", "grads"))
    ref_loss, ref_dW, ref_grads = getattr(reference, fn)(W, X, y, reg)
    mistakes = staged_mistakes(reg, fn.startswith("svm"))
    check_in_order("the grads of %s %s" % (fn, what), grads, ref_grads, keys, mistakes=mistakes)
    check_close("the loss of %s %s" % (fn, what), loss, ref_loss,
                mistakes=[("op 11 adds the margin (L = i + R + delta); the correct classes "
                           "already add delta to i, so L = i + R - delta",
                           ref_loss + 2.0)] if fn.startswith("svm") else [])
    check_close("dW of %s %s" % (fn, what), dW, ref_dW)


@points(3)
def test_svm_loss_staged(student, reference, rng):
    """svm_loss_staged: every node's gradient, dR to dW2, and dW, for several sizes"""
    for N, D, C in SHAPES:
        W, X, y = batch(rng, N, D, C)
        compare_staged(student, reference, "svm_loss_staged", W, X, y, 0.4,
                       "with N=%d, D=%d, C=%d" % (N, D, C))


@points(1)
def test_svm_loss_staged_zero_margins(student, reference, rng):
    """svm_loss_staged: margins of exactly 0 pass no gradient (df = dg where f > 0 only)"""
    W, X, y = integer_batch(rng, 6, 3, 4)
    compare_staged(student, reference, "svm_loss_staged", W, X, y, 0.1,
                   "with integer scores, ties and zero margins")


@points(3)
def test_softmax_loss_staged(student, reference, rng):
    """softmax_loss_staged: every node's gradient, dR to dW2, and dW, for several sizes"""
    for N, D, C in SHAPES:
        W, X, y = batch(rng, N, D, C)
        compare_staged(student, reference, "softmax_loss_staged", W, X, y, 0.4,
                       "with N=%d, D=%d, C=%d" % (N, D, C))


@points(1, stable=True)
def test_softmax_loss_staged_large_scores(student, reference, rng):
    """softmax_loss_staged: every gradient finite and right for scores near +-1000"""
    for name, W, X, y in large_logit_batches(rng):
        compare_staged(student, reference, "softmax_loss_staged", W, X, y, 0.0, "with " + name)


# ---------------------------------------------------------------- layers, chained

def forward_ok(name, what, got, expected):
    """A context for the checks of a backward pass given the cache of the student's forward
    pass ``name``: a failure inside says to fix the forward first when its ``out`` is wrong."""
    return fix_first(name, lambda: check_close("out of %s %s" % (name, what), got, expected))


AFFINE_SHAPES = (((1, 4), 3), ((5, 6), 2), ((3, 2, 5), 4), ((4, 2, 3, 2), 5), ((2, 3, 1, 4), 1))


@points(1)
def test_affine_forward(student, reference, rng):
    """affine_forward: out = x'w + b for x of shapes (N, D) to (N, d1, d2, d3)"""
    for shape, M in AFFINE_SHAPES:
        D = int(np.prod(shape[1:]))
        x, w, b = rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M)
        out, _ = unpack("affine_forward", student.affine_forward(x, w, b), 2, ("out", "cache"))
        expected, _ = reference.affine_forward(x, w, b)
        check_close("out of affine_forward for x of shape %s" % (shape,), out, expected,
                    mistakes=[("the bias b is missing", expected - b)])


@points(2)
def test_affine_backward(student, reference, rng):
    """affine_backward after your affine_forward: dx (shaped like x), dw and db"""
    for shape, M in AFFINE_SHAPES:
        D = int(np.prod(shape[1:]))
        x, w, b = rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M)
        dout = rng.normal(size=(shape[0], M))
        out, cache = unpack("affine_forward", student.affine_forward(x, w, b), 2,
                            ("out", "cache"))
        ref_out, ref_cache = reference.affine_forward(x, w, b)
        rdx, rdw, rdb = reference.affine_backward(dout, ref_cache)
        what = "for x of shape %s" % (shape,)
        with forward_ok("affine_forward", what, out, ref_out):
            dx, dw, db = unpack("affine_backward", student.affine_backward(dout, cache), 3,
                                ("dx", "dw", "db"))
            check_close("dx of affine_backward " + what, dx, rdx)
            check_close("dw of affine_backward " + what, dw, rdw)
            check_close("db of affine_backward " + what, db, rdb,
                        mistakes=[("db averaged over the rows instead of summed",
                                   rdb / shape[0])] + wrong_axis_sums(dout, axis=0))


@points(1)
def test_relu_forward_backward(student, reference, rng):
    """relu_forward then relu_backward: the gradient passes where x > 0, not at x = 0"""
    for shape in ((1, 3), (4, 5), (2, 3, 2, 2)):
        x, dout = rng.normal(size=shape), rng.normal(size=shape)
        x.flat[::3] = 0.0
        out, cache = unpack("relu_forward", student.relu_forward(x), 2, ("out", "cache"))
        check_close("out of relu_forward for shape %s" % (shape,), out,
                    reference.relu_forward(x)[0])
        dx = student.relu_backward(dout, cache)
        check_close("dx of relu_backward for shape %s, some x exactly 0" % (shape,), dx,
                    reference.relu_backward(dout, reference.relu_forward(x)[1]),
                    mistakes=[("ReLU'(0) = 1 was used (x >= 0); this course uses ReLU'(0) = 0",
                               dout * (x >= 0))])


# ---------------------------------------------------------------- losses on scores

def compare_score_loss(student, reference, fn, x, y, what):
    loss, dx = unpack(fn, getattr(student, fn)(x, y), 2, ("loss", "dx"))
    ref_loss, ref_dx = getattr(reference, fn)(x, y)
    N = x.shape[0]
    losses = [("the loss is not divided by N (a missing 1/N)", N * ref_loss)]
    if fn == "svm_loss":
        losses.insert(0, (HINGE_FOR_CORRECT, ref_loss + 1))
    else:
        losses.append((WRONG_AXIS, softmax_loss_wrong_axis(x, y)))
    hint = reference.GLOBAL_MAX if fn == "softmax_loss" else ""
    check_close("the loss of %s %s" % (fn, what), loss, ref_loss, mistakes=losses, hint=hint)
    check_close("dx of %s %s" % (fn, what), dx, ref_dx, hint=hint,
                mistakes=[("dx is not divided by N (a missing 1/N)", N * ref_dx)])


@points(2)
def test_svm_loss(student, reference, rng):
    """svm_loss: loss and dx of scores, several sizes, ties and margins of exactly 0"""
    for N, C in ((1, 3), (4, 5), (9, 10)):
        x, y = rng.normal(size=(N, C)), rng.integers(0, C, size=N)
        compare_score_loss(student, reference, "svm_loss", x, y, "with N=%d, C=%d" % (N, C))
    for N, C in ((6, 4), (1, 3)):
        x = rng.integers(-2, 3, size=(N, C)).astype(np.float64)
        y = rng.integers(0, C, size=N)
        x[0, (y[0] + 1) % C] = x[0, y[0]] - 1.0        # a margin of exactly 0
        if C > 2:
            x[0, (y[0] + 2) % C] = x[0, y[0]]          # a tie with the correct class
        compare_score_loss(student, reference, "svm_loss", x, y,
                           "with integer scores, a tie and a zero margin (N=%d)" % N)


@points(2)
def test_softmax_loss(student, reference, rng):
    """softmax_loss: loss and dx of scores, several sizes, one-example batches included"""
    for N, C in ((1, 3), (4, 5), (9, 10)):
        x, y = rng.normal(size=(N, C)), rng.integers(0, C, size=N)
        compare_score_loss(student, reference, "softmax_loss", x, y, "with N=%d, C=%d" % (N, C))


@points(1, stable=True)
def test_softmax_loss_large_scores(student, reference, rng):
    """softmax_loss: stable for scores near +-1000 and rows far apart (each row's max)"""
    for name, _, x, y in large_logit_batches(rng):
        compare_score_loss(student, reference, "softmax_loss", x, y, "with " + name)


# ---------------------------------------------------------------- the two-layer net

def net_params(rng, D, H, C, scale=0.5):
    return {"W1": scale * rng.normal(size=(D, H)), "b1": rng.normal(size=H),
            "W2": scale * rng.normal(size=(H, C)), "b2": rng.normal(size=C)}


NET_SHAPES = (((1, 4), 3, 2), ((5, 6), 4, 3), ((3, 2, 2, 3), 5, 4))     # (x shape, H, C)


@points(1)
def test_two_layer_net_scores(student, reference, rng):
    """two_layer_net_loss with y = None: the scores, for x of shapes (N, D) to (N, d1, d2, d3)"""
    for shape, H, C in NET_SHAPES:
        params = net_params(rng, int(np.prod(shape[1:])), H, C)
        X = rng.normal(size=shape)
        check_close("the scores of two_layer_net_loss for X of shape %s" % (shape,),
                    student.two_layer_net_loss(params, X), reference.two_layer_net_loss(params, X))


@points(3)
def test_two_layer_net_loss_and_grads(student, reference, rng):
    """two_layer_net_loss with labels: the loss with 1/2 reg (|W1|^2 + |W2|^2), every gradient"""
    for (shape, H, C), reg in zip(NET_SHAPES, (0.0, 0.3, 1.1)):
        params = net_params(rng, int(np.prod(shape[1:])), H, C)
        X, y = rng.normal(size=shape), rng.integers(0, C, size=shape[0])
        loss, grads = unpack("two_layer_net_loss", student.two_layer_net_loss(params, X, y, reg),
                             2, ("loss", "grads"))
        ref_loss, ref_grads = reference.two_layer_net_loss(params, X, y, reg)
        penalty = 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
        what = "for X of shape %s, reg=%g" % (shape, reg)
        check_close("the loss of two_layer_net_loss " + what, loss, ref_loss,
                    mistakes=[("the penalty is reg * sum(W^2); the net's is "
                               "0.5 * reg * (sum(W1^2) + sum(W2^2))", ref_loss + penalty),
                              ("the penalty is missing", ref_loss - penalty)])
        mistakes = {}
        for key in ("W1", "W2"):
            mistakes[key] = [("the regularisation gradient is 2 * reg * %s; for the net's "
                              "penalty 0.5 * reg * sum(%s^2) it is reg * %s" % (key, key, key),
                              ref_grads[key] + reg * params[key]),
                             ("the regularisation gradient reg * %s is missing" % key,
                              ref_grads[key] - reg * params[key])]
        _, dscores = reference.softmax_loss(reference.two_layer_net_loss(params, X), y)
        mistakes["b2"] = wrong_axis_sums(dscores, axis=0)
        check_in_order("the grads of two_layer_net_loss " + what, grads, ref_grads,
                       ("W2", "b2", "W1", "b1"), mistakes=mistakes)

# nbgrader grade cells: each public check cell of the solution notebook is worth the
# points of these hidden tests (autograder.course.gradebook; solutions/README.md).
GRADE_CELLS = {
    "check_svm_loss_naive": ["test_svm_loss_naive", "test_svm_loss_naive_ties_and_zero_margins"],
    "check_svm_loss_vectorized": [
        "test_svm_loss_vectorized",
        "test_svm_loss_vectorized_ties_and_zero_margins",
    ],
    "check_svm_loss_staged": ["test_svm_loss_staged", "test_svm_loss_staged_zero_margins"],
    "check_softmax_loss_naive": ["test_softmax_loss_naive", "test_softmax_loss_naive_large_scores"],
    "check_softmax_loss_vectorized": [
        "test_softmax_loss_vectorized",
        "test_softmax_loss_vectorized_large_scores",
    ],
    "check_softmax_loss_staged": [
        "test_softmax_loss_staged",
        "test_softmax_loss_staged_large_scores",
    ],
    "check_affine_forward": ["test_affine_forward"],
    "check_affine_backward": ["test_affine_backward"],
    "check_relu_forward": ["test_relu_forward_backward"],
    "check_svm_loss": ["test_svm_loss"],
    "check_softmax_loss": ["test_softmax_loss", "test_softmax_loss_large_scores"],
    "check_two_layer_net_loss": ["test_two_layer_net_scores", "test_two_layer_net_loss_and_grads"],
}
