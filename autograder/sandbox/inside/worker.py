"""The process that runs a student's notebook, inside the sandbox.

It reads requests as JSON lines on stdin and answers on stdout; the student's own
printing goes to stderr, which the grader reads with a size cap. Requests:

- ``{"op": "load", "cells": [source, ...]}``: run the definitions of each cell. Before
  each cell it sends ``{"op": "cell", "index": i}`` (so a cell that hangs can be skipped
  on restart), then ``{"op": "loaded", "report": [[i, error or null], ...]}``.
- ``{"op": "call", "name": f, "args": [...], "kwargs": {...}}``: call a function (see
  :func:`call`) and answer ``{"op": "result", ...}``:

  - ``"ok": true, "value": v, "dicts": [[position, d], ...]`` where each pair gives the
    contents, after the call, of a dict argument the call changed (position: the index of
    a positional argument, or the keyword's name), so that the grader can apply the
    change to its own dict, as a notebook would see it;
  - ``"ok": false, "kind": k, "message": m`` with k a :class:`wire.Kind` (missing, stub,
    raised, exit, unencodable, modified), plus ``"where"`` for an exception and
    ``"function"``, ``"argument"`` for an array argument changed in place;
  - in both cases ``"warnings": [{"category": c, "message": m, "where": w}, ...]``, the
    distinct warnings the call raised (at most ``wire.MAX_WARNINGS``).

Nothing here is trusted: the grader checks every answer, and a worker that dies or stops
answering is killed and replaced. The grader also runs :func:`call` in its own process
for trusted notebooks (``autograder.sandbox.local``), so both behave alike.
"""
import os
import sys
import traceback
import warnings
from typing import Any, BinaryIO

import cells
import checks
import wire
from wire import Kind


def open_channels() -> tuple[BinaryIO, BinaryIO]:
    """Keep private copies of stdin/stdout for the protocol; point the student's at stderr."""
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    answers = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    return requests, answers


def cell_line(filename: str, lineno: int | None) -> str:
    """'cell 3, line 7' for code compiled from a notebook cell, else ''."""
    if filename.startswith("<cell ") and filename.endswith(">"):
        return "%s, line %s" % (filename.strip("<>"), lineno)
    return ""


def where(error: BaseException) -> str:
    """The student's line where an exception arose: 'cell 3, line 7', or ''."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if cell_line(frame.filename, frame.lineno):
            return cell_line(frame.filename, frame.lineno)
    return ""


class WarningLog:
    """A context that records the distinct warnings raised inside it (every category but
    ResourceWarning, which the garbage collector raises at any time for objects made
    earlier; however the student's code set the filters before), at most
    ``wire.MAX_WARNINGS``.

    ``items``: list of {"category", "message", "where"} dicts, in order of first arrival.
    """

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self._seen: set[tuple[str, str]] = set()
        self._catcher = warnings.catch_warnings()

    def __enter__(self) -> "WarningLog":
        self._catcher.__enter__()
        warnings.simplefilter("always")
        warnings.showwarning = self._show
        return self

    def __exit__(self, *exc: Any) -> None:
        self._catcher.__exit__(*exc)

    def _show(self, message: Any, category: type, filename: str, lineno: int,
              file: Any = None, line: Any = None) -> None:
        key = (category.__name__, str(message))
        if issubclass(category, ResourceWarning) or key in self._seen:
            return
        if len(self.items) >= wire.MAX_WARNINGS:
            return
        self._seen.add(key)
        self.items.append({"category": wire.clean_text(category.__name__, 40),
                           "message": wire.clean_text(message),
                           "where": cell_line(str(filename), lineno)})


def changed_dicts(func: Any, request: dict, args: list, kwargs: dict) -> list[list]:
    """[[position, encoded dict], ...] for the dict arguments whose contents the call
    changed (compared with their encoding in the request). Raises WireError when a dict
    now holds something that cannot cross, naming the argument."""
    sent_args = request["args"]["__list__"]
    sent_kwargs = request["kwargs"]["__dict__"]
    changed = []
    for position, value, sent in ([(i, a, sent_args[i]) for i, a in enumerate(args)] +
                                  [(k, a, sent_kwargs[k]) for k, a in kwargs.items()]):
        if type(value) is not dict:
            continue
        try:
            now = wire.encode(value)
        except wire.WireError as error:
            named = position if isinstance(position, str) else \
                checks.parameter_name(func, position)
            label = "`%s`" % named if named else "%d" % (position + 1)
            raise wire.WireError("left in its dict argument %s %s" % (label, error)) from None
        if now != sent:
            changed.append([position, now])
    return changed


def call(namespace: dict, request: dict) -> dict:
    """Run one call request in the notebook's ``namespace``; returns the answer (a dict,
    without "op"). The notebook's functions are guarded (``checks.guard_functions``), so
    an array argument changed in place, by this function or one it calls, is reported."""
    name = request.get("name")
    func = namespace.get(name) if isinstance(name, str) else None
    if not callable(func):
        return {"ok": False, "kind": Kind.MISSING.value, "message": str(name), "warnings": []}
    log = WarningLog()
    try:
        args = wire.decode(request["args"])
        kwargs = wire.decode(request["kwargs"])
        if type(args) is not list or type(kwargs) is not dict:
            raise wire.WireError("arguments are not a list and a dict")
    except (KeyError, TypeError, wire.WireError):
        return {"ok": False, "kind": Kind.RAISED.value, "message": "malformed request",
                "warnings": []}
    try:
        with log, checks.guard_functions(namespace):
            value = checks.call_checked(func, args, kwargs, name=name)
        try:
            encoded = wire.encode(value)
        except wire.WireError as error:
            raise wire.WireError("returned %s" % error) from None
        dicts = changed_dicts(func, request, args, kwargs)
        answer = {"ok": True, "value": encoded, "dicts": dicts}
    except checks.ModifiedArgument as error:
        answer = {"ok": False, "kind": Kind.MODIFIED.value, "message": str(error),
                  "function": error.function, "argument": error.argument}
    except NotImplementedError as error:
        answer = {"ok": False, "kind": Kind.STUB.value, "message": where(error)}
    except wire.WireError as error:
        answer = {"ok": False, "kind": Kind.UNENCODABLE.value, "message": str(error)}
    except SystemExit:
        answer = {"ok": False, "kind": Kind.EXIT.value, "message": "called sys.exit / exit()"}
    except BaseException as error:
        # The message may carry the hidden inputs (``raise ValueError(repr(x))``): numbers,
        # arrays and quoted text are taken out here, and again by the grader.
        text = wire.redact_error("%s: %s" % (type(error).__name__, error))
        answer = {"ok": False, "kind": Kind.RAISED.value, "message": text,
                  "where": where(error)}
    answer["warnings"] = log.items
    return answer


def answer_line(answer: dict) -> bytes:
    """The answer to a call as one protocol line (op "result"); a value JSON cannot hold
    becomes an "unencodable" answer."""
    try:
        return wire.dumps(dict(answer, op="result"))
    except (ValueError, TypeError):  # e.g. a NaN in a plain float of a message
        return wire.dumps({"op": "result", "ok": False, "kind": Kind.UNENCODABLE.value,
                           "message": "returned a value that cannot be sent",
                           "warnings": []})


def main() -> None:
    """Serve requests until stdin closes (first confining itself when asked to: see
    ``confine.py``)."""
    import confine  # only a worker process confines itself (local.py runs call())
    confine.confine(sys.argv)
    requests, answers = open_channels()
    namespace: dict[str, Any] = {"__name__": "__main__"}

    def send(message: dict) -> None:
        answers.write(wire.dumps(message))

    for line in requests:
        try:
            request = wire.loads(line)
        except wire.WireError:
            continue
        if request.get("op") == "load":
            report = cells.run_cells(request["cells"], namespace,
                                     on_start=lambda i: send({"op": "cell", "index": i}))
            send({"op": "loaded", "report": report})
        elif request.get("op") == "call":
            answers.write(answer_line(call(namespace, request)))


if __name__ == "__main__":
    main()
