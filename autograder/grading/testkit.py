"""What a hidden test file needs besides the checks: points and seeded random inputs.

A hidden test is a plain pytest function ``test_<what>(student, reference, rng)``:
``student`` calls the student's functions (through the sandbox when grading),
``reference`` holds the reference solutions, ``rng`` is a numpy Generator seeded from the
assignment and test names, so that a regrade draws the same inputs. Points are declared
next to the test with ``@points(n)``.
"""
from __future__ import annotations

import dataclasses
import types
import zlib
from collections.abc import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class HiddenTest:
    """One hidden test as the grader runs it.

    name: the function's name (``test_...``, also the seed of its inputs); func: the test
    function; points: what it is worth; description: the first line of its docstring (the
    test's name in the feedback); stable: a test of numerical stability (see ``points``).
    """
    name: str
    func: Callable[..., None]
    points: float
    description: str
    stable: bool = False


def points(n: float, *, stable: bool = False) -> Callable[[Callable], Callable]:
    """Decorator: the test is worth ``n`` points (all or nothing).

    stable=True marks a test of numerical stability (extreme inputs where the chapter
    teaches a stable formula): a RuntimeWarning raised in the student's code during the
    test (an overflow in exp, a division by zero) fails it. Elsewhere such warnings reach
    the feedback as notes and cost nothing.
    """
    if not (isinstance(n, (int, float)) and n > 0):
        raise ValueError("points must be a positive number, got %r" % (n,))

    def mark(test):
        test.points = n
        test.stable = bool(stable)
        return test
    return mark


def rng_for(assignment: str, test_name: str) -> np.random.Generator:
    """A numpy Generator seeded by the names: the same inputs at every (re)grade."""
    seed = zlib.crc32(("%s::%s" % (assignment, test_name)).encode("utf-8"))
    return np.random.default_rng(seed)


def collect(module: types.ModuleType) -> list[HiddenTest]:
    """The test functions of a hidden-test module, in file order, as HiddenTests.

    A test without ``@points`` is an error in the test file, not something to grade with
    a default.
    """
    tests = []
    for name, obj in vars(module).items():
        if name.startswith("test_") and callable(obj):
            if not hasattr(obj, "points"):
                raise ValueError("%s.%s has no @points(n)" % (module.__name__, name))
            doc = (obj.__doc__ or name).strip().splitlines()[0]
            tests.append(HiddenTest(name, obj, obj.points, doc,
                                    bool(getattr(obj, "stable", False))))
    return tests
