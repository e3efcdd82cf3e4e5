"""A student's notebook loaded in a sandboxed worker, restarted as needed.

``Session.call(name, args, kwargs)`` returns a :class:`CallResult`: the kind of outcome
(a ``wire.Kind``), the returned value, the new contents of the dict arguments the call
changed and the warnings it raised. ``autograder.sandbox.local.LocalSession`` gives the
same results for a trusted notebook run in the grader's own process.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from autograder.sandbox.inside import wire
from autograder.sandbox.inside.wire import Kind
from autograder.sandbox.process import (
    Limits,
    LoadFailed,
    Worker,
    WorkerGone,
    WorkerTimeout,
    call_request,
    load_notebook,
)
from autograder.toolkit.checks import modified_message

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")
WHERE = re.compile(r"cell \d{1,4}, line \d{1,6}")


@dataclasses.dataclass(frozen=True)
class CallWarning:
    """A warning the student's code raised during a call (text already cleaned)."""
    category: str         # e.g. "RuntimeWarning"
    message: str          # e.g. "overflow encountered in exp"
    where: str = ""       # e.g. "cell 5, line 3", or "" when not in the student's cells


@dataclasses.dataclass(frozen=True)
class CallResult:
    """How one call to a student's function ended.

    kind: Kind.OK, or what went wrong. value: the returned value (plain data: numbers,
    arrays, tuples, lists, dicts) when kind is OK, else None. message: for a failure,
    what happened, in words for the student. dicts: {position: new contents} for the dict
    arguments the call changed (position: index of a positional argument, or a keyword);
    the caller applies them to its own dicts. warnings: the distinct warnings raised.
    """
    kind: Kind
    value: Any = None
    message: str = ""
    dicts: dict[int | str, dict] = dataclasses.field(default_factory=dict)
    warnings: tuple[CallWarning, ...] = ()

    @property
    def ok(self) -> bool:
        return self.kind is Kind.OK


def _warnings(answer: dict) -> tuple[CallWarning, ...]:
    """The warnings of an answer, checked and cleaned (the worker is not trusted)."""
    found = answer.get("warnings")
    if type(found) is not list:
        return ()
    result = []
    for item in found[:wire.MAX_WARNINGS]:
        if type(item) is not dict:
            continue
        category = str(item.get("category", ""))
        where = str(item.get("where", ""))
        result.append(CallWarning(
            category=category if IDENTIFIER.fullmatch(category) else "Warning",
            message=wire.clean_text(item.get("message", "")),
            where=where if WHERE.fullmatch(where) else ""))
    return tuple(result)


def _dicts(answer: dict, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[int | str, dict]:
    """{position: decoded dict} from an answer's "dicts"; raises WireError when malformed
    or when a position is not a dict argument of this call."""
    found = answer.get("dicts", [])
    if type(found) is not list:
        raise wire.WireError("malformed dict arguments")
    result: dict[int | str, dict] = {}
    for item in found:
        if type(item) is not list or len(item) != 2:
            raise wire.WireError("malformed dict arguments")
        position, encoded = item
        if type(position) is int and 0 <= position < len(args):
            target = args[position]
        elif type(position) is str and position in kwargs:
            target = kwargs[position]
        else:
            raise wire.WireError("a dict argument that was not passed")
        contents = wire.decode(encoded)
        if not (isinstance(target, dict) and type(contents) is dict):
            raise wire.WireError("a dict argument that was not passed")
        result[position] = contents
    return result


def _modified(answer: dict) -> str:
    """The message of a "modified" answer, rebuilt from its checked fields."""
    function, argument = answer.get("function"), answer.get("argument")
    if type(function) is str and IDENTIFIER.fullmatch(function) and (
            (type(argument) is str and IDENTIFIER.fullmatch(argument))
            or (type(argument) is int and 0 < argument < 1000)):
        return modified_message(function, argument)
    return "modified an array argument in place; work on a copy or build a new array"


def read_answer(answer: dict, args: Sequence[Any] = (),
                kwargs: dict[str, Any] | None = None) -> CallResult:
    """Turn a worker's answer to ``call_request(name, args, kwargs)`` into a CallResult.

    Everything in it is checked: an unknown kind counts as "raised", text is cut short,
    a value or dict that does not decode makes the call "unencodable".
    """
    kwargs = kwargs or {}
    if answer.get("op") != "result":
        return CallResult(Kind.CRASHED, message="broke the grading protocol")
    warnings = _warnings(answer)
    if answer.get("ok") is True:
        try:
            value = wire.decode(answer.get("value"))
        except wire.WireError as error:
            return CallResult(Kind.UNENCODABLE, message="returned %s" % error,
                              warnings=warnings)
        try:
            dicts = _dicts(answer, args, kwargs)
        except wire.WireError as error:
            return CallResult(Kind.UNENCODABLE, message="sent back %s" % error,
                              warnings=warnings)
        return CallResult(Kind.OK, value=value, dicts=dicts, warnings=warnings)
    try:
        kind = Kind(answer.get("kind"))
    except ValueError:
        kind = Kind.RAISED
    if kind not in wire.WORKER_KINDS:
        kind = Kind.RAISED
    if kind is Kind.MODIFIED:
        return CallResult(kind, message=_modified(answer), warnings=warnings)
    message = str(answer.get("message", ""))[:300]
    where = str(answer.get("where", ""))
    if WHERE.fullmatch(where):
        message = "%s (%s)" % (message, where)
    return CallResult(kind, message=message, warnings=warnings)


class Session:
    """A student's notebook loaded in a sandboxed worker, restarted as needed.

    cells: the notebook's code-cell sources. ``call(name, args, kwargs)`` returns a
    CallResult. After a call: ``skipped`` {cell index: why} lists the cells left out
    because they hung or killed the worker at load time, ``cell_errors`` {cell index:
    error} the cells that raised, and ``broken`` says why the notebook cannot run at all
    (None while it can).
    """

    def __init__(self, cells: Sequence[str], limits: Limits = Limits(),
                 sandboxed: bool = True) -> None:
        self.cells = list(cells)
        self.limits = limits
        self.sandboxed = sandboxed
        self.skipped: dict[int, str] = {}       # cell index -> why it was skipped
        self.cell_errors: dict[int, str] = {}   # cell index -> error message from loading
        self.broken: str | None = None          # why no worker can be started, if so
        self.hung: dict[str, CallResult] = {}   # function name -> its last timeout result
        self.timeouts = 0
        self.starts = 0
        self.worker: Worker | None = None

    def close(self) -> None:
        """Stop the worker, if any."""
        if self.worker is not None:
            self.worker.close()
            self.worker = None

    def _sources(self) -> list[str]:
        """The cells to load: skipped ones are left empty, so indexes do not move."""
        return ["" if i in self.skipped else src for i, src in enumerate(self.cells)]

    def _start(self) -> Worker | None:
        """The worker with the notebook loaded, started if needed; None when it cannot be.

        Each start that a cell stops (hangs, or kills the worker) skips that cell and
        tries again, up to ``limits.max_restarts`` restarts in all.
        """
        while self.worker is None and self.broken is None:
            if self.starts > self.limits.max_restarts:
                self.broken = "the sandbox was restarted %d times" % self.limits.max_restarts
                break
            self.starts += 1
            worker = Worker(self.limits, self.sandboxed)
            try:
                self.cell_errors = load_notebook(worker, self._sources(), self.limits)
            except LoadFailed as failed:
                worker.close()
                if failed.cell_index is None:
                    self.broken = "it %s before running any cell" % failed.why
                else:
                    self.skipped[failed.cell_index] = failed.why
                continue
            self.worker = worker
        return self.worker

    def call(self, name: str, args: Sequence[Any] = (),
             kwargs: dict[str, Any] | None = None) -> CallResult:
        """Call the student's function ``name``; see the class docstring for the result.

        Raises WireError when an argument cannot be sent (a mistake in the hidden test).
        """
        if name in self.hung and self.timeouts >= self.limits.max_timeouts:
            return self.hung[name]   # out of patience: do not wait for it again
        request = call_request(name, args, kwargs)
        worker = self._start()
        if worker is None:
            return CallResult(Kind.CRASHED, message="could not be called: the notebook "
                                                    "could not be run (%s)" % self.broken)
        try:
            worker.send(request)
            answer = worker.receive(self.limits.call_timeout)
        except WorkerTimeout:
            result = CallResult(Kind.TIMEOUT, message="did not return within %g s (an "
                                "endless loop?)" % self.limits.call_timeout)
            self.timeouts += 1
            self.hung[name] = result
        except WorkerGone as gone:
            result = CallResult(Kind.CRASHED, message="stopped the grading process: it %s"
                                % gone)
        else:
            return read_answer(answer, args, kwargs)
        worker.close()
        self.worker = None
        return result
