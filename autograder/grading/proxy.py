"""The student's functions as a hidden test sees them.

``student.mul_backward(dout, xs)`` sends the call to the student's notebook (a sandboxed
``Session``, or a ``LocalSession`` when pytest runs the hidden tests directly) and
returns plain numbers and arrays, or raises a :class:`StudentError` (a ``CheckFailure``)
whose message tells the student what happened in words they can act on.

As in a notebook, a dict argument the function changes (cs231n's ``bn_param`` running
averages, an optimizer's ``config``) is changed in the caller's dict too: the same dict
object, cleared and refilled. An array argument changed in place is a mistake
(:data:`Kind.MODIFIED`). Warnings the student's code raised are kept on the proxy for
the runner (:func:`take_warnings`, :func:`judge_warnings`).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from autograder.sandbox.inside.wire import (
    MAX_WARNING_CHARS,
    SAFE_ERRORS,
    Kind,
    redact,
    redact_error,
)
from autograder.sandbox.session import CallResult
from autograder.toolkit.checks import CheckFailure

ADVICE = {
    Kind.MISSING: "No function named `{name}` was found in your notebook. Keep the name and "
                  "the signature of the stub: was it renamed, deleted, or is its cell broken?",
    Kind.STUB: "`{name}` is still the stub (it raises NotImplementedError): write its body.",
    Kind.RAISED: "`{name}` raised an error: {message}",
    Kind.EXIT: "`{name}` tried to stop the program ({message}); return a value instead.",
    Kind.UNENCODABLE: "`{name}` {message}.",
    Kind.MODIFIED: "{message}",      # names the function that did it, maybe an inner one
    Kind.TIMEOUT: "`{name}` {message}",
    Kind.CRASHED: "`{name}` {message}",
}
STABILITY = "on extreme inputs: this test checks numerical stability; compute it in a form "
REMEDY = {"overflow": "that cannot overflow",
          "divide by zero": "that never divides by zero or takes the log of 0",
          "invalid value": "that cannot produce NaN (inf - inf, inf / inf, 0 / 0)"}
MAX_NOTES = 5
UNSTABLE = ("RuntimeWarning", "FloatingPointError")
STUDENT_TEXT = (Kind.RAISED, Kind.UNENCODABLE, Kind.EXIT)   # messages the worker wrote
SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,29}")


class CallSession(Protocol):
    """What the proxy needs of a session (``Session`` or ``LocalSession``)."""

    def call(self, name: str, args: Sequence[Any] = (),
             kwargs: dict[str, Any] | None = None) -> CallResult: ...


class StudentError(CheckFailure):
    """A call to the student's code did not return a usable value; ``kind`` says why."""

    def __init__(self, kind: Kind, name: str, message: str) -> None:
        self.kind = kind
        super().__init__(ADVICE[kind].format(name=name, message=message))


@dataclasses.dataclass(frozen=True)
class StudentWarning:
    """A warning raised by the student's code while a hidden test called ``function``."""
    function: str         # the function the test called
    category: str         # e.g. "RuntimeWarning", or "FloatingPointError" (np.seterr)
    message: str          # e.g. "overflow encountered in exp" (cleaned: no long numbers)
    where: str = ""       # e.g. "cell 5, line 3"

    def note(self) -> str:
        """'note: `f` raised RuntimeWarning: overflow encountered in exp (cell 5, line 3)'."""
        return "note: `%s` raised %s: %s%s" % (self.function, self.category, self.message,
                                               " (%s)" % self.where if self.where else "")


class StudentProxy:
    """Attribute access gives a function that calls the student's code in ``session``."""

    def __init__(self, session: CallSession) -> None:
        self._session = session
        self._warnings: list[StudentWarning] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = redacted(self._session.call(name, args, kwargs))
            self._note(name, result)
            if not result.ok:
                raise StudentError(result.kind, name, result.message)
            apply_dicts(result.dicts, args, kwargs)
            return safe_keys(result.value)
        call.__name__ = name
        return call

    def _note(self, name: str, result: CallResult) -> None:
        """Keep the call's warnings (and a FloatingPointError it raised) for the runner."""
        found = [StudentWarning(name, w.category, w.message, w.where) for w in result.warnings]
        if result.kind is Kind.RAISED and result.message.startswith("FloatingPointError"):
            text = result.message.split(":", 1)[1].split(" (cell ")[0].strip()
            found.append(StudentWarning(name, "FloatingPointError", text))
        for w in found:
            if w not in self._warnings and len(self._warnings) < MAX_NOTES:
                self._warnings.append(w)


def redacted(result: CallResult) -> CallResult:
    """The result with the student's own text made safe for feedback: an error message
    keeps the exception's type and where it arose, not the numbers, arrays or quoted
    text that could carry a hidden input (``wire.redact_error``); so do warnings."""
    message = result.message
    if result.kind in STUDENT_TEXT:
        message = redact_error(message)
    notes = tuple(dataclasses.replace(
        w, message=redact(w.message, MAX_WARNING_CHARS),
        category=w.category if w.category in SAFE_ERRORS else "a warning")
        for w in result.warnings)
    return dataclasses.replace(result, message=message, warnings=notes)


def safe_keys(value: Any, depth: int = 0) -> Any:
    """A returned value whose dict keys cannot carry data into a message ("keys found:
    ..."): a key that is not a short identifier with at most two digits becomes
    ``<key 1>``, ``<key 2>``, ... (no expected key looks like that)."""
    if depth > 8:
        return value
    if type(value) is dict:
        renamed, unnamed = {}, 0
        for key, item in value.items():
            if not SAFE_KEY.fullmatch(key) or sum(c.isdigit() for c in key) > 2:
                unnamed += 1
                key = "<key %d>" % unnamed
            renamed[key] = safe_keys(item, depth + 1)
        return renamed
    if type(value) in (list, tuple):
        return type(value)(safe_keys(item, depth + 1) for item in value)
    return value


def apply_dicts(dicts: dict[int | str, dict], args: Sequence[Any],
                kwargs: dict[str, Any]) -> None:
    """Give the caller's dict arguments their contents after the call (clear, update:
    the caller keeps its dict objects). dicts: {position or keyword: new contents}."""
    for position, contents in dicts.items():
        target = kwargs[position] if isinstance(position, str) else args[position]
        target.clear()
        target.update(contents)


def take_warnings(student: StudentProxy) -> list[StudentWarning]:
    """The warnings the student's code raised since the last take (distinct, at most
    MAX_NOTES), forgetting them."""
    found = list(student._warnings)
    student._warnings.clear()
    return found


def stability_failure(warning: StudentWarning) -> str:
    """The failure of a stable test whose student code raised ``warning``: '`sigmoid`
    raised RuntimeWarning (overflow encountered in exp) on extreme inputs: ...'."""
    remedy = next((text for key, text in REMEDY.items() if key in warning.message),
                  REMEDY["overflow"])
    return "`%s` raised %s (%s) %s%s" % (warning.function, warning.category,
                                         warning.message, STABILITY, remedy)


def judge_warnings(found: Sequence[StudentWarning],
                   stable: bool) -> tuple[str | None, list[str]]:
    """What the warnings of a test that passed its checks mean: (failure, notes).

    stable: the test is marked ``@points(n, stable=True)``; then a RuntimeWarning or a
    FloatingPointError fails it (failure: the message, else None). Every other warning is
    a note ("note: `f` raised RuntimeWarning: ...") that costs nothing.
    """
    blamed = next((w for w in found if w.category in UNSTABLE), None) if stable else None
    notes = [w.note() for w in found if w is not blamed]
    return (stability_failure(blamed) if blamed else None), notes
