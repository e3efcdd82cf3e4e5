"""Gradescope: the autograder zip, and the runner inside it.

``backprop-grader gradescope --out autograder.zip [--assignment NAME ...] [--config FILE]``
builds the zip Gradescope expects::

    setup.sh            installs the grader into /autograder/venv, locks its files to root
    run_autograder      grades /autograder/submission into /autograder/results/results.json
    gradescope.json     the settings below
    backprop-by-hand/   the grader package, with the hidden tests and the reference
                        solutions of the chosen assignments (pip-installable)

gradescope.json (every key optional; ``--config`` gives a file of overrides)::

    {"assignments": ["ch01_gates"],       # what a submission may be (default: those built)
     "visibility": "visible",             # every test: visible | after_due_date |
                                          #   after_published | hidden
     "tests": {"test_train": "hidden",    # per hidden test (its name) or per function
               "check_sigmoid": "after_due_date"},   # (its check cell), overriding the above
     "results_visibility": "visible",     # results.json's own "visibility"
     "stdout_visibility": "hidden",       # what run_autograder prints
     "sandbox": "auto",                   # auto | bwrap | user (never none on Gradescope)
     "sandbox_user": "nobody", "timeout": 10, "memory_mb": 512}

The default shows every test's name, score and feedback at once (the feedback never holds
hidden inputs). ``python -m autograder.course.gradescope run --root DIR`` is what
run_autograder calls; ``AUTOGRADER_ROOT`` (default ``/autograder``) moves the whole layout,
so the project's tests run it on a simulated folder.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from autograder.course import gradebook
from autograder.grading import runner
from autograder.grading.reference import SOLUTIONS, assignments

PACKAGE = Path(__file__).resolve().parents[1]
FILES = Path(__file__).resolve().parent / "gradescope_files"
TOP = "backprop-by-hand"
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
SANDBOXES = ("auto", "bwrap", "user")
DEFAULTS: dict[str, Any] = {"visibility": "visible", "tests": {},
                            "results_visibility": "visible", "stdout_visibility": "hidden",
                            "sandbox": "auto", "sandbox_user": "nobody", "timeout": 10.0,
                            "memory_mb": 512}
PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "backprop-by-hand"
version = "%s"
description = "Backprop by hand: the grader, for Gradescope"
requires-python = ">=3.10"
dependencies = ["numpy"]

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
autograder = ["solutions/*/*.ipynb", "course/gradescope_files/*"]
"""
RE_DOWNLOAD = re.compile(r"(\s*\(\d+\)|\s*-\s*copy|\s+copy(\s*\d+)?|-\d+)$", re.IGNORECASE)


class ConfigError(ValueError):
    """gradescope.json is not valid; the message says which key."""


def check_config(config: dict[str, Any], known: list[str] | None = None) -> dict[str, Any]:
    """The settings with defaults filled in; raises ConfigError for a wrong value."""
    if not isinstance(config, dict):
        raise ConfigError("gradescope.json must hold a JSON object")
    unknown = set(config) - set(DEFAULTS) - {"assignments"}
    if unknown:
        raise ConfigError("unknown setting(s): %s" % ", ".join(sorted(unknown)))
    merged = dict(DEFAULTS, **config)
    known = known if known is not None else assignments()
    names = merged.get("assignments") or known
    if not isinstance(names, list) or not all(n in known for n in names):
        raise ConfigError("assignments must be a list of %s" % ", ".join(known))
    merged["assignments"] = names
    for key in ("visibility", "results_visibility", "stdout_visibility"):
        if merged[key] not in VISIBILITIES:
            raise ConfigError("%s must be one of %s" % (key, ", ".join(VISIBILITIES)))
    if not isinstance(merged["tests"], dict) or not all(
            v in VISIBILITIES for v in merged["tests"].values()):
        raise ConfigError("tests must map test or check-cell names to one of %s"
                          % ", ".join(VISIBILITIES))
    if merged["sandbox"] not in SANDBOXES:
        raise ConfigError("sandbox must be one of %s" % ", ".join(SANDBOXES))
    return merged


# ---------------------------------------------------------------------------------------
# Building the zip


def package_files(names: list[str]) -> dict[str, Path]:
    """{path in the zip: file} of the grader package for ``names``: every source file, the
    hidden tests and reference solutions of those assignments only."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if not path.is_file() or "__pycache__" in rel.parts or path.suffix in (".pyc", ".tmp"):
            continue
        if rel.parts[0] == "solutions":
            continue                                   # added below from SOLUTIONS
        if rel.parts[0] == "hidden" and path.name.startswith("test_") and \
                path.stem[len("test_"):] not in names:
            continue
        found["%s/autograder/%s" % (TOP, rel.as_posix())] = path
    for name in names:
        found["%s/autograder/solutions/%s/%s.ipynb" % (TOP, name, name)] = \
            SOLUTIONS / name / ("%s.ipynb" % name)
    return found


def build_zip(out: str | Path, names: list[str] | None = None,
              config_path: str | Path | None = None) -> Path:
    """Write the Gradescope autograder zip; returns its path. Raises ConfigError."""
    from importlib.metadata import PackageNotFoundError, version
    known = assignments()
    names = list(names or known)
    bad = [n for n in names if n not in known]
    if bad:
        raise ConfigError("unknown assignment(s) %s (known: %s)" % (", ".join(bad),
                                                                    ", ".join(known)))
    given = json.loads(Path(config_path).read_text(encoding="utf-8")) if config_path else {}
    given = dict(given, assignments=[n for n in (given.get("assignments") or names)])
    config = check_config(given, names)
    for name in config["assignments"]:
        gradebook.grade_cells(name)                   # the feedback groups need the map
    try:
        release = version("backprop-by-hand")
    except PackageNotFoundError:
        release = "0"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for script in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(script, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (FILES / script).read_bytes())
        zf.writestr("gradescope.json", json.dumps(config, indent=1) + "\n")
        zf.writestr("%s/pyproject.toml" % TOP, PYPROJECT % release)
        for arcname, path in package_files(config["assignments"]).items():
            zf.write(path, arcname)
    os.replace(tmp, out)
    return out


# ---------------------------------------------------------------------------------------
# Running on Gradescope


def lock(root: str | Path) -> list[Path]:
    """chmod 0700 the grader package (hidden tests, reference), the uploaded source and
    the results folder: readable by root only. Returns the paths locked."""
    root = Path(root)
    paths = [PACKAGE, root / "source", root / "results"]
    (root / "results").mkdir(parents=True, exist_ok=True)
    done = []
    for path in paths:
        if path.exists():
            os.chmod(path, 0o700)
            done.append(path)
    return done


def _stem(path: Path) -> str:
    """A notebook's name without a browser's re-download suffix: 'ch02 (1)' -> 'ch02'."""
    return RE_DOWNLOAD.sub("", path.stem).strip()


def _grade_ids(path: Path) -> set[str]:
    """The nbgrader grade ids of a notebook's cells (empty when unreadable)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                for c in nb.get("cells", []) if isinstance(c, dict)} - {None}
    except (ValueError, AttributeError, TypeError):
        return set()


def find_notebook(folder: Path, names: list[str]) -> tuple[Path | None, str | None, str]:
    """(notebook, assignment, note) for a submission folder.

    By name first (``ch01_gates.ipynb``, also ``ch01_gates (1).ipynb`` and other
    re-download names, in any subfolder); else, when there is one notebook, as the only
    assignment or the one whose cell ids it carries. note: what was chosen and why, or
    why nothing could be.
    """
    notebooks = sorted(p for p in folder.rglob("*.ipynb")
                       if p.is_file() and ".ipynb_checkpoints" not in p.parts
                       and "__MACOSX" not in p.parts)
    if not notebooks:
        return None, None, ("No notebook found in the submission: upload %s."
                            % " or ".join("%s.ipynb" % n for n in names))
    for name in names:
        exact = [p for p in notebooks if p.stem == name]
        near = [p for p in notebooks if _stem(p) == name]
        chosen = (exact or near)
        if chosen:
            note = "" if chosen[0].stem == name else \
                "Graded %s as %s.ipynb." % (chosen[0].name, name)
            if len(chosen) > 1:
                note = ("Several notebooks for %s; graded %s." % (
                    name, chosen[0].relative_to(folder))).strip()
            return chosen[0], name, note
    if len(notebooks) == 1:
        only = notebooks[0]
        if len(names) == 1:
            return only, names[0], "Graded %s as %s.ipynb." % (only.name, names[0])
        ids = _grade_ids(only)
        best = max(names, key=lambda n: len(ids & set(gradebook.grade_cells(n))))
        if ids & set(gradebook.grade_cells(best)):
            return only, best, "Graded %s as %s.ipynb (from its cells)." % (only.name, best)
    return None, None, ("No notebook named %s in the submission (found: %s)."
                        % (" or ".join("%s.ipynb" % n for n in names),
                           ", ".join(p.name for p in notebooks[:10])))


def to_gradescope(record: dict[str, Any], assignment: str,
                  config: dict[str, Any]) -> dict[str, Any]:
    """Our results record -> Gradescope's results.json: tests named "function: test",
    numbered per function, with their visibility from the settings."""
    by_test = gradebook.test_results(assignment, record)
    tests = []
    placed: set[int] = set()
    for i, (cell, hidden) in enumerate(gradebook.grade_cells(assignment).items(), 1):
        function = cell[len("check_"):] if cell.startswith("check_") else cell
        for j, test in enumerate(hidden, 1):
            entry = by_test.get(test.name)
            if entry is None:
                continue
            placed.add(id(entry))
            visibility = config["tests"].get(test.name, config["tests"].get(
                cell, config["visibility"]))
            passed = float(entry.get("score", 0)) >= float(entry.get("max_score", 0))
            tests.append({"name": "%s: %s" % (function, entry.get("name", test.name)),
                          "number": "%d.%d" % (i, j), "score": entry.get("score", 0),
                          "max_score": entry.get("max_score", test.points),
                          "status": "passed" if passed else "failed",
                          "output": entry.get("output", ""), "visibility": visibility})
    for entry in record.get("tests", []):
        if id(entry) not in placed:
            tests.append(dict(entry, visibility=config["visibility"]))
    return {"score": sum(float(t["score"]) for t in tests),
            "output": str(record.get("output", "") or ""),
            "execution_time": record.get("execution_time", 0),
            "visibility": config["results_visibility"],
            "stdout_visibility": config["stdout_visibility"], "tests": tests}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write a JSON file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run(root: str | Path) -> int:
    """Grade ``root``/submission into ``root``/results/results.json; returns the exit
    status (0 when graded, 1 when the grader itself could not run)."""
    from autograder.sandbox import Limits, SandboxUnavailable, choose_sandbox
    root = Path(root)
    started = time.monotonic()
    lock(root)
    out = root / "results" / "results.json"
    settings = root / "source" / "gradescope.json"
    config = check_config(json.loads(settings.read_text(encoding="utf-8"))
                          if settings.is_file() else {})
    names = config["assignments"]
    notebook, assignment, note = find_notebook(root / "submission", names)
    if notebook is None:
        record = runner.unreadable(runner.hidden_tests(names[0]), note, started) \
            if len(names) == 1 else {"score": 0, "output": note, "tests": []}
        write_json(out, to_gradescope(record, names[0], config) if len(names) == 1
                   else dict(record, visibility=config["results_visibility"]))
        print(note)
        return 0
    limits = Limits(memory_mb=int(config["memory_mb"]), call_timeout=float(config["timeout"]),
                    cell_timeout=float(config["timeout"]), user=str(config["sandbox_user"]))
    try:
        limits, sandboxed = choose_sandbox(config["sandbox"], limits, say=print)
    except SandboxUnavailable as error:
        print("error: %s" % error)
        write_json(out, {"score": 0, "visibility": config["results_visibility"], "tests": [],
                         "output": "The grader could not start its sandbox, so nothing was "
                                   "graded. Your instructor can see why in the logs."})
        return 1
    print("sandbox: %s" % limits.sandbox)
    text = notebook.read_text(encoding="utf-8", errors="replace")
    record = runner.grade_notebook(text, assignment, limits, sandboxed)
    if note:
        record["output"] = ("%s\n%s" % (note, record.get("output", ""))).strip()
    results = to_gradescope(record, assignment, config)
    write_json(out, results)
    print("%s: %s / %s" % (assignment, results["score"],
                           sum(float(t["max_score"]) for t in results["tests"])))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder.course.gradescope")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="grade the submission (what run_autograder calls)")
    r.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    k = sub.add_parser("lock", help="make the grader's files readable by root only")
    k.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    args = p.parse_args(argv)
    if args.command == "lock":
        for path in lock(args.root):
            print("locked (0700): %s" % path)
        return 0
    return run(args.root)


if __name__ == "__main__":
    sys.exit(main())
