"""Values across the sandbox boundary: JSON lines, arrays as raw little-endian bytes.

Only plain data crosses: None, bools, numbers, strings, numpy arrays of real numbers or
booleans, and tuples, lists and dicts (string keys) of those. Arrays travel as
``{"__array__": [dtype, shape, base64 bytes]}`` and are rebuilt with ``np.frombuffer``,
never with pickle. This module is used on both sides (it is copied into the sandbox) and
needs only numpy and the standard library.
"""
import base64
import json
import math

import numpy as np

DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8",
          "uint64", "uint32", "uint16", "uint8", "bool")
MAX_DEPTH = 8
MAX_ELEMENTS = 10_000_000


class WireError(ValueError):
    """A value that may not cross the boundary (wrong type, too big, malformed)."""


def encode(value, depth=0):
    """A plain value -> JSON-ready structure; raises WireError for anything else."""
    if depth > MAX_DEPTH:
        raise WireError("nested more than %d levels deep" % MAX_DEPTH)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return {"__float__": repr(value)}
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return _encode_array(np.asarray(value))
    if type(value) in (tuple, list):
        key = "__tuple__" if type(value) is tuple else "__list__"
        return {key: [encode(v, depth + 1) for v in value]}
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise WireError("a dict with non-string keys")
        return {"__dict__": {k: encode(v, depth + 1) for k, v in value.items()}}
    raise WireError("a value of type %s (only numbers, arrays, strings, tuples, "
                    "lists and dicts can be graded)" % type(value).__name__)


def _encode_array(arr):
    """ndarray -> {"__array__": [dtype, shape, base64]}."""
    name = arr.dtype.name
    if name not in DTYPES:
        raise WireError("an array of dtype %s (expected real numbers)" % arr.dtype)
    data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
    return {"__array__": [name, list(arr.shape), base64.b64encode(data.tobytes()).decode()]}


def decode(obj, depth=0):
    """Inverse of encode, strict: anything unexpected raises WireError."""
    if depth > MAX_DEPTH:
        raise WireError("nested more than %d levels deep" % MAX_DEPTH)
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if type(obj) is not dict or len(obj) != 1:
        raise WireError("malformed value")
    (tag, body), = obj.items()
    if tag == "__array__":
        return _decode_array(body)
    if tag == "__float__" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag in ("__tuple__", "__list__") and type(body) is list:
        items = [decode(v, depth + 1) for v in body]
        return tuple(items) if tag == "__tuple__" else items
    if tag == "__dict__" and type(body) is dict:
        return {str(k): decode(v, depth + 1) for k, v in body.items()}
    raise WireError("malformed value")


def _decode_array(body):
    """[dtype, shape, base64] -> a fresh, writeable ndarray."""
    try:
        name, shape, data = body
        shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise WireError("malformed array") from None
    if name not in DTYPES or any(n < 0 for n in shape):
        raise WireError("malformed array")
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        raise WireError("an array of %d elements (more than %d)" % (size, MAX_ELEMENTS))
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    dtype = np.dtype(name).newbyteorder("<")
    if len(raw) != size * dtype.itemsize:
        raise WireError("malformed array")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(np.dtype(name))


def dumps(message):
    """A message dict (already encoded) -> one line of bytes."""
    return (json.dumps(message, allow_nan=False) + "\n").encode("utf-8")


def loads(line):
    """One line of bytes -> a message dict; raises WireError if it is not one."""
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WireError("unreadable message") from None
    if type(message) is not dict:
        raise WireError("unreadable message")
    return message
