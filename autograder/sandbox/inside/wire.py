"""Values and messages across the sandbox boundary: JSON lines, arrays as raw bytes.

Only plain data crosses: None, bools, numbers, strings, numpy arrays of real numbers or
booleans, numpy scalars, and tuples, lists and dicts (string keys) of those. Arrays travel
as ``{"__array__": [dtype, shape, base64 bytes]}`` (numpy scalars as ``{"__scalar__":
[dtype, [], base64 bytes]}``) and are rebuilt with ``np.frombuffer``, never with pickle.

This module also names what may be said across the boundary: the kinds of a call's
outcome (:class:`Kind`) and the limits on the warnings a call reports. It is used on both
sides (it is bound into the sandbox) and needs only numpy and the standard library.
"""
import base64
import builtins
import enum
import json
import math
import re
from typing import Any

import numpy as np

DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8",
          "uint64", "uint32", "uint16", "uint8", "bool")
MAX_DEPTH = 8
MAX_ELEMENTS = 10_000_000
MAX_WARNINGS = 5            # distinct warnings reported per call
MAX_WARNING_CHARS = 160     # length of one warning's message


class Kind(str, enum.Enum):
    """How a call to a student's function ended (the ``kind`` of a result message).

    The worker answers OK or one of MISSING .. MODIFIED; the grader adds TIMEOUT and
    CRASHED when the worker does not answer. Members are strings (``Kind.OK == "ok"``),
    and the wire carries their ``.value``.
    """
    OK = "ok"                    # returned a value
    MISSING = "missing"          # no function of that name
    STUB = "stub"                # still raises NotImplementedError
    RAISED = "raised"            # raised another exception
    EXIT = "exit"                # called sys.exit()
    UNENCODABLE = "unencodable"  # returned (or left in a dict argument) a non-plain value
    MODIFIED = "modified"        # changed an array argument in place
    TIMEOUT = "timeout"          # did not answer in time (grader side only)
    CRASHED = "crashed"          # the worker died (grader side only)


WORKER_KINDS = frozenset({Kind.MISSING, Kind.STUB, Kind.RAISED, Kind.EXIT,
                          Kind.UNENCODABLE, Kind.MODIFIED})   # failures a worker may report


class WireError(ValueError):
    """A value that may not cross the boundary (wrong type, too big, malformed)."""


def encode(value: Any, depth: int = 0) -> Any:
    """A plain value -> JSON-ready structure; raises WireError for anything else."""
    if depth > MAX_DEPTH:
        raise WireError("nested more than %d levels deep" % MAX_DEPTH)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return {"__float__": repr(value)}
        return value
    if isinstance(value, np.ndarray):
        return {"__array__": _encode_array(value)}
    if isinstance(value, np.generic):
        return {"__scalar__": _encode_array(np.asarray(value))}
    if type(value) in (tuple, list):
        key = "__tuple__" if type(value) is tuple else "__list__"
        return {key: [encode(v, depth + 1) for v in value]}
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise WireError("a dict with non-string keys")
        return {"__dict__": {k: encode(v, depth + 1) for k, v in value.items()}}
    raise WireError("a value of type %s (only numbers, arrays, strings, tuples, "
                    "lists and dicts can be graded)" % type(value).__name__)


def _encode_array(arr: np.ndarray) -> list:
    """ndarray -> [dtype name, shape, base64 of the little-endian bytes]."""
    name = arr.dtype.name
    if name not in DTYPES:
        raise WireError("an array of dtype %s (expected real numbers)" % arr.dtype)
    data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
    return [name, list(arr.shape), base64.b64encode(data.tobytes()).decode()]


def decode(obj: Any, depth: int = 0) -> Any:
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
    if tag == "__scalar__":
        arr = _decode_array(body)
        if arr.shape != ():
            raise WireError("malformed scalar")
        return arr[()]
    if tag == "__float__" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag in ("__tuple__", "__list__") and type(body) is list:
        items = [decode(v, depth + 1) for v in body]
        return tuple(items) if tag == "__tuple__" else items
    if tag == "__dict__" and type(body) is dict:
        return {str(k): decode(v, depth + 1) for k, v in body.items()}
    raise WireError("malformed value")


def _decode_array(body: Any) -> np.ndarray:
    """[dtype, shape, base64] -> a fresh, writeable ndarray."""
    try:
        name, shape, data = body
        shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise WireError("malformed array") from None
    if name not in DTYPES or any(n < 0 for n in shape) or type(data) is not str:
        raise WireError("malformed array")
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        raise WireError("an array of %d elements (more than %d)" % (size, MAX_ELEMENTS))
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise WireError("malformed array") from None
    dtype = np.dtype(name).newbyteorder("<")
    if len(raw) != size * dtype.itemsize:
        raise WireError("malformed array")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(np.dtype(name))


def clean_text(text: Any, limit: int = MAX_WARNING_CHARS) -> str:
    """Untrusted text made fit for feedback: one line, at most ``limit`` characters, and no
    run of more than 3 digits (so a message cannot carry the numbers of hidden inputs)."""
    text = " ".join(str(text).split())
    text = re.sub(r"\d{4,}", "...", text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def dumps(message: dict) -> bytes:
    """A message dict (already encoded) -> one line of bytes.

    Raises ValueError when the message holds what JSON cannot (a NaN in a plain float).
    """
    return (json.dumps(message, allow_nan=False) + "\n").encode("utf-8")


def loads(line: bytes) -> dict:
    """One line of bytes -> a message dict; raises WireError if it is not one."""
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WireError("unreadable message") from None
    if type(message) is not dict:
        raise WireError("unreadable message")
    return message


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|\b(?:nan|inf|NaN|Inf)\b")
ARRAY = re.compile(r"(?:array)?[\[(][#\s,.;:…\[\]()]*[\])]")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,39}")   # a quoted name stays: 'add_backward'


def _quoted(match: "re.Match[str]") -> str:
    """A quoted name (at most two digits) as it is; any other quoted text as '…'."""
    inner = match.group()[1:-1]
    if NAME.fullmatch(inner) and sum(c.isdigit() for c in inner) <= 2:
        return match.group()
    return "'…'"


def redact(text: Any, limit: int = 200) -> str:
    """Untrusted text with everything that could carry data taken out, for feedback.

    One line, every number (``12345.678``, ``1e-3``, ``nan``) replaced by ``#``, quoted
    strings by ``'…'`` (unless a name: ``'add_backward'``), and what is left of printed
    arrays (``[# # #]``) by ``[…]``; at most ``limit`` characters.
    Words stay, so "could not broadcast shapes" still reads.
    """
    text = " ".join(str(text).split())
    text = QUOTED.sub(_quoted, text)
    text = NUMBER.sub("#", text)
    text = ARRAY.sub(lambda m: "[…]" if "#" in m.group() or "…" in m.group() else m.group(),
                     text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


NUMPY_ERRORS = frozenset({"LinAlgError", "AxisError", "UFuncTypeError", "DTypePromotionError",
                          "ComplexWarning", "TooHardError", "CheckFailure"})
SAFE_ERRORS = frozenset(name for name, obj in vars(builtins).items()
                        if isinstance(obj, type) and issubclass(obj, BaseException)
                        ) | NUMPY_ERRORS
LOCATION = re.compile(r"\s*\((?:cell \d{1,4}, )?line \d{1,6}\)$")


def redact_error(text: Any, limit: int = 200) -> str:
    """An error message from untrusted code ("ValueError: ... (cell 3, line 7)") made safe
    for feedback: the exception's type when it is Python's or numpy's own (a class the
    notebook defines could be named after the data: "an exception"), the message through
    :func:`redact`, and the trailing location kept as it is."""
    text = " ".join(str(text).split())
    found = LOCATION.search(text)
    location = found.group().strip() if found else ""
    if found:
        text = text[:found.start()]
    kind, sep, message = text.partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,59}", kind.strip()):
        kind, message = "", text
    kind = kind.strip()
    if kind and kind not in SAFE_ERRORS:
        kind = "an exception"
    message = redact(message.strip(), limit)
    head = "%s: %s" % (kind, message) if kind and message else (kind or message)
    return ("%s %s" % (head, location)).strip()
