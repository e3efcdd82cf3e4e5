"""Fixtures that let pytest run the hidden tests directly.

By default ``student`` is the reference itself, so every hidden test must pass: this is how
the project checks its hidden tests. With ``BACKPROP_STUDENT_NOTEBOOK=path.ipynb`` the
student is that notebook's definitions, run *without* a sandbox (for trusted notebooks
only, such as a deliberately wrong variant written to see a test fail). The grader does not
use this file: it calls the tests with a sandboxed proxy (``autograder.grading.runner``).
"""
import os
import types
from pathlib import Path

import pytest

from autograder.grading.reference import load_reference
from autograder.grading.testkit import rng_for
from autograder.sandbox.inside import cells


def _assignment(request):
    return request.module.__name__.rsplit(".", 1)[-1][len("test_"):]


@pytest.fixture
def reference(request):
    return load_reference(_assignment(request))


@pytest.fixture
def student(reference):
    path = os.environ.get("BACKPROP_STUDENT_NOTEBOOK")
    if not path:
        return reference
    module = types.ModuleType("student")
    cells.run_cells(cells.code_cells(Path(path).read_text(encoding="utf-8")), module.__dict__)
    return module


@pytest.fixture
def rng(request):
    return rng_for(_assignment(request), request.node.name)
