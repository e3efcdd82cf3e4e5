"""Where students' code runs: a bubblewrap sandbox and the worker inside it.

``inside/`` holds the only files the sandbox can see (standard library and numpy only, and
nothing secret): the worker, the wire format and the cell filter. ``process`` starts one
worker under bubblewrap, prlimit and the ``seccomp`` filter; ``session`` keeps a notebook
loaded in a worker, restarting it when the student's code hangs or crashes.
"""
from autograder.sandbox.process import (
                                        Limits,
                                        SandboxUnavailable,
                                        Worker,
                                        WorkerGone,
                                        WorkerTimeout,
                                        check_bwrap,
                                        self_test,
)
from autograder.sandbox.session import Session

__all__ = ["Limits", "SandboxUnavailable", "Session", "Worker", "WorkerGone",
           "WorkerTimeout", "check_bwrap", "self_test"]
