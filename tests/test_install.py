"""The grader installs like a tool: ``pip install .`` gives ``backprop-grader`` on PATH, it
grades from any directory, and the sandbox cannot see the installed package (which carries
the hidden tests and the solutions)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course.samples import students
from autograder.grading.reference import ROOT, solution_path
from autograder.sandbox import check_bwrap

SOURCES = ("autograder", "solutions", "pyproject.toml", "setup.py", "README.md")


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment with numpy and the grader installed from a copy."""
    check_bwrap()
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copyfile
        copy(ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                          if (ROOT / name).is_dir() else {}))
    env = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "-q",
           "--disable-pip-version-check"]
    numpy = "numpy==%s" % __import__("numpy").__version__
    subprocess.run(pip + [numpy, str(src)], check=True, capture_output=True)
    return env


def test_command_grades_from_any_directory(venv, tmp_path):
    name = "ch01_gates"
    exercise = json.loads((ROOT / "exercises" / name / ("%s.ipynb" % name)).read_text())
    solution = json.loads(solution_path(name).read_text())
    nb = students(exercise, solution)["ada_complete"]
    path = tmp_path / "submitted" / "ada" / name / ("%s.ipynb" % name)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(nb))
    done = subprocess.run([str(venv / "bin" / "backprop-grader"), "grade", "submitted",
                           "--out", "graded"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "graded" / "ada" / name / "results.json").read_text())
    assert record["score"] == sum(t["max_score"] for t in record["tests"]) > 0


def test_installed_package_is_invisible_in_the_sandbox(venv, tmp_path):
    probe = (
        "import os, autograder\n"
        "from autograder.sandbox import Session, Limits\n"
        "pkg = os.path.dirname(autograder.__file__)\n"
        "assert os.path.isdir(os.path.join(pkg, 'solutions')), 'installed copy has solutions'\n"
        "s = Session(['import os', 'def f(p):\\n    return sorted(os.listdir(p))'], Limits())\n"
        "r = s.call('f', (pkg,))\n"
        "print((r.kind.value, r.value))\n"
        "s.close()\n")
    done = subprocess.run([str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "('ok', [])", done.stdout
