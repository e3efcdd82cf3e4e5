"""A student's notebook loaded in a sandboxed worker, restarted as needed."""
from autograder.sandbox.inside import wire
from autograder.sandbox.process import Limits, Worker, WorkerGone, WorkerTimeout


class Session:
    """A student's notebook loaded in a worker, restarted as needed.

    cells: the notebook's code-cell sources. ``call(name, args, kwargs)`` returns
    ``("ok", value)`` or ``(kind, message)`` with kind in missing, stub, raised, exit,
    unencodable, timeout, crashed.
    """

    def __init__(self, cells, limits=Limits(), sandboxed=True):
        self.cells = list(cells)
        self.limits = limits
        self.sandboxed = sandboxed
        self.skipped = {}        # cell index -> why it was skipped
        self.cell_errors = {}    # cell index -> error message from loading
        self.hung = {}           # function name -> its last timeout result
        self.timeouts = 0
        self.starts = 0
        self.worker = None

    def close(self):
        """Stop the worker, if any."""
        if self.worker is not None:
            self.worker.close()
            self.worker = None

    def _start(self):
        """A worker with the notebook loaded; None when restarts are used up."""
        while self.worker is None:
            if self.starts > self.limits.max_restarts:
                return None
            self.starts += 1
            worker = Worker(self.limits, self.sandboxed)
            sources = ["" if i in self.skipped else src for i, src in enumerate(self.cells)]
            current = None
            try:
                worker.send({"op": "load", "cells": sources})
                while True:
                    answer = worker.receive(self.limits.cell_timeout if current is not None
                                            else self.limits.start_timeout)
                    if answer.get("op") == "cell":
                        current = answer.get("index")
                    elif answer.get("op") == "loaded":
                        break
            except WorkerTimeout:
                worker.close()
                self._skip(current, "took longer than %g s to run" % self.limits.cell_timeout)
                continue
            except WorkerGone as gone:
                worker.close()
                self._skip(current, "stopped the notebook (%s)" % gone)
                continue
            self.cell_errors = {int(i): e for i, e in answer.get("report", [])
                                if isinstance(i, int) and e}
            self.worker = worker
        return self.worker

    def _skip(self, index, why):
        if isinstance(index, int) and 0 <= index < len(self.cells):
            self.skipped[index] = why
        else:
            self.starts = self.limits.max_restarts + 1  # cannot even start: give up

    def call(self, name, args=(), kwargs=None):
        """Call the student's function ``name``; see the class docstring for the result."""
        if name in self.hung and self.timeouts >= self.limits.max_timeouts:
            return self.hung[name]   # out of patience: do not wait for it again
        worker = self._start()
        if worker is None:
            return ("crashed", "the notebook could not be run (the sandbox was restarted "
                               "%d times)" % self.limits.max_restarts)
        try:
            worker.send({"op": "call", "name": name, "args": wire.encode(list(args)),
                         "kwargs": wire.encode(dict(kwargs or {}))})
            answer = worker.receive(self.limits.call_timeout)
        except WorkerTimeout:
            result = ("timeout", "did not return within %g s (an endless loop?)"
                      % self.limits.call_timeout)
            self.timeouts += 1
            self.hung[name] = result
        except WorkerGone as gone:
            result = ("crashed", "stopped the grading process: it %s" % gone)
        else:
            return self._result(answer)
        worker.close()
        self.worker = None
        return result

    @staticmethod
    def _result(answer):
        """Turn an answer message into ("ok", value) or (kind, message)."""
        if answer.get("op") != "result":
            return ("crashed", "broke the grading protocol")
        if answer.get("ok") is True:
            try:
                return ("ok", wire.decode(answer.get("value")))
            except wire.WireError as error:
                return ("unencodable", str(error))
        kind = answer.get("kind")
        if kind not in ("missing", "stub", "raised", "exit", "unencodable"):
            kind = "raised"
        message = str(answer.get("message", ""))[:300]
        where_ = str(answer.get("where", ""))[:40]
        return (kind, "%s (%s)" % (message, where_) if where_ else message)

