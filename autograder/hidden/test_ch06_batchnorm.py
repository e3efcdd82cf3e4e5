"""Hidden tests of chapter 6 (batch normalisation), with cs231n's API.

``batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)``: x (N, D), gamma and beta
(D,); ``bn_param["mode"]`` is "train" or "test", ``eps`` defaults to 1e-5, ``momentum`` to
0.9, and train mode stores ``running = momentum * running + (1 - momentum) * batch
statistic`` in ``bn_param["running_mean"]`` and ``["running_var"]`` (biased variance).
``batchnorm_backward`` (staged) and ``batchnorm_backward_alt`` (closed form) return
``(dx, dgamma, dbeta)``. The cache is the student's own: every backward test chains the
student's forward into the student's backward, and compares both with the reference.
Changes the student's forward makes to ``bn_param`` come back from the sandbox, as they
would in a notebook.
"""
import numpy as np

from autograder.grading.testkit import points
from autograder.toolkit.checks import CheckFailure, check_close

SHAPES = ((4, 3), (2, 5), (16, 8), (3, 1), (8, 1000))        # (N, D): N = 2 and a large D
GRADS = ("dx", "dgamma", "dbeta")
BIASED = "the unbiased variance (ddof=1); batch normalisation uses the biased one, with 1/N"
BATCH_IN_TEST = ("the batch's own mean and variance were used in test mode; test mode normalises "
                 "with bn_param's running averages")


def batch(rng, N, D):
    """A batch far from standardised, and gamma, beta of shape (D,)."""
    x = rng.normal(loc=rng.normal(scale=3.0, size=D), scale=rng.uniform(0.5, 4.0, size=D),
                   size=(N, D))
    return x, rng.normal(size=D), rng.normal(size=D)


def pair(what, result, names):
    """Split a returned tuple into its named parts, or fail saying what came back."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        kind = ("%d values" % len(result) if isinstance(result, (tuple, list))
                else "a value of type %s" % type(result).__name__)
        raise CheckFailure("%s should return a tuple (%s); it returned %s."
                           % (what, ", ".join(names), kind))
    return result


def forward(fn, what, x, gamma, beta, bn_param):
    """Call a forward on copies of the arrays: (out, cache)."""
    return pair(what, fn(x.copy(), gamma.copy(), beta.copy(), bn_param), ("out", "cache"))


def running(what, bn_param, key):
    """bn_param[key] after the student's call, or a failure naming the missing key."""
    if not isinstance(bn_param, dict) or key not in bn_param:
        raise CheckFailure('%s: bn_param has no key "%s" after a train-mode call: store the '
                           "updated running average in bn_param." % (what, key))
    return bn_param[key]


def forward_mistakes(x, gamma, beta, eps):
    """Wrong outputs of train mode, from the classic mistakes."""
    mu, var = x.mean(axis=0), x.var(axis=0)
    wrong = []
    if x.shape[0] > 1:
        wrong.append((BIASED, gamma * (x - mu) / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta))
    if np.all(var > 0):
        wrong.append(("eps is missing: divide by sqrt(var + eps)",
                      gamma * (x - mu) / np.sqrt(var) + beta))
    wrong.append(("eps added outside the square root: sqrt(var + eps), not sqrt(var) + eps",
                  gamma * (x - mu) / (np.sqrt(var) + eps) + beta))
    if x.shape[0] == x.shape[1]:
        m, v = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
        wrong.append(("statistics over axis=1 (each example); they are per feature, axis=0",
                      gamma * (x - m) / np.sqrt(v + eps) + beta))
    return wrong


def running_mistakes(stat, old, momentum, unbiased=None):
    """Wrong running averages: not updated, momentum on the wrong side, unbiased variance."""
    wrong = [("not updated: store the new average in bn_param", old),
             ("momentum on the wrong side: running = momentum * running + (1 - momentum) * batch",
              (1 - momentum) * old + momentum * stat),
             ("replaced by the batch statistic instead of averaged", stat)]
    if unbiased is not None:
        wrong.append((BIASED, momentum * old + (1 - momentum) * unbiased))
    return wrong


def staged_variant(dout, cache, mistake):
    """dx of the reference's staged graph with one classic mistake (reference cache)."""
    gamma, eps = cache["gamma"], cache["eps"]
    a1, v, s, i, h = cache["alpha1"], cache["v"], cache["s"], cache["i"], cache["h"]
    N, D = dout.shape
    dh = dout * ((h * gamma + cache["beta"]) if mistake == "y" else gamma)
    ds = np.sum(dh * a1, axis=0) * (-1.0 / s ** 2)
    dv = ds * 0.5 * (v + eps) ** -0.5
    dc = dv * np.ones((N, D)) / (1 if mistake == "var_1N" else N)
    da1 = (0 if mistake == "no_var" else dc * 2 * a1) + dh * i
    dmu = -np.sum(da1, axis=0)
    dX1 = 0 if mistake == "no_mean" else dmu * np.ones((N, D)) / (1 if mistake == "mean_1N" else N)
    return dX1 + da1


def backward_mistakes(x, dout, cache):
    """Classic backward mistakes as wrong (dx, dgamma) values."""
    dx = [("the 1/N of the variance's mean is missing (dc = dv / N)",
           staged_variant(dout, cache, "var_1N")),
          ("the 1/N of the mean is missing (dX1 = dmu / N)",
           staged_variant(dout, cache, "mean_1N")),
          ("dh = dk * y (the output) instead of dk * gamma", staged_variant(dout, cache, "y")),
          ("the path through the mean is missing (a fork adds its gradients)",
           staged_variant(dout, cache, "no_mean")),
          ("the path through the variance is missing (a fork adds its gradients)",
           staged_variant(dout, cache, "no_var")),
          ("the 1/N in front of the closed form is missing",
           dout.shape[0] * staged_variant(dout, cache, None))]
    dgamma = [("dgamma uses x instead of x_hat, the normalised input", np.sum(dout * x, axis=0))]
    return {"dx": dx, "dgamma": dgamma, "dbeta": []}


def check_backward(student, reference, name, x, gamma, beta, dout, what):
    """The student's forward then the student's backward ``name``, against the reference."""
    _, cache = forward(student.batchnorm_forward, "batchnorm_forward", x, gamma, beta,
                       {"mode": "train"})
    got = pair(name, getattr(student, name)(dout.copy(), cache), GRADS)
    _, ref_cache = reference.batchnorm_forward(x.copy(), gamma.copy(), beta.copy(),
                                               {"mode": "train"})
    expected = getattr(reference, name)(dout.copy(), ref_cache)
    wrong = backward_mistakes(x, dout, ref_cache)
    for key in ("dbeta", "dgamma", "dx"):
        k = GRADS.index(key)
        check_close("%s from %s (%s)" % (key, name, what), got[k], expected[k],
                    mistakes=wrong[key])


# ---------------------------------------------------------------- forward

@points(2)
def test_forward_train(student, reference, rng):
    """batchnorm_forward, train mode: batch mean and biased variance, eps, gamma and beta"""
    for N, D in SHAPES + ((5, 5),):
        x, gamma, beta = batch(rng, N, D)
        eps = float(rng.choice([1e-5, 0.3]))
        param = {"mode": "train", "eps": eps} if eps != 1e-5 else {"mode": "train"}
        out, _ = forward(student.batchnorm_forward, "batchnorm_forward", x, gamma, beta, param)
        expected, _ = reference.batchnorm_forward(x.copy(), gamma, beta, dict(param))
        check_close("out of batchnorm_forward in train mode, N = %d, D = %d%s"
                    % (N, D, ", eps given in bn_param" if "eps" in param else ""),
                    out, expected, mistakes=forward_mistakes(x, gamma, beta, eps))


@points(2)
def test_forward_running_averages(student, reference, rng):
    """batchnorm_forward, train mode: the running averages start at zeros and are updated"""
    for N, D in SHAPES[:4]:
        x, gamma, beta = batch(rng, N, D)
        param = {"mode": "train"}
        forward(student.batchnorm_forward, "batchnorm_forward", x, gamma, beta, param)
        ref_param = {"mode": "train"}
        reference.batchnorm_forward(x.copy(), gamma, beta, ref_param)
        unbiased = x.var(axis=0, ddof=1) if N > 1 else None
        for key, stat, other in (("running_mean", x.mean(axis=0), None),
                                 ("running_var", x.var(axis=0), unbiased)):
            check_close('bn_param["%s"] after one train call (N = %d, D = %d)' % (key, N, D),
                        running("batchnorm_forward", param, key), ref_param[key],
                        mistakes=running_mistakes(stat, np.zeros(D), 0.9, other))


@points(2)
def test_forward_several_calls(student, reference, rng):
    """batchnorm_forward: several train calls in a row update the running averages in bn_param"""
    N, D = 6, 4
    momentum = 0.7
    param = {"mode": "train", "momentum": momentum,
             "running_mean": rng.normal(size=D), "running_var": rng.uniform(0.5, 2.0, size=D)}
    ref_param = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in param.items()}
    for call in range(1, 5):
        x, gamma, beta = batch(rng, N, D)
        old = {k: np.array(ref_param[k]) for k in ("running_mean", "running_var")}
        forward(student.batchnorm_forward, "batchnorm_forward", x, gamma, beta, param)
        reference.batchnorm_forward(x.copy(), gamma, beta, ref_param)
        for key, stat in (("running_mean", x.mean(axis=0)), ("running_var", x.var(axis=0))):
            check_close('bn_param["%s"] after train call %d of 4 (a momentum given in bn_param)'
                        % (key, call), running("batchnorm_forward", param, key),
                        ref_param[key],
                        mistakes=running_mistakes(stat, old[key], momentum) +
                        [("the default momentum 0.9 was used instead of bn_param's",
                          0.9 * old[key] + 0.1 * stat)])


@points(2)
def test_forward_test_mode(student, reference, rng):
    """batchnorm_forward, test mode: normalises with the running averages and leaves them alone"""
    for N, D in ((5, 3), (1, 4), (2, 6), (32, 50)):
        x, gamma, beta = batch(rng, N, D)
        mean, var = rng.normal(size=D), rng.uniform(0.2, 3.0, size=D)
        param = {"mode": "test", "running_mean": mean.copy(), "running_var": var.copy()}
        out, _ = forward(student.batchnorm_forward, "batchnorm_forward", x, gamma, beta, param)
        expected, _ = reference.batchnorm_forward(
            x.copy(), gamma, beta, {"mode": "test", "running_mean": mean.copy(),
                                    "running_var": var.copy()})
        wrong = [(BATCH_IN_TEST, gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) + beta),
                 ("eps is missing: divide by sqrt(running_var + eps)",
                  gamma * (x - mean) / np.sqrt(var) + beta)]
        check_close("out of batchnorm_forward in test mode, N = %d, D = %d" % (N, D), out,
                    expected, mistakes=wrong)
        for key, value in (("running_mean", mean), ("running_var", var)):
            check_close('bn_param["%s"] after a test-mode call (it must not change)' % key,
                        param.get(key), value)


@points(1)
def test_forward_one_example(student, reference, rng):
    """batchnorm_forward with one example (N = 1): the variance is 0 and the output is beta"""
    for D in (1, 5):
        x, gamma, beta = batch(rng, 1, D)
        param = {"mode": "train"}
        out, _ = forward(student.batchnorm_forward, "batchnorm_forward", x, gamma, beta, param)
        expected, _ = reference.batchnorm_forward(x.copy(), gamma, beta, {"mode": "train"})
        check_close("out of batchnorm_forward for one example, D = %d" % D, out, expected)


@points(1)
def test_forward_keeps_its_inputs(student, reference, rng):
    """batchnorm_forward does not change x, gamma or beta in place"""
    x, gamma, beta = batch(rng, 5, 4)
    args = {"x": x.copy(), "gamma": gamma.copy(), "beta": beta.copy()}
    result = student.batchnorm_forward(args["x"], args["gamma"], args["beta"], {"mode": "train"})
    pair("batchnorm_forward", result, ("out", "cache"))
    for name, before in (("x", x), ("gamma", gamma), ("beta", beta)):
        if not np.array_equal(args[name], before):
            raise CheckFailure("batchnorm_forward changed its argument %s in place; work on new "
                               "arrays (x - mu makes one, x -= mu changes x)." % name)


# ---------------------------------------------------------------- backward

@points(3)
def test_backward(student, reference, rng):
    """batchnorm_backward (staged): your forward's cache into your backward, several shapes"""
    for N, D in SHAPES:
        x, gamma, beta = batch(rng, N, D)
        check_backward(student, reference, "batchnorm_backward", x, gamma, beta,
                       rng.normal(size=(N, D)), "N = %d, D = %d" % (N, D))


@points(1)
def test_backward_one_example(student, reference, rng):
    """batchnorm_backward with one example (N = 1): a finite gradient, thanks to eps"""
    for D in (1, 4):
        x, gamma, beta = batch(rng, 1, D)
        check_backward(student, reference, "batchnorm_backward", x, gamma, beta,
                       rng.normal(size=(1, D)), "one example, D = %d" % D)


@points(2)
def test_backward_alt(student, reference, rng):
    """batchnorm_backward_alt (closed form): your forward's cache into it, several shapes"""
    for N, D in SHAPES:
        x, gamma, beta = batch(rng, N, D)
        check_backward(student, reference, "batchnorm_backward_alt", x, gamma, beta,
                       rng.normal(size=(N, D)), "N = %d, D = %d" % (N, D))


@points(1)
def test_backward_alt_one_example(student, reference, rng):
    """batchnorm_backward_alt with one example (N = 1): a finite gradient, thanks to eps"""
    for D in (1, 4):
        x, gamma, beta = batch(rng, 1, D)
        check_backward(student, reference, "batchnorm_backward_alt", x, gamma, beta,
                       rng.normal(size=(1, D)), "one example, D = %d" % D)

# nbgrader grade cells: each public check cell of the solution notebook is worth the
# points of these hidden tests (autograder.course.gradebook; solutions/README.md).
GRADE_CELLS = {
    "check_batchnorm_forward": [
        "test_forward_train",
        "test_forward_running_averages",
        "test_forward_several_calls",
        "test_forward_test_mode",
        "test_forward_one_example",
        "test_forward_keeps_its_inputs",
    ],
    "check_batchnorm_backward": ["test_backward", "test_backward_one_example"],
    "check_batchnorm_backward_alt": ["test_backward_alt", "test_backward_alt_one_example"],
}
