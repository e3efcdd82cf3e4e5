"""The process that runs a student's notebook, inside the sandbox.

It reads requests as JSON lines on stdin and answers on stdout; the student's own
printing goes to stderr, which the grader reads with a size cap. Requests:

- ``{"op": "load", "cells": [source, ...]}``: run the definitions of each cell. Before
  each cell it sends ``{"op": "cell", "index": i}`` (so a cell that hangs can be skipped
  on restart), then ``{"op": "loaded", "report": [[i, error or null], ...]}``.
- ``{"op": "call", "name": f, "args": [...], "kwargs": {...}}``: call a function and
  answer ``{"op": "result", "ok": true, "value": ...}`` or ``{"ok": false, "kind": k,
  "message": m}`` with k one of missing, stub, raised, exit, unencodable.

Nothing here is trusted: the grader checks every answer, and a worker that dies or stops
answering is killed and replaced.
"""
import os
import sys
import traceback

import cells
import wire


def open_channels():
    """Keep private copies of stdin/stdout for the protocol; point the student's at stderr."""
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    answers = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    return requests, answers


def where(error):
    """The student's line where an exception arose: 'cell 3, line 7', or ''."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.startswith("<cell "):
            return "%s, line %s" % (frame.filename.strip("<>"), frame.lineno)
    return ""


def call(namespace, request):
    """Run one call request and build the answer (a dict)."""
    name = request.get("name")
    func = namespace.get(name) if isinstance(name, str) else None
    if not callable(func):
        return {"ok": False, "kind": "missing", "message": str(name)}
    try:
        args = wire.decode(request.get("args", {"__list__": []}))
        kwargs = wire.decode(request.get("kwargs", {"__dict__": {}}))
        value = func(*args, **kwargs)
        return {"ok": True, "value": wire.encode(value)}
    except NotImplementedError as error:
        return {"ok": False, "kind": "stub", "message": where(error)}
    except wire.WireError as error:
        return {"ok": False, "kind": "unencodable", "message": str(error)}
    except SystemExit:
        return {"ok": False, "kind": "exit", "message": "called sys.exit / exit()"}
    except BaseException as error:
        text = "%s: %s" % (type(error).__name__, str(error).splitlines()[0][:200]
                           if str(error) else "")
        return {"ok": False, "kind": "raised", "message": text, "where": where(error)}


def main():
    """Serve requests until stdin closes."""
    requests, answers = open_channels()
    namespace = {"__name__": "__main__"}

    def send(message):
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
            answer = call(namespace, request)
            answer["op"] = "result"
            try:
                send(answer)
            except ValueError:  # a value JSON cannot hold, e.g. a NaN in a plain float
                send({"op": "result", "ok": False, "kind": "unencodable",
                      "message": "a value that cannot be sent"})


if __name__ == "__main__":
    main()
