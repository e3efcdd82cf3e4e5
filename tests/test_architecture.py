"""The tree shows which rules a file lives by; these tests keep the rules.

- ``autograder/sandbox/inside/``: the grader files the sandbox sees, with the toolkit's
  ``checks.py`` bound beside them. They run in the sandbox's Python with nothing of the
  package around them: standard library, numpy, each other and ``checks`` only (imported
  as top-level modules).
- ``autograder/toolkit/checks.py``: pasted into every notebook; numpy and the standard
  library only.
- Nothing secret in either: no path to solutions/ or hidden tests.
"""
import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
INSIDE = sorted((PACKAGE / "sandbox" / "inside").glob("*.py"))
TOOLKIT = [PACKAGE / "toolkit" / "checks.py"]


def imported_modules(path):
    """Top-level names of every module a file imports: Path -> set of str."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add("<relative import>")
            else:
                names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", INSIDE + TOOLKIT, ids=lambda p: p.name)
def test_sandbox_and_toolkit_files_import_only_stdlib_and_numpy(path):
    siblings = {p.stem for p in INSIDE} | {"checks"} if path in INSIDE else set()
    allowed = set(sys.stdlib_module_names) | {"numpy"} | siblings
    assert imported_modules(path) <= allowed, imported_modules(path) - allowed


@pytest.mark.parametrize("path", INSIDE + TOOLKIT, ids=lambda p: p.name)
def test_sandbox_and_toolkit_files_name_nothing_secret(path):
    text = path.read_text(encoding="utf-8")
    for secret in ("solutions/", "autograder.hidden", "autograder/hidden", "load_reference"):
        assert secret not in text, "%s mentions %s" % (path.name, secret)


def test_the_sandbox_binds_the_inside_files_and_the_toolkit_only():
    from autograder.sandbox import process
    bound = {Path(path).resolve() for path in process.WORKER_FILES.values()}
    assert bound == {p.resolve() for p in INSIDE + TOOLKIT}
