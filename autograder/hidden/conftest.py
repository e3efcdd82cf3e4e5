"""Fixtures that let pytest run the hidden tests directly.

By default ``student`` is the reference itself (so every hidden test must pass: this is
how the project checks its hidden tests). The grader does not use this file: it calls the
tests with a sandboxed student proxy (see ``autograder.runner``).
"""
import pytest

from autograder.reference import load_reference
from autograder.testkit import rng_for


def _assignment(request):
    return request.module.__name__.rsplit(".", 1)[-1][len("test_"):]


@pytest.fixture
def reference(request):
    return load_reference(_assignment(request))


@pytest.fixture
def student(reference):
    return reference


@pytest.fixture
def rng(request):
    return rng_for(_assignment(request), request.node.name)
