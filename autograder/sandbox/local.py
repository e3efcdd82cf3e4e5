"""A trusted notebook in the grader's own process, seen exactly as through the sandbox.

:class:`LocalSession` has the interface of ``Session`` (``call`` returns a CallResult;
``cells``, ``skipped``, ``cell_errors``, ``broken``, ``close``) and runs the worker's own
``call`` (``inside/worker.py``) in this process: arguments and results are copied through
the wire format, dict arguments come back changed, arrays changed in place and warnings
are reported, all by the same code as in the sandbox. ``autograder/hidden/conftest.py``
uses it when pytest runs the hidden tests directly. There is no isolation: a notebook
that hangs or exits stops pytest. For trusted notebooks only.
"""
from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Sequence
from typing import Any

from autograder.sandbox.inside import cells, wire
from autograder.sandbox.process import WORKER_FILES, call_request
from autograder.sandbox.session import CallResult, read_answer
from autograder.toolkit import checks


def _load_worker() -> types.ModuleType:
    """inside/worker.py as a module of this process, its sibling imports (cells, checks,
    wire: top-level names inside the sandbox) bound to the grader's own copies."""
    siblings = {"cells": cells, "checks": checks, "wire": wire}
    saved = {name: sys.modules.get(name) for name in siblings}
    sys.modules.update(siblings)
    try:
        spec = importlib.util.spec_from_file_location("autograder_sandbox_local_worker",
                                                      WORKER_FILES["worker.py"])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, old in saved.items():
            if old is None:
                del sys.modules[name]
            else:
                sys.modules[name] = old
    return module


WORKER = _load_worker()


class LocalSession:
    """A notebook's definitions loaded in this process; ``call`` as ``Session.call``.

    cells: code-cell sources, loaded as the worker loads them (in a namespace named
    ``__main__``). Or ``LocalSession.of_module(module)``: an already loaded module (the
    reference solutions), whose namespace is copied so that guarding its functions during
    a call leaves the module itself alone.
    """

    def __init__(self, cells_: Sequence[str] = (),
                 namespace: dict[str, Any] | None = None) -> None:
        self.cells = list(cells_)
        self.skipped: dict[int, str] = {}
        self.broken: str | None = None
        self.cell_errors: dict[int, str] = {}
        if namespace is None:
            namespace = {"__name__": "__main__"}
            report = cells.run_cells(self.cells, namespace)
            self.cell_errors = {i: error for i, error in report if error}
        self.namespace = namespace

    @classmethod
    def of_module(cls, module: types.ModuleType) -> LocalSession:
        return cls(namespace=dict(vars(module)))

    def call(self, name: str, args: Sequence[Any] = (),
             kwargs: dict[str, Any] | None = None) -> CallResult:
        """Call ``name`` as the sandboxed worker would; see ``Session.call``."""
        request = wire.loads(wire.dumps(call_request(name, args, kwargs)))
        answer = wire.loads(WORKER.answer_line(WORKER.call(self.namespace, request)))
        return read_answer(answer, args, kwargs)

    def close(self) -> None:
        """Nothing to stop (the interface of Session)."""
