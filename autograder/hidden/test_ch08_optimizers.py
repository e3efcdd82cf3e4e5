"""Hidden tests of chapter 8 (optimizers), with cs231n's API.

``sgd``, ``sgd_momentum``, ``rmsprop`` and ``adam`` take ``(w, dw, config=None)`` and return
``(next_w, config)``. ``config`` holds the hyperparameters (defaults filled with
``setdefault``) and the state, under cs231n's keys: ``velocity``; ``cache``; ``m``, ``v``,
``t``. A run passes the student's returned ``next_w`` and ``config`` back in at the next
step, as a training loop does, and is compared step by step with the reference's run; a
wrong step is matched against the same run of the classic mistakes
(``reference.update_mistakes``). Changing ``w`` or ``dw`` in place fails the call (the
sandbox compares array arguments before and after); changes to ``config`` come back.
"""
import copy

from autograder.grading.testkit import points
from autograder.toolkit.checks import CheckFailure, check_close, field, unpack

SHAPES = ((3,), (4, 5), (2, 3, 4), (1,), (10, 1))


def gradients(rng, shape, n):
    """n gradients of the given shape, entries spread over five orders of magnitude
    (small ones make the place of epsilon matter), with some exact zeros."""
    out = []
    for _ in range(n):
        g = rng.normal(size=shape) * 10.0 ** rng.uniform(-4, 1, size=shape)
        g[rng.random(size=shape) < 0.1] = 0.0
        out.append(g)
    return out


def hint(reference, rule):
    return {"adam": reference.T_HINT, "rmsprop": reference.RMS_HINT}.get(rule, "")


def check_run(student, reference, rule, w, dws, config, what, state=True):
    """Run the student's rule over dws, its config passed back in; compare every step."""
    expected = reference.run_steps(getattr(reference, rule), w, dws, config)
    wrong = [(why, reference.run_steps(f, w, dws, config))
             for why, f in reference.update_mistakes(rule)]
    got_w, got_c = w.copy(), copy.deepcopy(config)
    for k, dw in enumerate(dws):
        got_w, got_c = unpack(rule, getattr(student, rule)(got_w, dw.copy(), got_c), 2,
                              ("next_w", "config"))
        step = "%s, step %d of %d" % (what, k + 1, len(dws))
        check_close("next_w (%s)" % step, got_w, expected[k][0], hint=hint(reference, rule),
                    mistakes=[(why, run[k][0]) for why, run in wrong])
        if not state:
            continue
        if not isinstance(got_c, dict):
            raise CheckFailure("%s should return (next_w, config) with config a dict; it "
                               "returned a %s as config." % (rule, type(got_c).__name__))
        for key in reference.CH8_STATE[rule]:
            check_close('config["%s"] (%s)' % (key, step),
                        field("the config %s returned" % rule, got_c, key),
                        expected[k][1][key],
                        mistakes=[(why, run[k][1][key]) for why, run in wrong
                                  if key in run[k][1]])


def check_defaults(student, reference, rule, rng):
    """config=None: cs231n's defaults and keys, then the returned config passed back in."""
    for shape in SHAPES[:3]:
        w = rng.normal(size=shape)
        dws = gradients(rng, shape, 4)
        got_w, got_c = unpack(rule, getattr(student, rule)(w.copy(), dws[0].copy(), None), 2,
                              ("next_w", "config"))
        if not isinstance(got_c, dict):
            raise CheckFailure("%s(w, dw, None) should return (next_w, config) with config a "
                               "dict; it returned a %s." % (rule, type(got_c).__name__))
        missing = [key for key in reference.CH8_KEYS[rule] if key not in got_c]
        if missing:
            raise CheckFailure("%s(w, dw, None): the returned config has no key %s; cs231n's "
                               "keys are %s." % (rule, ", ".join(map(repr, missing)),
                                                 ", ".join(reference.CH8_KEYS[rule])))
        for key, value in reference.CH8_DEFAULTS[rule].items():
            check_close('the default config["%s"]' % key, got_c[key], value)
        check_run(student, reference, rule, w, dws, None,
                  "config=None at the first step, w of shape %s" % (shape,))


@points(1)
def test_sgd(student, reference, rng):
    """sgd: next_w = w - learning_rate * dw, several shapes and learning rates"""
    for shape in SHAPES:
        w = rng.normal(size=shape)
        lr = float(10.0 ** rng.uniform(-3, 0))
        check_run(student, reference, "sgd", w, gradients(rng, shape, 3),
                  {"learning_rate": lr}, "w of shape %s, a learning rate given" % (shape,))


@points(1)
def test_sgd_defaults(student, reference, rng):
    """sgd: config=None uses learning_rate 1e-2"""
    check_defaults(student, reference, "sgd", rng)


@points(3)
def test_sgd_momentum(student, reference, rng):
    """sgd_momentum: six steps in a row, the velocity carried in config"""
    for shape in SHAPES:
        w = rng.normal(size=shape)
        config = {"learning_rate": float(10.0 ** rng.uniform(-3, -1)),
                  "momentum": float(rng.choice([0.5, 0.9, 0.99]))}
        check_run(student, reference, "sgd_momentum", w, gradients(rng, shape, 6), config,
                  "w of shape %s, learning rate and momentum given" % (shape,))


@points(1)
def test_sgd_momentum_defaults(student, reference, rng):
    """sgd_momentum: config=None uses learning_rate 1e-2, momentum 0.9, a zero velocity"""
    check_defaults(student, reference, "sgd_momentum", rng)


@points(3)
def test_rmsprop(student, reference, rng):
    """rmsprop: six steps in a row, the cache carried in config, epsilon outside the root"""
    for shape in SHAPES:
        w = rng.normal(size=shape)
        config = {"learning_rate": float(10.0 ** rng.uniform(-3, -1)),
                  "decay_rate": float(rng.choice([0.9, 0.99])),
                  "epsilon": float(rng.choice([1e-8, 1e-6]))}
        check_run(student, reference, "rmsprop", w, gradients(rng, shape, 6), config,
                  "w of shape %s, hyperparameters given" % (shape,))


@points(1)
def test_rmsprop_defaults(student, reference, rng):
    """rmsprop: config=None uses learning_rate 1e-2, decay_rate 0.99, epsilon 1e-8"""
    check_defaults(student, reference, "rmsprop", rng)


@points(3)
def test_adam(student, reference, rng):
    """adam: ten steps in a row, the step with bias-corrected averages"""
    for shape in SHAPES:
        w = rng.normal(size=shape)
        config = {"learning_rate": float(10.0 ** rng.uniform(-3, -1)),
                  "beta1": float(rng.choice([0.9, 0.5])),
                  "beta2": float(rng.choice([0.999, 0.99]))}
        check_run(student, reference, "adam", w, gradients(rng, shape, 10), config,
                  "w of shape %s, hyperparameters given" % (shape,), state=False)


@points(2)
def test_adam_state(student, reference, rng):
    """adam: the state m, v (uncorrected) and t after each of ten steps"""
    for shape in SHAPES[:3]:
        w = rng.normal(size=shape)
        config = {"learning_rate": float(10.0 ** rng.uniform(-3, -1))}
        check_run(student, reference, "adam", w, gradients(rng, shape, 10), config,
                  "w of shape %s, a learning rate given" % (shape,))


@points(1)
def test_adam_defaults(student, reference, rng):
    """adam: config=None uses learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, t 0"""
    check_defaults(student, reference, "adam", rng)


# nbgrader grade cells: each public check cell of the solution notebook is worth the
# points of these hidden tests (autograder.course.gradebook; solutions/README.md).
GRADE_CELLS = {
    "check_sgd": ["test_sgd", "test_sgd_defaults"],
    "check_sgd_momentum": ["test_sgd_momentum", "test_sgd_momentum_defaults"],
    "check_rmsprop": ["test_rmsprop", "test_rmsprop_defaults"],
    "check_adam": ["test_adam", "test_adam_state", "test_adam_defaults"],
}
