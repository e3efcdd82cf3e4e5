"""What crosses the sandbox besides return values, alike sandboxed and in-process.

- dict arguments come back changed (cs231n's ``bn_param`` running averages, counters, an
  array inside a dict changed in place), into the caller's own dict objects;
- an array argument changed in place fails the call, naming the function and argument,
  also when the culprit is an inner function the called one uses;
- warnings the student's code raises come back with each call.

Every test runs against the three ways a notebook's functions are called: the sandbox
(``Session``), the worker without the sandbox (``Session(sandboxed=False)``, used by
``--no-sandbox``) and the grader's own process (``LocalSession``, used when pytest runs
the hidden tests directly).
"""
import numpy as np
import pytest

from autograder.grading.proxy import StudentError, StudentProxy, take_warnings
from autograder.sandbox import Kind, Limits, Session, check_bwrap
from autograder.sandbox.local import LocalSession

FAST = Limits(call_timeout=3, cell_timeout=3)

NOTEBOOK = ["import numpy as np", '''
def batchnorm_state(x, gamma, beta, bn_param):
    momentum = bn_param.get("momentum", 0.9)
    mean = x.mean(axis=0)
    bn_param["running_mean"] = momentum * bn_param.get("running_mean", 0) + (1 - momentum) * mean
    return (x - mean) * gamma + beta, None

def count_calls(state):
    state["count"] += 1
    return state["count"]

def decay_velocity(w, dw, config):
    config["velocity"] *= 0.5          # an array inside the dict, changed in place
    config["velocity"] -= dw
    return w + config["velocity"], config

def keyword_state(x, *, bn_param):
    bn_param["running_var"] = np.ones(x.shape[1])
    bn_param["nested"] = {"t": bn_param.get("nested", {}).get("t", 0) + 1}
    return x

def relu(x):
    x[x < 0] = 0                       # the classic in-place ReLU
    return x

def mse(yhat, y):
    yhat -= y
    return float(np.mean(yhat ** 2))

def by_position(*arrays):
    arrays[1][0] = 99.0
    return 0.0

def keyword_array(a, *, out):
    out += 1.0
    return a

def activation(Z, name):
    if name == "relu":
        Z[Z < 0] = 0
        return Z
    return np.tanh(Z)

def deep_forward(X, W):
    Z = W @ X                           # its own array: only `activation` is to blame
    return activation(Z, "relu")

def keeps_nans(x):
    return np.nansum(x)

def naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))

def leaks_a_file():
    open("/dev/null")                  # a ResourceWarning when collected: not reported
    return 1

def stored_function(p):
    p["f"] = lambda: 0
    return 0
''']


@pytest.fixture(scope="module", params=["sandbox", "no-sandbox", "in-process"])
def student(request):
    """The notebook above, called through the grader's proxy, three ways."""
    if request.param == "in-process":
        session = LocalSession(NOTEBOOK)
    else:
        if request.param == "sandbox":
            check_bwrap()
        session = Session(NOTEBOOK, FAST, sandboxed=request.param == "sandbox")
    yield StudentProxy(session)
    session.close()


def plain_notebook():
    """The notebook's functions called directly, as in Jupyter."""
    namespace = {"__name__": "__main__"}
    for source in NOTEBOOK:
        exec(source, namespace)
    return namespace


def failure(call, *args, **kwargs):
    with pytest.raises(StudentError) as info:
        call(*args, **kwargs)
    return info.value


# --- dict arguments -----------------------------------------------------------------

def test_new_key_in_a_dict_argument_reaches_the_callers_dict(student):
    x = np.arange(12.0).reshape(4, 3)
    bn_param = {"mode": "train", "momentum": 0.5}
    same = bn_param
    out, _ = student.batchnorm_state(x, 1.0, 0.0, bn_param)
    assert bn_param is same and set(bn_param) == {"mode", "momentum", "running_mean"}
    expected = dict(mode="train", momentum=0.5)
    plain_notebook()["batchnorm_state"](x, 1.0, 0.0, expected)
    np.testing.assert_allclose(bn_param["running_mean"], expected["running_mean"])
    student.batchnorm_state(x, 1.0, 0.0, bn_param)       # the running average goes on
    np.testing.assert_allclose(bn_param["running_mean"], 0.75 * x.mean(axis=0))


def test_counter_in_a_dict_argument_counts(student):
    state = {"count": 0}
    assert [student.count_calls(state) for _ in range(3)] == [1, 2, 3]
    assert state == {"count": 3}


def test_array_inside_a_dict_changed_in_place_comes_back(student):
    config = {"velocity": np.ones(3), "learning_rate": 0.1}
    w, dw = np.zeros(3), np.full(3, 0.25)
    next_w, returned = student.decay_velocity(w, dw, config)
    np.testing.assert_allclose(config["velocity"], [0.25, 0.25, 0.25])
    np.testing.assert_allclose(next_w, [0.25, 0.25, 0.25])
    assert returned["learning_rate"] == 0.1
    np.testing.assert_array_equal(returned["velocity"], config["velocity"])
    np.testing.assert_array_equal(w, np.zeros(3))        # arrays outside dicts untouched


def test_keyword_dict_argument_and_nested_dict(student):
    bn_param = {"mode": "train"}
    student.keyword_state(np.zeros((2, 4)), bn_param=bn_param)
    student.keyword_state(np.zeros((2, 4)), bn_param=bn_param)
    assert bn_param["nested"] == {"t": 2} and bn_param["running_var"].shape == (4,)


def test_a_dict_left_holding_a_function_is_unencodable(student):
    error = failure(student.stored_function, {})
    assert error.kind is Kind.UNENCODABLE
    assert "dict argument `p`" in str(error) and "function" in str(error)


# --- arrays changed in place ----------------------------------------------------------

def test_in_place_relu_fails_naming_function_and_argument(student):
    x = np.array([-1.0, 2.0, -3.0])
    error = failure(student.relu, x)
    assert error.kind is Kind.MODIFIED
    assert str(error) == ("`relu` modified its argument `x` in place; work on a copy "
                          "(x.copy()) or build a new array")
    np.testing.assert_array_equal(x, [-1.0, 2.0, -3.0])   # the caller's array is intact


def test_in_place_subtraction_is_blamed_on_its_target(student):
    error = failure(student.mse, np.ones(3), np.full(3, 0.5))
    assert "`mse` modified its argument `yhat` in place" in str(error)
    assert student.mse(np.ones(3), np.zeros(3)) == 1.0    # subtracting 0 changes nothing


def test_without_parameter_names_the_position_is_given(student):
    error = failure(student.by_position, np.zeros(2), np.zeros(2))
    assert "`by_position` modified its argument 2 in place" in str(error)
    error = failure(student.keyword_array, np.zeros(2), out=np.zeros(2))
    assert "modified its argument `out`" in str(error)


def test_inner_function_is_blamed(student):
    X, W = np.array([[1.0, -1.0], [2.0, -2.0]]), np.eye(2)
    error = failure(student.deep_forward, X, W)
    assert str(error).startswith("`activation` modified its argument `Z` in place")


def test_nan_is_not_a_change(student):
    x = np.array([np.nan, 1.0, np.nan])
    assert student.keeps_nans(x) == 1.0


# --- warnings --------------------------------------------------------------------------

def test_warnings_come_back_with_the_call(student):
    take_warnings(student)
    assert np.array_equal(student.naive_sigmoid(np.array([-1000.0, 0.0])), [0.0, 0.5])
    found = take_warnings(student)
    assert [(w.function, w.category, w.message) for w in found] == [
        ("naive_sigmoid", "RuntimeWarning", "overflow encountered in exp")]
    assert found[0].where.startswith("cell 2, line ")
    assert found[0].note().startswith(
        "note: `naive_sigmoid` raised RuntimeWarning: overflow encountered in exp (cell 2")
    student.naive_sigmoid(np.array([0.0]))
    assert take_warnings(student) == []


def test_resource_warnings_of_the_garbage_collector_are_not_reported(student):
    take_warnings(student)
    assert student.leaks_a_file() == 1
    assert take_warnings(student) == []
