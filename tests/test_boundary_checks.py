"""The in-place guard of the toolkit: ``call_checked``, ``guard_functions`` and the public
checks' ``check_all``, run as a notebook runs them (the toolkit pasted into a cell)."""
import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from autograder.grading.reference import (
    assignments,
    earlier_namespace,
    is_earlier_layers,
    solution_path,
)
from autograder.sandbox.inside.cells import strip_magics
from autograder.toolkit import checks
from autograder.toolkit.checks import ModifiedArgument, call_checked, guard_functions

TOOLKIT = Path(checks.__file__).read_text(encoding="utf-8")
matplotlib.use("Agg")

STUDENT = '''
import numpy as np

def activation(Z, name):
    if name == "relu":
        Z[Z < 0] = 0                  # in place: the mistake
        return Z
    return np.tanh(Z)

def deep_forward(X, W):
    return activation(W @ X, "relu")  # its own array: activation is to blame

def tanh_layer(x):
    return np.tanh(x)

ex_Z = np.array([[-1.0, 2.0], [0.5, -3.0]])
ex_X = np.array([[1.0, -2.0], [0.5, 0.25]])
ex_W = np.eye(2)
'''

CHECKS = '''
check_all([
    ("relu", lambda: check_close("A", activation(ex_Z, "relu"), np.maximum(ex_Z, 0))),
    ("deep", lambda: check_close("yhat", deep_forward(ex_X, ex_W), np.maximum(ex_X, 0))),
    ("tanh", lambda: check_close("A", activation(ex_Z, "tanh"), np.tanh(ex_Z))),
    ("gradient", lambda: check_gradient("dx", tanh_layer, ex_X, 1 - np.tanh(ex_X) ** 2)),
])
'''


def notebook(*cells):
    """Run cells as Jupyter does: one namespace named __main__, the toolkit in cell 1."""
    namespace = {"__name__": "__main__"}
    for i, source in enumerate((TOOLKIT,) + cells, 1):
        exec(compile(source, "<ipython-input-%d>" % i, "exec"), namespace)
    return namespace


def test_check_all_blames_the_function_that_changed_its_argument(capsys):
    nb = notebook(STUDENT)
    originals = {k: nb[k] for k in ("activation", "deep_forward", "tanh_layer", "check_close")}
    before = nb["ex_Z"].copy()
    exec(CHECKS, nb)
    out = capsys.readouterr().out
    message = ("`activation` modified its argument `Z` in place; work on a copy (Z.copy()) "
               "or build a new array")
    assert out.splitlines() == [
        "[FAIL] relu", "       " + message,
        "[FAIL] deep", "       " + message,            # the inner function is named
        "[ ok ] tanh",
        "[ ok ] gradient",                              # numerical_gradient is not blamed
        "2 of 4 checks passed."]
    np.testing.assert_array_equal(nb["ex_Z"], before)    # put back for the next checks
    assert all(nb[k] is f for k, f in originals.items())  # unwrapped afterwards


def test_check_all_passes_a_correct_notebook(capsys):
    nb = notebook(STUDENT.replace("Z[Z < 0] = 0", "Z = np.maximum(Z, 0)"))
    exec(CHECKS, nb)
    assert capsys.readouterr().out.endswith("4 of 4 checks passed.\n")


def test_check_all_outside_a_notebook_guards_nothing(capsys):
    def in_place(x):
        x += 1
        return x
    x = np.zeros(2)
    checks.check_all([("module code", lambda: in_place(x))])
    assert capsys.readouterr().out.splitlines() == ["[ ok ] module code",
                                                    "1 of 1 checks passed."]


def test_call_checked_returns_the_value_and_passes_exceptions_through():
    assert call_checked(np.add, (np.ones(2), np.ones(2))).tolist() == [2.0, 2.0]
    with pytest.raises(ZeroDivisionError):
        call_checked(lambda x: 1 / 0, (np.ones(1),))


def test_call_checked_names_parameters_positions_and_keywords():
    def shift(x, y):
        y -= 1
    with pytest.raises(ModifiedArgument) as info:
        call_checked(shift, (np.zeros(2), np.zeros(2)))
    assert (info.value.function, info.value.argument) == ("shift", "y")

    def anything(*arrays):
        arrays[0][0] = 1
    with pytest.raises(ModifiedArgument, match="`f` modified its argument 1 in place") as info:
        call_checked(anything, (np.zeros(2),), name="f")
    with pytest.raises(ModifiedArgument, match="argument `out`"):
        call_checked(np.negative, (np.ones(2),), {"out": np.ones(2)})


def test_call_checked_is_nan_aware_and_restores_what_it_blames():
    x = np.array([np.nan, 1.0])
    call_checked(lambda v: v.sum(), (x,))              # NaN == NaN: unchanged
    y = np.array([1.0, -1.0])
    with pytest.raises(ModifiedArgument):
        call_checked(lambda v: np.clip(v, 0, None, out=v), (y,))
    np.testing.assert_array_equal(y, [1.0, -1.0])
    flat = np.zeros((2, 2))
    with pytest.raises(ModifiedArgument):
        call_checked(lambda v: setattr(v, "shape", (4,)), (flat,))


def test_guard_functions_skips_the_toolkit_and_keeps_rebound_names():
    nb = notebook(STUDENT)
    with guard_functions(nb):
        assert getattr(nb["activation"], "__guarded__", False)
        assert nb["check_close"] is not None and not hasattr(nb["check_close"], "__guarded__")
        assert not hasattr(nb["numerical_gradient"], "__guarded__")
        nb["tanh_layer"] = "rebound"
    assert nb["tanh_layer"] == "rebound"
    assert not hasattr(nb["activation"], "__guarded__")


def test_a_notebook_exported_as_one_script_is_guarded_too(capsys):
    """Toolkit and student code in one file (nbconvert --to script): still guarded."""
    namespace = {"__name__": "__main__"}
    exec(compile("\n".join([TOOLKIT, STUDENT, CHECKS]), "exercise.py", "exec"), namespace)
    assert "[FAIL] deep\n       `activation` modified" in capsys.readouterr().out


@pytest.mark.parametrize("name", assignments())
def test_solution_notebooks_pass_their_public_checks_under_the_guard(name, capsys):
    """No false alarm: the reference solutions change no array argument in place."""
    nb = json.loads(solution_path(name).read_text(encoding="utf-8"))
    namespace = {"__name__": "__main__", **earlier_namespace(nb)}   # earlier layers pasted
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and not is_earlier_layers(c)]
    for i, cell in enumerate(code):
        source = "".join(cell["source"])
        if "toolkit" in cell["metadata"].get("tags", []):
            source = TOOLKIT                        # the toolkit as it is now
        exec(compile(strip_magics(source), "<ipython-input-%d>" % i, "exec"), namespace)
    out = capsys.readouterr().out
    assert "[ ok ]" in out and "[FAIL]" not in out and "[todo]" not in out, out
