"""Hidden tests of chapter 3: the two-layer MLP with examples as columns, any depth, and the
row convention. Inputs are drawn fresh (seeded) in several shapes; messages name the array
and the shape of the case, never the inputs or the expected values."""
import numpy as np

from autograder.grading.testkit import points
from autograder.toolkit.checks import CheckFailure, check_close

NAMES = ("sigmoid", "relu", "tanh", "identity")


# ------------------------------------------------------------------ helpers
def _parts(result, count, fn):
    """The values of a tuple of ``count`` returned by ``fn``, or a CheckFailure."""
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = ("a tuple of %d values" % len(result) if isinstance(result, (tuple, list))
               else "a value of type %s" % type(result).__name__)
        raise CheckFailure("%s should return a tuple of %d values (see its docstring), got %s."
                           % (fn, count, got))
    return tuple(result)


def _field(result, key, where):
    """result[key] for a dict, or a CheckFailure naming the missing key."""
    if not isinstance(result, dict):
        raise CheckFailure("%s should be a dict (see the docstring), got a value of type %s."
                           % (where, type(result).__name__))
    if key not in result:
        raise CheckFailure("%s has no key %r; the docstring lists the keys to use (found: %s)."
                           % (where, key, ", ".join(repr(k) for k in result) or "none"))
    return result[key]


def _layers(result, count, where):
    """A list of ``count`` per-layer values, or a CheckFailure."""
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = ("%d items" % len(result) if isinstance(result, (tuple, list))
               else "a value of type %s" % type(result).__name__)
        raise CheckFailure("%s should be a list of %d arrays (one per layer), got %s."
                           % (where, count, got))
    return list(result)


def _scalar(value):
    """A number given as a float or as a 1x1 array (the seed's u^T gives a 1x1 matrix)."""
    arr = np.asarray(value) if isinstance(value, (int, float, np.ndarray, np.generic)) else None
    if arr is not None and arr.dtype != object and arr.size == 1:
        return arr.reshape(())
    return value


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _mlp2_inputs(rng, D, H, N, scale=1.0):
    """X (D, N), W1 (H, D), b1 (H, 1), w2 (1, H), b2 float, y (1, N)."""
    return (rng.normal(size=(D, N)), scale * rng.normal(size=(H, D)),
            rng.normal(size=(H, 1)), rng.normal(size=(1, H)), float(rng.normal()),
            rng.normal(size=(1, N)))


def _deep_inputs(rng, widths, N):
    """X (n_0, N), Ws[l-1] (n_l, n_{l-1}), bs[l-1] (n_l, 1)."""
    X = rng.normal(size=(widths[0], N))
    Ws = [rng.normal(size=(widths[l], widths[l - 1])) / np.sqrt(widths[l - 1])
          for l in range(1, len(widths))]
    bs = [0.5 * rng.normal(size=(n, 1)) for n in widths[1:]]
    return X, Ws, bs


MLP2_SHAPES = [(4, 2, 3), (4, 2, 1), (4, 2, 7), (3, 5, 7), (1, 1, 2), (6, 3, 4)]  # (D, H, N)

DEEP_CASES = [  # (layer widths n_0..n_L, activations, batch size N)
    ([4, 1], ["identity"], 3),
    ([3, 2], ["sigmoid"], 1),
    ([4, 2, 1], ["sigmoid", "identity"], 3),
    ([5, 4, 2], ["relu", "sigmoid"], 7),
    ([2, 6, 3, 1], ["tanh", "relu", "identity"], 7),
    ([3, 4, 4, 3, 2], ["sigmoid", "tanh", "relu", "tanh"], 5),
    ([1, 3, 2, 2, 1], ["relu", "relu", "sigmoid", "sigmoid"], 1),
]


def _case(widths, acts, N):
    return "%d-layer network (widths %s; %s), batch of %d" % (
        len(acts), "-".join(map(str, widths)), ", ".join(acts), N)


# ------------------------------------------------------------------ activations
@points(1)
def test_activation_values(student, reference, rng):
    """activation: sigmoid, relu, tanh and identity, elementwise, on matrices of several shapes"""
    for shape in [(1, 1), (3, 7), (5, 2)]:
        Z = 3.0 * rng.normal(size=shape)
        for name in NAMES:
            check_close("activation(Z, %r) for Z of shape %s" % (name, shape),
                        student.activation(Z, name), reference.activation(Z, name))


@points(1)
def test_sigmoid_saturated(student, reference, rng):
    """activation and activation_grad: sigmoid stays exact and free of NaN for |z| up to 1000"""
    Z = rng.choice([-1.0, 1.0], size=(3, 8)) * rng.uniform(30.0, 1000.0, size=(3, 8))
    Z[0, :2] = [-1000.0, 1000.0]
    check_close("activation(Z, 'sigmoid') for large |z|", student.activation(Z, "sigmoid"),
                reference.activation(Z, "sigmoid"))
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
        X, W1, b1, w2, b2, _ = _mlp2_inputs(rng, D, H, N)
        case = "(D=%d features, H=%d hidden units, batch of %d)" % (D, H, N)
        yhat, cache = _parts(student.mlp2_forward(X, W1, b1, w2, b2), 2, "mlp2_forward")
        ref_yhat, ref_cache = reference.mlp2_forward(X, W1, b1, w2, b2)
        check_close("cache['Z'] " + case, _field(cache, "Z", "the cache from mlp2_forward"),
                    ref_cache["Z"], mistakes=[("forgot the bias b1 u", W1 @ X)])
        check_close("cache['A'] " + case, _field(cache, "A", "the cache from mlp2_forward"),
                    ref_cache["A"])
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
        L, dyhat = _parts(student.mse_loss(yhat, y), 2, "mse_loss")
        ref_L, ref_d = reference.mse_loss(yhat, y)
        check_close("the loss" + case, _scalar(L), ref_L,
                    mistakes=[("forgot the 1/N (the mean over the batch)", N * ref_L),
                              ("divided by the number of entries K N, not by the number of "
                               "examples N", ref_L / K)])
        check_close("dyhat" + case, dyhat, ref_d,
                    mistakes=[("forgot the 1/N (the mean over the batch)", N * ref_d),
                              ("forgot the 2 from the square", ref_d / 2),
                              ("divided by K N, not by N", ref_d / K),
                              ("the sign: it is yhat - y, not y - yhat", -ref_d)])


def _backward_case(student, reference, rng, D, H, N, scale=1.0):
    """(student's grads, reference grads, reference cache, dyhat, case text) for one shape."""
    X, W1, b1, w2, b2, _ = _mlp2_inputs(rng, D, H, N, scale)
    _, cache = reference.mlp2_forward(X, W1, b1, w2, b2)
    dyhat = rng.normal(size=(1, N))
    grads = student.mlp2_backward(dyhat, cache)
    case = "(D=%d features, H=%d hidden units, batch of %d)" % (D, H, N)
    return grads, reference.mlp2_backward(dyhat, cache), cache, dyhat, case


@points(2)
def test_mlp2_backward_output_layer(student, reference, rng):
    """mlp2_backward: dL/dw2, dL/db2 and dL/dA for several shapes"""
    for D, H, N in MLP2_SHAPES:
        grads, ref, cache, dyhat, case = _backward_case(student, reference, rng, D, H, N)
        where = "the dict returned by mlp2_backward"
        check_close("grads['w2'] " + case, _field(grads, "w2", where), ref["w2"],
                    mistakes=[("used Z instead of A", dyhat @ cache["Z"].T)])
        check_close("grads['b2'] (a sum over the batch) " + case,
                    _scalar(_field(grads, "b2", where)), ref["b2"],
                    mistakes=[("averaged over the batch: the 1/N is already in dL/dyhat",
                               ref["b2"] / N)])
        check_close("grads['A'] " + case, _field(grads, "A", where), ref["A"])


@points(3)
def test_mlp2_backward_hidden_layer(student, reference, rng):
    """mlp2_backward: dL/dZ, dL/dW1 and dL/db1 (sums over the batch) for several shapes"""
    for D, H, N in MLP2_SHAPES:
        grads, ref, cache, dyhat, case = _backward_case(student, reference, rng, D, H, N)
        where = "the dict returned by mlp2_backward"
        A, X = cache["A"], cache["X"]
        eye = np.eye(H, N)
        dA = ref["A"]
        check_close("grads['Z'] " + case, _field(grads, "Z", where), ref["Z"],
                    mistakes=[("used (I - A) with an identity matrix I; it is (1 - A), one "
                               "minus each entry", dA * A * (eye - A)),
                              ("forgot the sigmoid's derivative A (1 - A)", dA),
                              ("evaluated the sigmoid's derivative at A, not at Z",
                               dA * _sigmoid(A) * (1 - _sigmoid(A)))])
        check_close("grads['W1'] " + case, _field(grads, "W1", where), ref["W1"],
                    mistakes=[("used (I - A) with an identity matrix I; it is (1 - A)",
                               (dA * A * (eye - A)) @ X.T),
                              ("forgot the sigmoid's derivative A (1 - A)", dA @ X.T)])
        check_close("grads['b1'] (a sum over the batch, shape (H, 1)) " + case,
                    _field(grads, "b1", where), ref["b1"],
                    mistakes=[("averaged over the batch: the 1/N is already in dL/dyhat",
                               ref["b1"] / N),
                              ("used (I - A) with an identity matrix I; it is (1 - A)",
                               np.sum(dA * A * (eye - A), axis=1, keepdims=True))])


@points(1)
def test_mlp2_saturated(student, reference, rng):
    """mlp2_forward and mlp2_backward: finite, correct values when the hidden sigmoids saturate"""
    for D, H, N in [(4, 2, 3), (3, 5, 7)]:
        X, W1, b1, w2, b2, _ = _mlp2_inputs(rng, D, H, N, scale=400.0)
        case = "with |Z| in the hundreds (D=%d, H=%d, batch of %d)" % (D, H, N)
        yhat, cache = _parts(student.mlp2_forward(X, W1, b1, w2, b2), 2, "mlp2_forward")
        ref_yhat, ref_cache = reference.mlp2_forward(X, W1, b1, w2, b2)
        check_close("cache['A'] " + case, _field(cache, "A", "the cache from mlp2_forward"),
                    ref_cache["A"])
        check_close("yhat " + case, yhat, ref_yhat)
        dyhat = rng.normal(size=(1, N))
        grads = student.mlp2_backward(dyhat, ref_cache)
        ref = reference.mlp2_backward(dyhat, ref_cache)
        for key in ("Z", "W1", "b1"):
            check_close("grads[%r] %s" % (key, case),
                        _field(grads, key, "the dict returned by mlp2_backward"), ref[key])


@points(1)
def test_mlp2_end_to_end(student, reference, rng):
    """mlp2_forward, mse_loss and mlp2_backward used together give the loss's gradients"""
    for D, H, N in [(4, 2, 3), (5, 3, 7)]:
        X, W1, b1, w2, b2, y = _mlp2_inputs(rng, D, H, N)
        case = "(your forward, loss and backward together; D=%d, H=%d, batch of %d)" % (D, H, N)
        yhat, cache = _parts(student.mlp2_forward(X, W1, b1, w2, b2), 2, "mlp2_forward")
        for key in ("X", "W1", "b1", "w2", "b2", "Z", "A"):
            _field(cache, key, "the cache from mlp2_forward")
        _, dyhat = _parts(student.mse_loss(yhat, y), 2, "mse_loss")
        grads = student.mlp2_backward(dyhat, cache)
        ref_yhat, ref_cache = reference.mlp2_forward(X, W1, b1, w2, b2)
        ref = reference.mlp2_backward(reference.mse_loss(ref_yhat, y)[1], ref_cache)
        for key in ("W1", "b1", "w2", "b2"):
            check_close("grads[%r] %s" % (key, case),
                        _scalar(_field(grads, key, "the dict returned by mlp2_backward")),
                        ref[key])


# ------------------------------------------------------------------ any depth
@points(2)
def test_deep_forward(student, reference, rng):
    """deep_forward: yhat and the cached Z[l], A[l] for depths 1 to 4 with mixed activations"""
    for widths, acts, N in DEEP_CASES:
        X, Ws, bs = _deep_inputs(rng, widths, N)
        case = _case(widths, acts, N)
        yhat, cache = _parts(student.deep_forward(X, Ws, bs, acts), 2, "deep_forward")
        ref_yhat, ref_cache = reference.deep_forward(X, Ws, bs, acts)
        L = len(acts)
        Zs = _layers(_field(cache, "Zs", "the cache from deep_forward"), L, "cache['Zs']")
        As = _layers(_field(cache, "As", "the cache from deep_forward"), L + 1,
                     "cache['As'] (A[0] = X, then one per layer)")
        for l in range(1, L + 1):
            check_close("cache['Zs'][%d] (Z[%d]) of a %s" % (l - 1, l, case), Zs[l - 1],
                        ref_cache["Zs"][l - 1])
            check_close("cache['As'][%d] (A[%d]) of a %s" % (l, l, case), As[l],
                        ref_cache["As"][l])
        check_close("yhat of a " + case, yhat, ref_yhat)


@points(3)
def test_deep_backward(student, reference, rng):
    """deep_backward: dL/dW[l] and dL/db[l] for depths 1 to 4 with mixed activations"""
    for widths, acts, N in DEEP_CASES:
        X, Ws, bs = _deep_inputs(rng, widths, N)
        _, cache = reference.deep_forward(X, Ws, bs, acts)
        dyhat = rng.normal(size=(widths[-1], N))
        case = _case(widths, acts, N)
        dWs, dbs = _parts(student.deep_backward(dyhat, cache), 2, "deep_backward")
        ref_dWs, ref_dbs = reference.deep_backward(dyhat, cache)
        L = len(acts)
        dWs = _layers(dWs, L, "dWs from deep_backward")
        dbs = _layers(dbs, L, "dbs from deep_backward")
        no_last = ("delta[L] lacks the last activation's derivative: it is "
                   "dL/dyhat * g'(Z[L]) (this matters when g[L] is not the identity)")
        for l in range(L, 0, -1):       # the last layer first: the first error is the cause
            last_w = [(no_last, dyhat @ cache["As"][L - 1].T)] if l == L else []
            last_b = [(no_last, dyhat.sum(axis=1, keepdims=True))] if l == L else []
            check_close("dWs[%d] (dL/dW[%d]) of a %s" % (l - 1, l, case), dWs[l - 1],
                        ref_dWs[l - 1], mistakes=last_w)
            check_close("dbs[%d] (dL/db[%d], a sum over the batch) of a %s" % (l - 1, l, case),
                        dbs[l - 1], ref_dbs[l - 1],
                        mistakes=last_b + [("averaged over the batch instead of summing",
                                            ref_dbs[l - 1] / N)])


@points(1)
def test_deep_backward_relu_at_zero(student, reference, rng):
    """deep_backward: ReLU units at exactly z = 0 pass no gradient back (relu'(0) = 0)"""
    for widths, N in [([3, 4, 1], 3), ([2, 5, 4, 2], 6)]:
        acts = ["relu"] * (len(widths) - 2) + ["identity"]
        X, Ws, bs = _deep_inputs(rng, widths, N)
        X[:, 0] = 0.0                      # one example is all zeros ...
        bs = [np.zeros_like(b) for b in bs]  # ... so with zero biases every Z is exactly 0
        _, cache = reference.deep_forward(X, Ws, bs, acts)
        dyhat = rng.normal(size=(widths[-1], N))
        case = _case(widths, acts, N) + ", some units at exactly z = 0"
        dWs, dbs = _parts(student.deep_backward(dyhat, cache), 2, "deep_backward")
        ref_dWs, ref_dbs = reference.deep_backward(dyhat, cache)
        dWs = _layers(dWs, len(acts), "dWs from deep_backward")
        dbs = _layers(dbs, len(acts), "dbs from deep_backward")
        for l in range(len(acts), 0, -1):
            check_close("dbs[%d] (dL/db[%d]) of a %s" % (l - 1, l, case), dbs[l - 1],
                        ref_dbs[l - 1])
            check_close("dWs[%d] (dL/dW[%d]) of a %s" % (l - 1, l, case), dWs[l - 1],
                        ref_dWs[l - 1])


# ------------------------------------------------------------------ the row convention
@points(1)
def test_affine_rows_forward(student, reference, rng):
    """affine_rows_forward: out = X W + b with one example per row"""
    for N, D, M in [(3, 4, 2), (1, 5, 3), (7, 2, 6)]:
        X, W, b = rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M)
        out, _ = _parts(student.affine_rows_forward(X, W, b), 2, "affine_rows_forward")
        check_close("out (batch of %d, %d inputs, %d outputs)" % (N, D, M), out,
                    reference.affine_rows_forward(X, W, b)[0],
                    mistakes=[("forgot the bias b", X @ W)])


@points(2)
def test_affine_rows_backward(student, reference, rng):
    """affine_rows_backward: dX, dW and db (column sums) with one example per row"""
    for N, D, M in [(3, 4, 2), (1, 5, 3), (7, 2, 6)]:
        X, W, b = rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M)
        _, cache = reference.affine_rows_forward(X, W, b)
        dout = rng.normal(size=(N, M))
        dX, dW, db = _parts(student.affine_rows_backward(dout, cache), 3,
                            "affine_rows_backward")
        ref_dX, ref_dW, ref_db = reference.affine_rows_backward(dout, cache)
        case = " (batch of %d, %d inputs, %d outputs)" % (N, D, M)
        check_close("dX" + case, dX, ref_dX)
        check_close("dW" + case, dW, ref_dW)
        check_close("db (column sums of dout, shape (M,))" + case, db, ref_db,
                    mistakes=[("averaged over the batch instead of summing", ref_db / N)])
