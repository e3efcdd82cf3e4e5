"""Where students' code runs: a bubblewrap sandbox and the worker inside it.

``inside/`` holds the grader's files the sandbox can see (standard library and numpy only,
and nothing secret): the worker, the wire format and the cell filter; the toolkit's
``checks.py`` is bound beside them. ``process`` starts one worker under bubblewrap,
prlimit and the ``seccomp`` filter and loads a notebook into it; ``session`` keeps a
notebook loaded in a worker, restarting it when the student's code hangs or crashes;
``local`` runs the same call logic in the grader's process, for trusted notebooks.
"""
from autograder.sandbox.inside.wire import Kind
from autograder.sandbox.process import (
    Limits,
    LoadFailed,
    SandboxUnavailable,
    Worker,
    WorkerGone,
    WorkerTimeout,
    check_bwrap,
    choose_sandbox,
    load_notebook,
    self_test,
)
from autograder.sandbox.session import CallResult, CallWarning, Session

__all__ = ["CallResult", "CallWarning", "Kind", "Limits", "LoadFailed", "SandboxUnavailable",
           "Session", "Worker", "WorkerGone", "WorkerTimeout", "check_bwrap", "choose_sandbox",
           "load_notebook", "self_test"]
