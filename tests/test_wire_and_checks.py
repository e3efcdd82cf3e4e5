"""The wire format and the shared numerical checks."""
import base64
import warnings

import numpy as np
import pytest

from autograder.sandbox.inside import wire
from autograder.toolkit.checks import (
    CheckFailure,
    CheckWarning,
    check_close,
    check_gradient,
    numerical_gradient,
    rel_error,
)


def test_round_trip_keeps_values_shapes_and_dtypes():
    value = (np.arange(6, dtype=np.float32).reshape(2, 3), [1, 2.5, float("nan")],
             {"a": np.array(True), "b": None, "c": "text"}, np.float64(3.5))
    back = wire.decode(wire.loads(wire.dumps({"v": wire.encode(value)}))["v"])
    assert back[0].dtype == np.float32 and np.array_equal(back[0], value[0])
    assert back[1][:2] == [1, 2.5] and np.isnan(back[1][2])
    assert back[2]["a"] == np.array(True) and back[2]["b"] is None
    assert back[3] == 3.5 and isinstance(back, tuple)


@pytest.mark.parametrize("value", [object(), {1: 2}, np.array(["a"]), np.array([1j]),
                                   lambda: 0, np.array([object()])])
def test_refuses_what_is_not_plain_data(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


@pytest.mark.parametrize("obj", [
    {"__array__": ["object", [1], ""]},
    {"__array__": ["float64", [2], base64.b64encode(b"\0" * 8).decode()]},
    {"__array__": ["float64", [10 ** 9], ""]},
    {"__pickle__": "x"},
    {"__tuple__": "notalist"},
    [1, 2],
])
def test_decoding_is_strict(obj):
    with pytest.raises(wire.WireError):
        wire.decode(obj)


def test_rel_error_and_numerical_gradient():
    x = np.array([0.3, -1.2, 2.0])
    g = numerical_gradient(lambda v: np.sum(v ** 3), x)
    assert rel_error(g, 3 * x ** 2) < 1e-8
    assert rel_error(np.ones(3), 2 * np.ones(3)) == pytest.approx(1 / 3)


def failure(got, expected, **kw):
    with pytest.raises(CheckFailure) as info:
        check_close("dW", got, expected, **kw)
    return str(info.value)


def test_messages_name_the_classic_mistakes():
    e = np.array([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]])
    assert "transposed" in failure(e.T, e)
    assert "sign" in failure(-e, e)
    assert "4 times" in failure(4 * e, e)
    assert "NaN" in failure(np.full_like(e, np.nan), e)
    assert "shape (3,)" in failure(np.ones(3), e)
    assert "forgot 1/N" in failure(e * 7, e, mistakes=[("forgot 1/N", e * 7)])
    assert "return" in failure(None, e)
    assert "all zeros" in failure(np.zeros_like(e), e)


def test_hidden_messages_do_not_reveal_numbers_but_public_ones_may():
    e = np.array([1.23456789, 2.0])
    assert "1.23456" not in failure(e + 1, e)
    assert "1.23456" in failure(e + 1, e, reveal=True)


def test_float32_is_a_warning_not_a_failure():
    e = np.array([1.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_close("dx", e.astype(np.float32), e)
    assert any(issubclass(w.category, CheckWarning) for w in caught)


def test_check_gradient_catches_a_wrong_gradient():
    x = np.array([0.5, -0.7])
    check_gradient("dx", lambda v: v ** 2, x, 2 * x)
    with pytest.raises(CheckFailure):
        check_gradient("dx", lambda v: v ** 2, x, x)


def test_numpy_scalars_cross_as_scalars_not_as_arrays():
    """A np.float64 argument stays immutable in the sandbox (``b -= lr * db`` is then no
    in-place change), as it is in a notebook."""
    back = wire.decode(wire.encode([np.float64(2.5), np.int32(-3), np.bool_(True),
                                    np.array(1.5)]))
    assert type(back[0]) is np.float64 and back[0] == 2.5
    assert type(back[1]) is np.int32 and type(back[2]) is np.bool_
    assert type(back[3]) is np.ndarray and back[3].shape == ()
    with pytest.raises(wire.WireError):
        wire.decode({"__scalar__": ["float64", [2], base64.b64encode(b"\0" * 16).decode()]})


def test_kinds_are_strings_on_the_wire():
    assert wire.Kind("modified") is wire.Kind.MODIFIED and wire.Kind.OK == "ok"
    assert wire.Kind.MODIFIED in wire.WORKER_KINDS and wire.Kind.TIMEOUT not in wire.WORKER_KINDS
    assert wire.loads(wire.dumps({"kind": wire.Kind.STUB.value})) == {"kind": "stub"}


def test_clean_text_keeps_words_and_drops_long_numbers():
    assert wire.clean_text("overflow encountered in exp") == "overflow encountered in exp"
    assert wire.clean_text("x = 0.123456789,\n y = 12") == "x = 0...., y = 12"
    assert len(wire.clean_text("a" * 1000)) == wire.MAX_WARNING_CHARS
