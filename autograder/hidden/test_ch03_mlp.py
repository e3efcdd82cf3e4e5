"""Hidden tests of chapter 3: the two-layer MLP with examples as columns, any depth, and the
row convention. Inputs are drawn fresh (seeded) in several shapes; messages name the array
and the shape of the case, never the inputs or the expected values.

A backward pass is graded on the cache of the student's own forward pass; when its values
are wrong and the forward's output is wrong too, the message says to fix the forward first.
The chapter teaches an overflow-free sigmoid: the tests at |z| in the hundreds are marked
stable, so an overflow in exp loses them.
"""
import numpy as np

from autograder.grading.testkit import points
from autograder.hidden.cases import (
    DEEP_CASES,
    MLP2_SHAPES,
    deep_inputs,
    describe_deep,
    mlp2_inputs,
)
from autograder.toolkit.checks import (
    CheckFailure,
    check_close,
    field,
    fix_first,
    unpack,
    wrong_axis_sums,
)

NAMES = ("sigmoid", "relu", "tanh", "identity")
MLP2_CACHE = "the cache from mlp2_forward"
MLP2_GRADS = "the dict returned by mlp2_backward"


# ------------------------------------------------------------------ helpers
def _layers(result, count, where):
    """A list of `count` per-layer values, or a CheckFailure."""
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = ("%d items" % len(result) if isinstance(result, (tuple, list))
               else "a value of type %s" % type(result).__name__)
        raise CheckFailure("%s should be a list of %d arrays (one per layer), got %s."
                           % (where, count, got))
    return list(result)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _mlp2_forward(student, X, W1, b1, w2, b2):
    """(yhat, cache) from the student's mlp2_forward."""
    return unpack("mlp2_forward", student.mlp2_forward(X, W1, b1, w2, b2), 2, ("yhat", "cache"))


def _deep_forward(student, X, Ws, bs, acts):
    """(yhat, cache) from the student's deep_forward."""
    return unpack("deep_forward", student.deep_forward(X, Ws, bs, acts), 2, ("yhat", "cache"))


def _deep_backward(student, dyhat, cache, L):
    """(dWs, dbs) from the student's deep_backward, each checked to be a list of L arrays."""
    dWs, dbs = unpack("deep_backward", student.deep_backward(dyhat, cache), 2, ("dWs", "dbs"))
    return _layers(dWs, L, "dWs from deep_backward"), _layers(dbs, L, "dbs from deep_backward")


def _forward_ok(name, case, got, expected, output="yhat"):
    """A context for the checks of a backward pass given the cache of the student's forward
    pass `name`: a failure inside says to fix the forward first when its output is wrong."""
    return fix_first(name, lambda: check_close("%s from %s %s" % (output, name, case), got,
                                               expected))


# ------------------------------------------------------------------ activations
@points(1)
def test_activation_values(student, reference, rng):
    """activation: sigmoid, relu, tanh and identity, elementwise, on matrices of several shapes"""
    for shape in [(1, 1), (3, 7), (5, 2)]:
        Z = 3.0 * rng.normal(size=shape)
        for name in NAMES:
            check_close("activation(Z, %r) for Z of shape %s" % (name, shape),
                        student.activation(Z, name), reference.activation(Z, name))


@points(1, stable=True)
def test_sigmoid_saturated(student, reference, rng):
    """activation and activation_grad: sigmoid stays exact and free of NaN for |z| up to 1000"""
    Z = rng.choice([-1.0, 1.0], size=(3, 8)) * rng.uniform(30.0, 1000.0, size=(3, 8))
    Z[0, :4] = [-1000.0, 1000.0, -37.0, 37.0]
    check_close("activation(Z, 'sigmoid') for large |z|", student.activation(Z, "sigmoid"),
                reference.activation(Z, "sigmoid"))
    # check_close's absolute tolerance (1e-9) accepts the textbook sigma(z) (1 - sigma(z)),
    # which loses all relative accuracy here (0 at z = 37, where sigma' is 8.5e-17).
    check_close("activation_grad(Z, 'sigmoid') for large |z|",
                student.activation_grad(Z, "sigmoid"), reference.activation_grad(Z, "sigmoid"))


@points(2)
def test_activation_grad_values(student, reference, rng):
    """activation_grad: the derivatives of sigmoid, tanh, identity and relu (away from 0)"""
    for shape in [(1, 1), (2, 5), (6, 3)]:
        Z = 2.0 * rng.normal(size=shape)
        Z[np.abs(Z) < 1e-3] = 0.5
        mistakes = {
            "sigmoid": [("evaluated at sigma(Z) instead of Z",
                         _sigmoid(_sigmoid(Z)) * (1 - _sigmoid(_sigmoid(Z)))),
                        ("returned sigma(Z), not its derivative", _sigmoid(Z))],
            "tanh": [("used 1 - Z**2; it is 1 - tanh(Z)**2", 1 - Z ** 2),
                     ("returned tanh(Z), not its derivative", np.tanh(Z))],
            "identity": [("returned Z; the derivative of the identity is 1", Z)],
            "relu": [("returned relu(Z), not its derivative", np.maximum(Z, 0))],
        }
        for name in NAMES:
            check_close("activation_grad(Z, %r) for Z of shape %s" % (name, shape),
                        student.activation_grad(Z, name), reference.activation_grad(Z, name),
                        mistakes=mistakes[name])


@points(1)
def test_relu_grad_at_zero(student, reference, rng):
    """activation_grad: relu'(z) is 1 for z > 0 and 0 for z <= 0, including z exactly 0"""
    Z = rng.normal(size=(4, 6))
    Z[rng.random(size=Z.shape) < 0.4] = 0.0
    Z[0, 0] = 0.0
    check_close("activation_grad(Z, 'relu') where some z are exactly 0",
                student.activation_grad(Z, "relu"), reference.activation_grad(Z, "relu"),
                mistakes=[("relu'(0) should be 0 by this chapter's convention: use Z > 0, "
                           "not Z >= 0", (Z >= 0).astype(float))])


# ------------------------------------------------------------------ the two-layer MLP
@points(2)
def test_mlp2_forward(student, reference, rng):
    """mlp2_forward: Z, A and yhat for batches of 1, 3 and 7 and other layer widths"""
    for D, H, N in MLP2_SHAPES:
        X, W1, b1, w2, b2, _ = mlp2_inputs(rng, D, H, N)
        case = "(D=%d features, H=%d hidden units, batch of %d)" % (D, H, N)
        yhat, cache = _mlp2_forward(student, X, W1, b1, w2, b2)
        ref_yhat, ref_cache = reference.mlp2_forward(X, W1, b1, w2, b2)
        check_close("cache['Z'] " + case, field(MLP2_CACHE, cache, "Z"), ref_cache["Z"],
                    mistakes=[("forgot the bias b1 u", W1 @ X)])
        check_close("cache['A'] " + case, field(MLP2_CACHE, cache, "A"), ref_cache["A"])
        check_close("yhat " + case, yhat, ref_yhat,
                    mistakes=[("used Z instead of A", w2 @ ref_cache["Z"] + b2),
                              ("forgot the bias b2", w2 @ ref_cache["A"]),
                              ("applied a sigmoid to the output; the output is linear",
                               _sigmoid(ref_yhat))])


@points(2)
def test_mse_loss(student, reference, rng):
    """mse_loss: the squared error summed and divided by the batch size N, and its gradient"""
    for K, N in [(1, 3), (1, 1), (1, 7), (2, 5), (3, 1)]:
        yhat, y = rng.normal(size=(K, N)), rng.normal(size=(K, N))
        case = " (%d output(s) per example, batch of %d)" % (K, N)
        L, dyhat = unpack("mse_loss", student.mse_loss(yhat, y), 2, ("L", "dyhat"))
        ref_L, ref_d = reference.mse_loss(yhat, y)
        check_close("the loss" + case, reference.scalar(L), ref_L,
                    mistakes=[("forgot the 1/N (the mean over the batch)", N * ref_L),
                              ("divided by the number of entries K N, not by the number of "
                               "examples N", ref_L / K)])
        check_close("dyhat" + case, dyhat, ref_d,
                    mistakes=[("forgot the 1/N (the mean over the batch)", N * ref_d),
                              ("forgot the 2 from the square", ref_d / 2),
                              ("divided by K N, not by N", ref_d / K),
                              ("the sign: it is yhat - y, not y - yhat", -ref_d)])


def _backward_case(student, reference, rng, D, H, N, scale=1.0):
    """The student's mlp2_forward, its cache into the student's mlp2_backward.

    Returns (student's grads, reference grads, reference cache, dyhat, case text, a context
    for the checks of the grads that names a wrong mlp2_forward).
    """
    X, W1, b1, w2, b2, _ = mlp2_inputs(rng, D, H, N, scale)
    dyhat = rng.normal(size=(1, N))
    case = "(D=%d features, H=%d hidden units, batch of %d)" % (D, H, N)
    yhat, cache = _mlp2_forward(student, X, W1, b1, w2, b2)
    ref_yhat, ref_cache = reference.mlp2_forward(X, W1, b1, w2, b2)
    forward_ok = _forward_ok("mlp2_forward", case, yhat, ref_yhat)
    with forward_ok:                     # a backward that fails on a wrong cache, too
        grads = student.mlp2_backward(dyhat, cache)
    return grads, reference.mlp2_backward(dyhat, ref_cache), ref_cache, dyhat, case, forward_ok


@points(2)
def test_mlp2_backward_output_layer(student, reference, rng):
    """mlp2_backward on your forward's cache: dL/dw2, dL/db2 and dL/dA for several shapes"""
    for D, H, N in MLP2_SHAPES:
        grads, ref, cache, dyhat, case, forward_ok = _backward_case(student, reference, rng,
                                                                    D, H, N)
        with forward_ok:
            check_close("grads['w2'] " + case, field(MLP2_GRADS, grads, "w2"), ref["w2"],
                        mistakes=[("used Z instead of A", dyhat @ cache["Z"].T)])
            check_close("grads['b2'] (a sum over the batch) " + case,
                        reference.scalar(field(MLP2_GRADS, grads, "b2")), ref["b2"],
                        mistakes=[("averaged over the batch: the 1/N is already in dL/dyhat",
                                   ref["b2"] / N)] + wrong_axis_sums(dyhat, axis=1))
            check_close("grads['A'] " + case, field(MLP2_GRADS, grads, "A"), ref["A"])


@points(3)
def test_mlp2_backward_hidden_layer(student, reference, rng):
    """mlp2_backward on your forward's cache: dL/dZ, dL/dW1 and dL/db1 (sums over the batch)"""
    for D, H, N in MLP2_SHAPES:
        grads, ref, cache, dyhat, case, forward_ok = _backward_case(student, reference, rng,
                                                                    D, H, N)
        A, X = cache["A"], cache["X"]
        eye = np.eye(H, N)
        dA = ref["A"]
        with forward_ok:
            _check_hidden_layer(grads, ref, case, A, X, eye, dA, N)


def _check_hidden_layer(grads, ref, case, A, X, eye, dA, N):
    """The checks of dL/dZ, dL/dW1 and dL/db1, with the classic mistakes of each."""
    check_close("grads['Z'] " + case, field(MLP2_GRADS, grads, "Z"), ref["Z"],
                mistakes=[("used (I - A) with an identity matrix I; it is (1 - A), one "
                           "minus each entry", dA * A * (eye - A)),
                          ("forgot the sigmoid's derivative A (1 - A)", dA),
                          ("evaluated the sigmoid's derivative at A, not at Z",
                           dA * _sigmoid(A) * (1 - _sigmoid(A)))])
    check_close("grads['W1'] " + case, field(MLP2_GRADS, grads, "W1"), ref["W1"],
                mistakes=[("used (I - A) with an identity matrix I; it is (1 - A)",
                           (dA * A * (eye - A)) @ X.T),
                          ("forgot the sigmoid's derivative A (1 - A)", dA @ X.T)])
    check_close("grads['b1'] (a sum over the batch, shape (H, 1)) " + case,
                field(MLP2_GRADS, grads, "b1"), ref["b1"],
                mistakes=[("averaged over the batch: the 1/N is already in dL/dyhat",
                           ref["b1"] / N),
                          ("used (I - A) with an identity matrix I; it is (1 - A)",
                           np.sum(dA * A * (eye - A), axis=1, keepdims=True))]
                + wrong_axis_sums(ref["Z"], axis=1, keepdims=True))


@points(1, stable=True)
def test_mlp2_saturated(student, reference, rng):
    """mlp2_forward and mlp2_backward: finite, correct values when the hidden sigmoids saturate"""
    for D, H, N in [(4, 2, 3), (3, 5, 7)]:
        X, W1, b1, w2, b2, _ = mlp2_inputs(rng, D, H, N, scale=400.0)
        case = "with |Z| in the hundreds (D=%d, H=%d, batch of %d)" % (D, H, N)
        yhat, cache = _mlp2_forward(student, X, W1, b1, w2, b2)
        ref_yhat, ref_cache = reference.mlp2_forward(X, W1, b1, w2, b2)
        check_close("cache['A'] " + case, field(MLP2_CACHE, cache, "A"), ref_cache["A"])
        check_close("yhat " + case, yhat, ref_yhat)
        dyhat = rng.normal(size=(1, N))
        grads = student.mlp2_backward(dyhat, cache)
        ref = reference.mlp2_backward(dyhat, ref_cache)
        for key in ("Z", "W1", "b1"):
            check_close("grads[%r] %s" % (key, case), field(MLP2_GRADS, grads, key), ref[key])


@points(1)
def test_mlp2_end_to_end(student, reference, rng):
    """mlp2_forward, mse_loss and mlp2_backward used together give the loss's gradients"""
    for D, H, N in [(4, 2, 3), (5, 3, 7)]:
        X, W1, b1, w2, b2, y = mlp2_inputs(rng, D, H, N)
        case = "(your forward, loss and backward together; D=%d, H=%d, batch of %d)" % (D, H, N)
        yhat, cache = _mlp2_forward(student, X, W1, b1, w2, b2)
        for key in ("X", "W1", "b1", "w2", "b2", "Z", "A"):
            field(MLP2_CACHE, cache, key)
        _, dyhat = unpack("mse_loss", student.mse_loss(yhat, y), 2, ("L", "dyhat"))
        grads = student.mlp2_backward(dyhat, cache)
        ref_yhat, ref_cache = reference.mlp2_forward(X, W1, b1, w2, b2)
        ref = reference.mlp2_backward(reference.mse_loss(ref_yhat, y)[1], ref_cache)
        for key in ("W1", "b1", "w2", "b2"):
            check_close("grads[%r] %s" % (key, case),
                        reference.scalar(field(MLP2_GRADS, grads, key)), ref[key])


# ------------------------------------------------------------------ any depth
@points(2)
def test_deep_forward(student, reference, rng):
    """deep_forward: yhat and the cached Z[l], A[l] for depths 1 to 4 with mixed activations"""
    for widths, acts, N in DEEP_CASES:
        X, Ws, bs = deep_inputs(rng, widths, N)
        case = describe_deep(widths, acts, N)
        yhat, cache = _deep_forward(student, X, Ws, bs, acts)
        ref_yhat, ref_cache = reference.deep_forward(X, Ws, bs, acts)
        L = len(acts)
        Zs = _layers(field("the cache from deep_forward", cache, "Zs"), L, "cache['Zs']")
        As = _layers(field("the cache from deep_forward", cache, "As"), L + 1,
                     "cache['As'] (A[0] = X, then one per layer)")
        for l in range(1, L + 1):
            check_close("cache['Zs'][%d] (Z[%d]) of a %s" % (l - 1, l, case), Zs[l - 1],
                        ref_cache["Zs"][l - 1])
            check_close("cache['As'][%d] (A[%d]) of a %s" % (l, l, case), As[l],
                        ref_cache["As"][l])
        check_close("yhat of a " + case, yhat, ref_yhat)


def _deep_case(student, reference, X, Ws, bs, acts, dyhat, case):
    """The student's deep_forward, its cache into the student's deep_backward.

    Returns the student's (dWs, dbs), the reference's (dWs, dbs), the reference's cache and
    a context for the checks of dWs and dbs that names a wrong deep_forward.
    """
    yhat, cache = _deep_forward(student, X, Ws, bs, acts)
    ref_yhat, ref_cache = reference.deep_forward(X, Ws, bs, acts)
    forward_ok = _forward_ok("deep_forward", "of a " + case, yhat, ref_yhat)
    with forward_ok:                     # a backward that fails on a wrong cache, too
        grads = _deep_backward(student, dyhat, cache, len(acts))
    return grads, reference.deep_backward(dyhat, ref_cache), ref_cache, forward_ok


@points(3)
def test_deep_backward(student, reference, rng):
    """deep_backward on your forward's cache: dL/dW[l] and dL/db[l] for depths 1 to 4"""
    for widths, acts, N in DEEP_CASES:
        X, Ws, bs = deep_inputs(rng, widths, N)
        dyhat = rng.normal(size=(widths[-1], N))
        case = describe_deep(widths, acts, N)
        (dWs, dbs), (ref_dWs, ref_dbs), cache, forward_ok = _deep_case(
            student, reference, X, Ws, bs, acts, dyhat, case)
        L = len(acts)
        no_last = ("delta[L] lacks the last activation's derivative: it is "
                   "dL/dyhat * g'(Z[L]) (this matters when g[L] is not the identity)")
        delta_L = dyhat * reference.activation_grad(cache["Zs"][L - 1], acts[L - 1])
        for l in range(L, 0, -1):       # the last layer first: the first error is the cause
            last_w = [(no_last, dyhat @ cache["As"][L - 1].T)] if l == L else []
            last_b = ([(no_last, dyhat.sum(axis=1, keepdims=True))]
                      + wrong_axis_sums(delta_L, axis=1, keepdims=True) if l == L else [])
            with forward_ok:
                check_close("dWs[%d] (dL/dW[%d]) of a %s" % (l - 1, l, case), dWs[l - 1],
                            ref_dWs[l - 1], mistakes=last_w)
                check_close("dbs[%d] (dL/db[%d], a sum over the batch) of a %s"
                            % (l - 1, l, case), dbs[l - 1], ref_dbs[l - 1],
                            mistakes=last_b + [("averaged over the batch instead of summing",
                                                ref_dbs[l - 1] / N)])


@points(1)
def test_deep_backward_relu_at_zero(student, reference, rng):
    """deep_backward: ReLU units at exactly z = 0 pass no gradient back (relu'(0) = 0)"""
    for widths, N in [([3, 4, 1], 3), ([2, 5, 4, 2], 6)]:
        acts = ["relu"] * (len(widths) - 2) + ["identity"]
        X, Ws, bs = deep_inputs(rng, widths, N)
        X[:, 0] = 0.0                      # one example is all zeros ...
        bs = [np.zeros_like(b) for b in bs]  # ... so with zero biases every Z is exactly 0
        dyhat = rng.normal(size=(widths[-1], N))
        case = describe_deep(widths, acts, N) + ", some units at exactly z = 0"
        (dWs, dbs), (ref_dWs, ref_dbs), _, forward_ok = _deep_case(
            student, reference, X, Ws, bs, acts, dyhat, case)
        with forward_ok:
            for l in range(len(acts), 0, -1):
                check_close("dbs[%d] (dL/db[%d]) of a %s" % (l - 1, l, case), dbs[l - 1],
                            ref_dbs[l - 1])
                check_close("dWs[%d] (dL/dW[%d]) of a %s" % (l - 1, l, case), dWs[l - 1],
                            ref_dWs[l - 1])


# ------------------------------------------------------------------ the row convention
def _affine_rows_forward(student, X, W, b):
    """(out, cache) from the student's affine_rows_forward."""
    return unpack("affine_rows_forward", student.affine_rows_forward(X, W, b), 2,
                  ("out", "cache"))


@points(1)
def test_affine_rows_forward(student, reference, rng):
    """affine_rows_forward: out = X W + b with one example per row"""
    for N, D, M in [(3, 4, 2), (1, 5, 3), (7, 2, 6)]:
        X, W, b = rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M)
        out, _ = _affine_rows_forward(student, X, W, b)
        check_close("out (batch of %d, %d inputs, %d outputs)" % (N, D, M), out,
                    reference.affine_rows_forward(X, W, b)[0],
                    mistakes=[("forgot the bias b", X @ W)])


@points(2)
def test_affine_rows_backward(student, reference, rng):
    """affine_rows_backward on your forward's cache: dX, dW and db (column sums), rows"""
    for N, D, M in [(3, 4, 2), (1, 5, 3), (7, 2, 6), (4, 3, 4)]:
        X, W, b = rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M)
        dout = rng.normal(size=(N, M))
        case = " (batch of %d, %d inputs, %d outputs)" % (N, D, M)
        out, cache = _affine_rows_forward(student, X, W, b)
        ref_out, ref_cache = reference.affine_rows_forward(X, W, b)
        ref_dX, ref_dW, ref_db = reference.affine_rows_backward(dout, ref_cache)
        with _forward_ok("affine_rows_forward", case, out, ref_out, output="out"):
            dX, dW, db = unpack("affine_rows_backward",
                                student.affine_rows_backward(dout, cache), 3, ("dX", "dW", "db"))
            check_close("dX" + case, dX, ref_dX)
            check_close("dW" + case, dW, ref_dW)
            check_close("db (column sums of dout, shape (M,))" + case, db, ref_db,
                        mistakes=[("averaged over the batch instead of summing", ref_db / N)]
                        + wrong_axis_sums(dout, axis=0))

# nbgrader grade cells: each public check cell of the solution notebook is worth the
# points of these hidden tests (autograder.course.gradebook; solutions/README.md).
GRADE_CELLS = {
    "check_activation": ["test_activation_values", "test_sigmoid_saturated"],
    "check_activation_grad": ["test_activation_grad_values", "test_relu_grad_at_zero"],
    "check_mlp2_forward": ["test_mlp2_forward"],
    "check_mse_loss": ["test_mse_loss"],
    "check_mlp2_backward": [
        "test_mlp2_backward_output_layer",
        "test_mlp2_backward_hidden_layer",
        "test_mlp2_saturated",
        "test_mlp2_end_to_end",
    ],
    "check_deep_forward": ["test_deep_forward"],
    "check_deep_backward": ["test_deep_backward", "test_deep_backward_relu_at_zero"],
    "check_affine_rows_forward": ["test_affine_rows_forward"],
    "check_affine_rows_backward": ["test_affine_rows_backward"],
}
