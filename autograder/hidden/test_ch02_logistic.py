"""Hidden tests of chapter 2: logistic regression with batch size 1.

Grading interface: `sigmoid(z)`, `logistic_forward(w, x, b, y) -> (loss, cache)`,
`logistic_backward(dloss, cache) -> (dw, db)`, `stable_bce_with_logits(z, y) -> (loss, dz)`
and `train_logistic(X, y, lr, epochs) -> (w, b, losses)`. The backward pass is graded on
the cache of the student's own forward pass (a wrong forward pass is named when the
backward's values are wrong too), except where the sigmoid saturates (see
`test_backward_saturated`). The chapter teaches an overflow-free sigmoid and a loss
computed from z: the tests at |z| = 1000 are marked stable, so an overflow loses them.
"""
import numpy as np

from autograder.grading.testkit import points
from autograder.hidden.cases import logistic_example
from autograder.toolkit.checks import check_close, field, fix_first, unpack

LOSS_SIGN = "sign flipped: did you minimise the log-likelihood instead of its negative?"
GRAD_SIGN = ("sign flipped: y - y_hat is the gradient of the log-likelihood; "
             "the loss has y_hat - y")
LOG10 = "used log10 instead of the natural logarithm np.log"
STABLE = ("compute the loss from z, as max(z, 0) - y z + log1p(exp(-|z|)), without "
          "forming y_hat")
SATURATED = ("use dL/dz = y_hat - y: the staged product divides by y_hat (1 - y_hat), "
             "which is 0 when the sigmoid saturates")
CACHE_KEYS = ("x", "z", "y_hat", "y")


def _forward(student, w, x, b, y):
    """(loss, cache) from the student's logistic_forward."""
    return unpack("logistic_forward", student.logistic_forward(w, x, b, y), 2,
                  ("loss", "cache"))


def _backward(student, dloss, cache):
    """(dw, db) from the student's logistic_backward."""
    return unpack("logistic_backward", student.logistic_backward(dloss, cache), 2, ("dw", "db"))


def _forward_then_backward(student, reference, w, x, b, y, dloss, what):
    """The student's logistic_forward, its cache into the student's logistic_backward.

    Returns the student's (dw, db), the reference's (dw, db), the reference's cache, and a
    context (checks.fix_first) for the checks of dw and db: when one fails and the forward
    pass's loss is wrong too, the message says to fix logistic_forward first.
    """
    loss, cache = _forward(student, w, x, b, y)
    ref_loss, ref_cache = reference.logistic_forward(w, x, b, y)
    forward_ok = fix_first("logistic_forward", lambda: check_close(
        "loss from logistic_forward %s" % what, loss, ref_loss))
    with forward_ok:                     # a backward that fails on a wrong cache, too
        grads = _backward(student, dloss, cache)
    return grads, reference.logistic_backward(dloss, ref_cache), ref_cache, forward_ok


def _cache(reference, x, z, y):
    """A cache as logistic_forward documents it, for a chosen logit z."""
    return {"x": np.asarray(x, dtype=np.float64), "z": np.float64(z),
            "y_hat": np.float64(reference.sigmoid(z)), "y": np.float64(y)}


def _clipped_loss(reference, z, y, eps):
    """The loss with y_hat clipped to [eps, 1 - eps], a classic non-fix."""
    p = np.clip(reference.sigmoid(z), eps, 1 - eps)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _train_variant(reference, X, y, lr, epochs, full_batch=False, update_b=True,
                   record="after"):
    """Classic wrong trainers, to name the mistake (the reference is the default)."""
    m, n = X.shape
    w, b = np.zeros(n), 0.0
    losses = []

    def mean_loss():
        return float(np.mean(reference.stable_bce_with_logits(X @ w + b, y)[0]))

    for _ in range(epochs):
        if record == "before":
            losses.append(mean_loss())
        gw, gb, running = np.zeros(n), 0.0, 0.0
        for i in range(m):
            loss, cache = reference.logistic_forward(w, X[i], b, y[i])
            dw, db = reference.logistic_backward(1.0, cache)
            running += loss / m
            if full_batch:
                gw, gb = gw + dw / m, gb + db / m
            else:
                w = w - lr * dw
                b = b - lr * db if update_b else b
        if full_batch:
            w, b = w - lr * gw, (b - lr * gb if update_b else b)
        if record == "after":
            losses.append(mean_loss())
        elif record == "running":
            losses.append(running)
    return w, b, np.array(losses)


@points(1)
def test_sigmoid_values(student, reference, rng):
    """sigmoid: values for a float and for arrays of several shapes"""
    z = float(rng.normal(scale=2.0))
    check_close("sigmoid of a float", student.sigmoid(z), reference.sigmoid(z),
                mistakes=[("computed 1/(1+e^z): the exponent needs a minus sign",
                           1 - reference.sigmoid(z))])
    for shape in ((1,), (6,), (3, 4), (2, 1, 3)):
        z = rng.normal(scale=3.0, size=shape)
        expected = reference.sigmoid(z)
        check_close("sigmoid of an array of shape %s" % (shape,), student.sigmoid(z), expected,
                    mistakes=[("computed 1/(1+e^z): the exponent needs a minus sign",
                               1 - expected),
                              ("returned the derivative sigma(z)(1 - sigma(z))",
                               expected * (1 - expected))])


@points(1, stable=True)
def test_sigmoid_saturated(student, reference, rng):
    """sigmoid: finite values, 0 or 1, where |z| is large (z = ±30, ±1000)"""
    z = np.array([-1000.0, -745.0, -30.0, 30.0, 710.0, 1000.0])
    z = z[rng.permutation(z.size)]
    check_close("sigmoid where |z| is large (an overflow in exp gives inf/inf = nan; "
                "use e^{-|z|})", student.sigmoid(z), reference.sigmoid(z))


@points(2)
def test_forward_loss(student, reference, rng):
    """logistic_forward: the cross-entropy loss for several n and both labels"""
    for n in (1, 2, 5, 20):
        w, x, b = logistic_example(rng, n)
        for y in (0.0, 1.0):
            got = _forward(student, w, x, b, y)[0]
            loss = reference.logistic_forward(w, x, b, y)[0]
            other = reference.logistic_forward(w, x, b, 1.0 - y)[0]
            no_bias = reference.logistic_forward(w, x, 0.0, y)[0]
            check_close("loss from logistic_forward with n=%d, y=%d" % (n, y), got, loss,
                        mistakes=[(LOSS_SIGN, -loss), (LOG10, loss / np.log(10)),
                                  ("swapped y and 1 - y", other),
                                  ("forgot the bias b in z = w.x + b", no_bias)])


@points(1)
def test_forward_cache(student, reference, rng):
    """logistic_forward: the cache is a dict holding x, z, y_hat and y"""
    for n in (1, 4):
        w, x, b = logistic_example(rng, n)
        y = float(rng.integers(0, 2))
        cache = _forward(student, w, x, b, y)[1]
        got = {key: field("the cache from logistic_forward", cache, key) for key in CACHE_KEYS}
        expected = reference.logistic_forward(w, x, b, y)[1]
        check_close('cache["z"] with n=%d' % n, got["z"], expected["z"],
                    mistakes=[("forgot the bias b in z = w.x + b", expected["z"] - b)])
        check_close('cache["y_hat"] with n=%d' % n, got["y_hat"], expected["y_hat"])
        check_close('cache["x"] with n=%d' % n, got["x"], expected["x"])
        check_close('cache["y"] with n=%d' % n, got["y"], expected["y"])


@points(2)
def test_backward(student, reference, rng):
    """logistic_backward on your forward's cache: dw and db for several n and both labels"""
    for n in (1, 3, 8, 25):
        w, x, b = logistic_example(rng, n)
        for y in (0.0, 1.0):
            what = "with n=%d, y=%d" % (n, y)
            (dw, db), (rdw, rdb), cache, forward_ok = _forward_then_backward(
                student, reference, w, x, b, y, 1.0, what)
            slope = cache["y_hat"] * (1 - cache["y_hat"])
            with forward_ok:
                check_close("dw from logistic_backward %s" % what, dw, rdw,
                            mistakes=[(GRAD_SIGN, -rdw),
                                      ("multiplied by sigma'(z) once more: y_hat - y already "
                                       "includes it", rdw * slope),
                                      ("forgot the factor x in dL/dw = (y_hat - y) x",
                                       np.full_like(rdw, rdb))])
                check_close("db from logistic_backward %s" % what, db, rdb,
                            mistakes=[(GRAD_SIGN, -rdb),
                                      ("multiplied by sigma'(z) once more: y_hat - y already "
                                       "includes it", rdb * slope)])


@points(1)
def test_backward_upstream(student, reference, rng):
    """logistic_backward: the gradients are scaled by the upstream gradient dloss"""
    for n, dloss in ((2, -0.5), (5, 3.0)):
        w, x, b = logistic_example(rng, n)
        (dw, db), (rdw, rdb), _, forward_ok = _forward_then_backward(
            student, reference, w, x, b, float(rng.integers(0, 2)), dloss,
            "with n=%d, dloss=%g" % (n, dloss))
        ignored = "ignored dloss: multiply by the upstream gradient"
        with forward_ok:
            check_close("dw from logistic_backward with dloss != 1", dw, rdw,
                        mistakes=[(ignored, rdw / dloss), (GRAD_SIGN, -rdw)])
            check_close("db from logistic_backward with dloss != 1", db, rdb,
                        mistakes=[(ignored, rdb / dloss), (GRAD_SIGN, -rdb)])


@points(2, stable=True)
def test_backward_saturated(student, reference, rng):
    """logistic_backward: finite, right gradients where the sigmoid saturates (z = ±30, ±1000)"""
    # logistic_backward alone, on caches built here: the chapter fixes the cache's layout
    # (a dict with the keys x, z, y_hat and y, documented in logistic_forward), and its
    # logistic_forward, computing the loss from y_hat, is inf or nan at z = ±1000.
    x = rng.normal(size=4)
    for z in (30.0, -30.0, 1000.0, -1000.0):
        for y in (0.0, 1.0):
            cache = _cache(reference, x, z, y)
            dw, db = _backward(student, 1.0, cache)
            rdw, rdb = reference.logistic_backward(1.0, cache)
            where = "z = %+g, y = %d" % (z, y)
            check_close("dw at a saturated sigmoid (%s)" % where, dw, rdw, hint=SATURATED,
                        mistakes=[(GRAD_SIGN, -rdw)])
            check_close("db at a saturated sigmoid (%s)" % where, db, rdb, hint=SATURATED,
                        mistakes=[(GRAD_SIGN, -rdb)])


@points(2)
def test_stable_moderate(student, reference, rng):
    """stable_bce_with_logits: loss and dz elementwise, for a float and several shapes"""
    cases = [(0.0, 1.0), (float(rng.normal(scale=2.0)), 0.0)]
    for shape in ((5,), (3, 4)):
        cases.append((rng.normal(scale=4.0, size=shape),
                      rng.integers(0, 2, size=shape).astype(np.float64)))
    for z, y in cases:
        what = "for a float" if np.ndim(z) == 0 else "for shape %s" % (np.shape(z),)
        loss, dz = unpack("stable_bce_with_logits", student.stable_bce_with_logits(z, y), 2,
                          ("loss", "dz"))
        rloss, rdz = reference.stable_bce_with_logits(z, y)
        check_close("loss from stable_bce_with_logits %s" % what, loss, rloss,
                    mistakes=[(LOSS_SIGN, -rloss), (LOG10, rloss / np.log(10))])
        check_close("dz from stable_bce_with_logits %s" % what, dz, rdz,
                    mistakes=[(GRAD_SIGN, -rdz)])


@points(3, stable=True)
def test_stable_extreme(student, reference, rng):
    """stable_bce_with_logits: finite, right loss and dz at z = ±30 and ±1000, y = 0 and 1"""
    z = np.repeat([-1000.0, -30.0, 30.0, 1000.0], 2)
    y = np.tile([0.0, 1.0], 4)
    order = rng.permutation(z.size)
    z, y = z[order], y[order]
    loss, dz = unpack("stable_bce_with_logits", student.stable_bce_with_logits(z, y), 2,
                      ("loss", "dz"))
    rloss, rdz = reference.stable_bce_with_logits(z, y)
    clipped = [("clipped y_hat to [%g, 1 - %g]: " % (eps, eps) + STABLE,
                _clipped_loss(reference, z, y, eps)) for eps in (1e-7, 1e-8, 1e-10, 1e-12, 1e-15)]
    check_close("loss from stable_bce_with_logits where |z| is 30 or 1000", loss, rloss,
                hint=STABLE, mistakes=[(LOSS_SIGN, -rloss)] + clipped)
    check_close("dz from stable_bce_with_logits where |z| is 30 or 1000", dz, rdz,
                hint="sigmoid(z) - y with an overflow-free sigmoid", mistakes=[(GRAD_SIGN, -rdz)])


@points(3)
def test_train(student, reference, rng):
    """train_logistic: weights, bias and loss curve match the reference on small data sets"""
    for m, n, lr, epochs in ((15, 3, 0.3, 4), (8, 1, 1.0, 2)):
        X = rng.normal(size=(m, n))
        true_w = rng.normal(size=n)
        y = (rng.random(m) < reference.sigmoid(X @ true_w)).astype(np.float64)
        w, b, losses = unpack("train_logistic", student.train_logistic(X, y, lr, epochs), 3,
                              ("w", "b", "losses"))
        rw, rb, rlosses = reference.train_logistic(X, y, lr, epochs)
        full = _train_variant(reference, X, y, lr, epochs, full_batch=True)
        fixed_b = _train_variant(reference, X, y, lr, epochs, update_b=False)
        batch = ("averaged the gradients over all examples (one step per epoch): update "
                 "after every example")
        what = "with n=%d features, %d epochs" % (n, epochs)
        check_close("w from train_logistic %s" % what, w, rw,
                    mistakes=[(batch, full[0]), ("the bias b is never updated", fixed_b[0])])
        check_close("b from train_logistic %s" % what, b, rb,
                    mistakes=[(batch, full[1]), ("the bias b is never updated", 0.0)])
        before = _train_variant(reference, X, y, lr, epochs, record="before")[2]
        running = _train_variant(reference, X, y, lr, epochs, record="running")[2]
        check_close("losses from train_logistic %s" % what, losses, rlosses,
                    mistakes=[(batch, full[2]),
                              ("recorded the loss before each epoch's updates: record it "
                               "after the epoch", before),
                              ("averaged the losses seen during the epoch: record the mean "
                               "loss over all examples at the end of the epoch", running)])

# nbgrader grade cells: each public check cell of the solution notebook is worth the
# points of these hidden tests (autograder.course.gradebook; solutions/README.md).
GRADE_CELLS = {
    "check_sigmoid": ["test_sigmoid_values", "test_sigmoid_saturated"],
    "check_logistic_forward": ["test_forward_loss", "test_forward_cache"],
    "check_logistic_backward": [
        "test_backward", "test_backward_upstream", "test_backward_saturated"],
    "check_stable_bce_with_logits": ["test_stable_moderate", "test_stable_extreme"],
    "check_train_logistic": ["test_train"],
}
