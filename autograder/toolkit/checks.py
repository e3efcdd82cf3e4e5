"""Numerical checks shared by the notebooks' public checks and the hidden tests.

This module needs nothing but numpy. A copy of it is embedded, unchanged, in every exercise
notebook (``make exercises`` refreshes the copy and a test compares them), so a student who
downloads one notebook runs the same checks that grade it.

The main entry point is :func:`check_close`, which compares a student's array with the
expected one and, when they differ, says *what* is wrong: the shape, a NaN, the size of the
error and a likely cause (a transposed result, a sign error, a forgotten ``1/N``, ...).
Failures raise :class:`CheckFailure`; doubts that do not cost points are issued as
:class:`CheckWarning`.
"""
import warnings

import numpy as np

RTOL = 1e-6
ATOL = 1e-9


class CheckFailure(AssertionError):
    """A check failed; the message says what was wrong and, when it can, why."""


class CheckWarning(UserWarning):
    """Something looks doubtful but is not wrong enough to lose points."""


def rel_error(a, b):
    r"""Largest elementwise relative error :math:`|a-b| / \max(10^{-8}, |a|+|b|)`.

    a, b: arrays of the same shape (or scalars). Returns a float in [0, 1].
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, dout=None, h=1e-5):
    r"""Central-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    f: function of one array x of shape S returning an array of any shape T (or a scalar).
    x: float64 array of shape S; it is changed in place during the computation and restored.
    dout: upstream gradient of shape T (default: ones, i.e. the gradient of ``sum(f(x))``).
    Returns an array of shape S with
    :math:`\partial_i \approx (g(x + h e_i) - g(x - h e_i)) / 2h`, :math:`g = \sum f \cdot dout`.
    """
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise TypeError("numerical_gradient needs a float64 array, got %s" % x.dtype)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.asarray(f(x), dtype=np.float64)
        x[i] = old - h
        minus = np.asarray(f(x), dtype=np.float64)
        x[i] = old
        weight = np.ones_like(plus) if dout is None else np.asarray(dout, dtype=np.float64)
        grad[i] = np.sum((plus - minus) * weight) / (2 * h)
    return grad


def _describe(value):
    """A short description of a returned value's type and shape (never its numbers)."""
    if isinstance(value, np.ndarray):
        return "an array of shape %s and dtype %s" % (value.shape, value.dtype)
    return "a value of type %s" % type(value).__name__


def _as_float_array(name, value):
    """Turn a returned value into a float64 array, or fail saying what came back instead."""
    if value is None:
        raise CheckFailure("%s: got None. Did you forget a `return`?" % name)
    if isinstance(value, (bool, np.bool_)):
        raise CheckFailure("%s: got a boolean, expected numbers." % name)
    try:
        arr = np.asarray(value)
    except Exception:
        raise CheckFailure("%s: got %s, expected numbers." % (name, _describe(value))) from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise CheckFailure("%s: got %s, expected numbers." % (name, _describe(value)))
    if np.iscomplexobj(arr):
        raise CheckFailure("%s: got complex numbers, expected real ones." % name)
    return arr.astype(np.float64)


def _likely_cause(got, expected, mistakes, rtol, atol):
    """Name the first mistake whose wrong answer matches ``got``, else None.

    mistakes: list of (description, wrong_value) pairs, tried in order; the generic
    mistakes (sign, transpose, a constant factor) are tried after them.
    """
    for description, wrong in mistakes:
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == got.shape and np.allclose(got, wrong, rtol=rtol * 10, atol=atol * 10):
            return description
    if got.shape == expected.shape and np.any(expected != 0):
        if np.allclose(got, -expected, rtol=rtol, atol=atol):
            return "the sign is flipped (check a minus sign in the chain rule)"
        if np.allclose(got, 0):
            return "it is all zeros (is a gradient never written, or overwritten?)"
        ratio = _constant_ratio(got, expected) if got.size > 1 else None
        if ratio is not None:
            return "it is %.6g times the right answer (a missing or extra factor?)" % ratio
    return None


def _constant_ratio(got, expected):
    """The constant c with got == c * expected, if there is one, else None."""
    mask = np.abs(expected) > 1e-12
    if not np.any(mask):
        return None
    ratios = got[mask] / expected[mask]
    c = float(np.median(ratios))
    if c == 0 or not np.isfinite(c) or abs(c - 1) < 1e-6:
        return None
    if np.allclose(got, c * expected, rtol=1e-6, atol=1e-12):
        return c
    return None


def _shape_message(name, got, expected):
    """Explain a shape mismatch, spotting a transposed or flattened result."""
    msg = "%s: got shape %s, expected shape %s." % (name, got.shape, expected.shape)
    if got.T.shape == expected.shape and got.ndim == 2:
        msg += " It looks transposed."
    elif got.size == expected.size:
        msg += " Same number of elements: check a reshape, keepdims or a missing axis."
    elif got.size == 1 and expected.size > 1:
        msg += " A single number came back: was everything summed (a missing axis=)?"
    return msg


def check_close(name, got, expected, *, rtol=RTOL, atol=ATOL, mistakes=(), reveal=False):
    r"""Fail unless ``got`` matches ``expected`` elementwise; explain the difference.

    name: what is checked, as the student knows it (e.g. ``"dx from mul_backward"``).
    got: the student's value (array-like of shape S, or a scalar).
    expected: the right value, array-like of shape S.
    rtol, atol: the test is :math:`|got-expected| \le atol + rtol\,|expected|` everywhere.
    mistakes: (description, wrong value) pairs for classic mistakes of this computation,
        such as ``("forgot the 1/N", N * expected)``; the first that matches is named.
    reveal: print the expected values in the message (public checks only, never in grading).
    Returns None; raises CheckFailure. Warns (CheckWarning) about float32 results.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got_raw = got
    got = _as_float_array(name, got)
    if got.shape != expected.shape:
        if got.size == expected.size and got.size > 1 and got.ndim <= 2 and expected.ndim <= 2:
            # A transposed or reshaped result: still say whether the numbers are right.
            if got.ndim == 2 and expected.ndim == 2 and got.T.shape == expected.shape:
                if np.allclose(got.T, expected, rtol=rtol, atol=atol):
                    raise CheckFailure(_shape_message(name, got, expected) +
                                       " The values are right once transposed.")
        raise CheckFailure(_shape_message(name, got, expected))
    if not np.all(np.isfinite(got)):
        bad = "NaN" if np.any(np.isnan(got)) else "inf"
        raise CheckFailure("%s: contains %s where the right answer is finite "
                           "(an overflow in exp, a log of 0, or a division by 0?)" % (name, bad))
    if isinstance(got_raw, np.ndarray) and got_raw.dtype == np.float32:
        warnings.warn(CheckWarning("%s: float32 result; compute in float64 for "
                                   "gradient checks" % name), stacklevel=2)
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return None
    err = rel_error(got, expected)
    worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape) if got.ndim else ()
    msg = "%s: wrong values (largest relative error %.2e" % (name, err)
    msg += ", at index %s)." % (tuple(int(i) for i in worst),) if got.ndim else ")."
    cause = _likely_cause(got, expected, list(mistakes), rtol, atol)
    if cause:
        msg += " Likely cause: %s." % cause
    if reveal:
        msg += "\n  got:      %s\n  expected: %s" % (np.array2string(got, precision=6),
                                                   np.array2string(expected, precision=6))
    raise CheckFailure(msg)


def check_gradient(name, f, x, analytic, dout=None, rtol=1e-5, h=1e-5):
    """Compare an analytic gradient with central differences of ``f`` at ``x``.

    f: function of x (shape S) returning an array of shape T; x: float64 array of shape S;
    analytic: the gradient to check, shape S; dout: upstream gradient of shape T.
    Raises CheckFailure naming ``name`` when they differ by more than ``rtol``.
    """
    numeric = numerical_gradient(f, np.array(x, dtype=np.float64), dout=dout, h=h)
    check_close(name, analytic, numeric, rtol=rtol, atol=1e-7)


def check_all(checks):
    """Run named checks and print one line each; return True when all passed.

    checks: list of (label, zero-argument function) pairs; a function passes unless it
    raises. Used by the public-check cells so that one failure does not hide the others.
    """
    passed = 0
    for label, run in checks:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", CheckWarning)
                run()
        except NotImplementedError:
            print("[todo] %s: not implemented yet" % label)
            continue
        except CheckFailure as failure:
            print("[FAIL] %s\n       %s" % (label, str(failure).replace("\n", "\n       ")))
            continue
        except Exception as error:  # the student's code raised: show it plainly
            print("[FAIL] %s\n       raised %s: %s" % (label, type(error).__name__, error))
            continue
        passed += 1
        print("[ ok ] %s" % label)
        for w in caught:
            print("       warning: %s" % w.message)
    print("%d of %d checks passed." % (passed, len(checks)))
    return passed == len(checks)


# -----------------------------------------------------------------------------------------
# Arrays changed in place.
#
# A function that changes an array it was given (an in-place ReLU ``x[x < 0] = 0``,
# ``yhat -= y``) corrupts its caller's data: the cache of a forward pass, the upstream
# gradient, the inputs of the next check. ``call_checked`` calls a function and fails,
# naming it and the argument, when it did; ``guard_functions`` makes every function of a
# notebook go through it (so the inner function is blamed, not its caller), and
# ``check_all`` runs the public checks under that guard. The grader's worker uses the same
# two functions, so public checks and grading report the mistake alike. Changes to *dict*
# arguments (cs231n's ``bn_param`` running averages) are not mistakes and are not checked.
# (No import here: the toolkit cell imports numpy and warnings only.)


class ModifiedArgument(CheckFailure):
    """A function changed one of its array arguments in place.

    function: the function's name (str). argument: the parameter's name (str), or its
    1-based position (int) when the name is unknown.
    """

    def __init__(self, function, argument):
        self.function = function
        self.argument = argument
        super().__init__(modified_message(function, argument))


def modified_message(function, argument):
    """The message of :class:`ModifiedArgument`: (str, str or int) -> str."""
    if isinstance(argument, str):
        return ("`%s` modified its argument `%s` in place; work on a copy (%s.copy()) or "
                "build a new array" % (function, argument, argument))
    return ("`%s` modified its argument %d in place; work on a copy (.copy()) or build a "
            "new array" % (function, argument))


def parameter_name(func, position):
    """Name of the parameter of ``func`` that receives positional argument ``position``
    (0-based), or None when its code does not say (``*args``, a builtin, a partial)."""
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    names = code.co_varnames[:code.co_argcount]
    if getattr(func, "__self__", None) is not None:     # a bound method: skip self
        names = names[1:]
    return names[position] if position < len(names) else None


def _unchanged(before, after):
    """True when array ``after`` still holds what its copy ``before`` holds (NaN == NaN)."""
    if before.shape != after.shape or before.dtype != after.dtype:
        return False
    try:
        return bool(np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
    except Exception:  # an object array whose elements cannot be compared: do not blame
        return True


def _restore(arr, before):
    """Put the caller's array back as it was, when its shape and dtype still allow it."""
    if arr.shape == before.shape and arr.dtype == before.dtype:
        try:
            np.copyto(arr, before)
        except (ValueError, TypeError):   # made read-only meanwhile
            pass


def call_checked(func, args=(), kwargs=None, *, name=None):
    """Call ``func(*args, **kwargs)`` and return its value; fail if it changed an array
    argument in place.

    func: any callable. args: sequence of positional arguments; kwargs: dict or None.
    name: the function's name for the message (default ``func.__name__``).
    Every top-level numpy array among the arguments (not arrays inside lists or dicts) is
    copied before the call and compared with its copy after it (NaN equals NaN). When one
    changed, it is put back as it was and :class:`ModifiedArgument` is raised, naming the
    function and the parameter (from the function's code; else "argument 2").
    An exception raised by ``func`` itself propagates unchanged.
    """
    kwargs = {} if kwargs is None else kwargs
    watched = [(i, a, a.copy()) for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    watched += [(k, a, a.copy()) for k, a in kwargs.items() if isinstance(a, np.ndarray)]
    value = func(*args, **kwargs)
    for position, arr, before in watched:
        if not _unchanged(before, arr):
            _restore(arr, before)
            if isinstance(position, str):
                argument = position
            else:
                argument = parameter_name(func, position) or position + 1
            raise ModifiedArgument(name or getattr(func, "__name__", "function"), argument)
    return value


_FUNCTION = type(call_checked)   # types.FunctionType, without importing types


def _guarded(func, name):
    """``func`` wrapped with call_checked under ``name`` (keeping its name and doc)."""
    def guarded(*args, **kwargs):
        return call_checked(func, args, kwargs, name=name)
    for attribute in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(guarded, attribute, getattr(func, attribute))
    guarded.__wrapped__ = func
    guarded.__guarded__ = True
    return guarded


def _toolkit_extent(namespace):
    """{file name: last line} of the toolkit's code, in this file and in a notebook's
    toolkit cell: ``check_all``, defined last, marks the end (a notebook exported as one
    script holds the toolkit and the student's code in the same file)."""
    extent = {}
    for f in (check_all, namespace.get("check_all")):
        if isinstance(f, _FUNCTION):
            name, line = f.__code__.co_filename, f.__code__.co_firstlineno
            extent[name] = max(extent.get(name, 0), line)
    return extent


def _is_toolkit(func, extent):
    code = func.__code__
    return code.co_firstlineno <= extent.get(code.co_filename, -1)


class guard_functions:
    """``with guard_functions(namespace):`` every function a notebook defines in
    ``namespace`` (its globals, a dict) goes through :func:`call_checked`.

    Guarded: plain functions whose ``__module__`` is the namespace's ``__name__``, except
    the toolkit's own (those compiled in the toolkit cell or this file, up to
    ``check_all``). Because the notebook's code finds its functions in the same
    namespace, a function called by another one is checked too, and the message names
    the inner function. On exit the functions are put back (a name the code rebound
    meanwhile keeps its new value).
    """

    def __init__(self, namespace):
        self.namespace = namespace
        self.wrappers = {}

    def __enter__(self):
        toolkit = _toolkit_extent(self.namespace)
        module = self.namespace.get("__name__")
        for key, obj in list(self.namespace.items()):
            if (isinstance(obj, _FUNCTION) and obj.__module__ == module
                    and not _is_toolkit(obj, toolkit)
                    and not getattr(obj, "__guarded__", False)):
                self.wrappers[key] = (obj, _guarded(obj, key))
        self.namespace.update({key: wrapper for key, (_, wrapper) in self.wrappers.items()})
        return self

    def __exit__(self, *exc_info):
        for key, (original, wrapper) in self.wrappers.items():
            if self.namespace.get(key) is wrapper:
                self.namespace[key] = original
        self.wrappers = {}
        return False


_check_all_unguarded = check_all


def check_all(checks):
    """Run named checks and print one line each; return True when all passed.

    checks: list of (label, zero-argument function) pairs; a function passes unless it
    raises. When the check functions are written in a notebook (their globals are named
    ``__main__``), the notebook's own functions are guarded while the checks run
    (:func:`guard_functions`): a function that changes an array argument in place fails
    the check that called it, naming that function and that argument.
    """
    notebooks = []
    for _, run in checks:
        namespace = getattr(run, "__globals__", None)
        if (isinstance(namespace, dict) and namespace.get("__name__") == "__main__"
                and not any(namespace is seen for seen in notebooks)):
            notebooks.append(namespace)
    guards = [guard_functions(namespace) for namespace in notebooks]
    for guard in guards:
        guard.__enter__()
    try:
        return _check_all_unguarded(checks)
    finally:
        for guard in reversed(guards):
            guard.__exit__(None, None, None)
