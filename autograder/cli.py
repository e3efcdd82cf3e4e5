"""Command line: ``python -m autograder grade PATH --out DIR [--jobs N] [--resume]``.

PATH is nbgrader's ``submitted/`` folder (``<student>/<assignment>/<notebook>.ipynb``) or
one notebook. The exit status is non-zero only when the grader itself fails (bad
arguments, no sandbox, a broken reference), never because of a submission.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import sys
import time
from pathlib import Path

from autograder import sandbox
from autograder.grading import results, runner
from autograder.grading.reference import assignments


def find_submissions(path: str | Path,
                     assignment: str | None = None) -> list[tuple[str, str, Path | None]]:
    """List (student, assignment, notebook path or None) for PATH.

    A folder is read as ``<student>/<assignment>/``; in it the notebook named after the
    assignment is graded, or the only notebook there. A single notebook is graded as
    ``assignment`` (default: its file name) for the student named by its grandparent
    folder when the path looks like nbgrader's layout, else ``student``.
    """
    path = Path(path)
    if path.is_file():
        name = assignment or path.stem
        student = path.parent.parent.name if path.parent.name == name else "student"
        return [(student or "student", name, path)]
    if not path.is_dir():
        raise FileNotFoundError("no such file or folder: %s" % path)
    found = []
    for folder in sorted(p for p in path.glob("*/*") if p.is_dir()):
        if assignment and folder.name != assignment:
            continue
        notebooks = sorted(folder.glob("*.ipynb"))
        named = folder / ("%s.ipynb" % folder.name)
        chosen = named if named in notebooks else (notebooks[0] if len(notebooks) == 1 else None)
        found.append((folder.parent.name, folder.name, chosen))
    return found


def grade_one(student: str, assignment: str, notebook: Path | None, out: str | Path,
              limits: sandbox.Limits, sandboxed: bool) -> tuple[float, float, str]:
    """Grade one submission and write its results.json; returns (score, max, status)."""
    if assignment not in assignments():
        record, status = {"score": 0, "output": "Unknown assignment %r." % assignment,
                          "tests": []}, "unknown assignment"
    elif notebook is None:
        record = runner.unreadable(runner.hidden_tests(assignment),
                                   "No notebook found (expected %s.ipynb)." % assignment,
                                   time.monotonic())
        status = "no notebook"
    else:
        text = notebook.read_text(encoding="utf-8", errors="replace")
        record = runner.grade_notebook(text, assignment, limits, sandboxed)
        status = "graded"
    results.write_results(out, student, assignment, record, status)
    return record["score"], sum(t["max_score"] for t in record["tests"]), status


def is_done(out: str | Path, student: str, assignment: str, notebook: Path | None) -> bool:
    """True when a results.json newer than the notebook exists (for --resume)."""
    path = results.results_path(out, student, assignment)
    return path.is_file() and (notebook is None or
                               path.stat().st_mtime >= notebook.stat().st_mtime)


def grade(args: argparse.Namespace) -> int:
    """The ``grade`` command."""
    limits, sandboxed = sandbox_for(args)
    todo = find_submissions(args.path, args.assignment)
    if args.resume:
        todo = [s for s in todo if not is_done(args.out, *s)]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    total = len(todo)
    print("grading %d submission(s) with %d job(s)%s" % (
        total, args.jobs, "" if sandboxed else ", no sandbox"), file=sys.stderr)
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(grade_one, *sub, args.out, limits, sandboxed): sub
                   for sub in todo}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            student, assignment, _ = futures[future]
            score, most, status = future.result()
            print("[%d/%d] %s %s: %s/%s (%s)" % (done, total, student, assignment,
                                                score, most, status), file=sys.stderr)
    publish(args)
    rows = results.write_grades(args.out)
    print(results.table(rows) if rows else "no submissions found under %s" % args.path)
    return 0


def sandbox_for(args: argparse.Namespace) -> tuple[sandbox.Limits, bool]:
    """The limits and sandbox of ``--sandbox`` (``--no-sandbox`` is ``--sandbox none``),
    self-tested; raises SandboxUnavailable saying what to do."""
    limits = sandbox.Limits(memory_mb=args.memory_mb, call_timeout=args.timeout,
                            cell_timeout=args.timeout, user=args.sandbox_user)
    requested = "none" if args.no_sandbox else args.sandbox
    if requested == "none":
        print("warning: no sandbox: students' code runs unprotected", file=sys.stderr)
    limits, sandboxed = sandbox.choose_sandbox(
        requested, limits, say=lambda text: print("warning: %s" % text, file=sys.stderr))
    if sandboxed:
        submitted = Path(args.path)
        some = [submitted] if submitted.is_file() else sorted(submitted.glob("*/*/*.ipynb"))[:3]
        sandbox.process.check_private(limits, some, "the submissions")
        print("sandbox: %s" % limits.sandbox, file=sys.stderr)
    return limits, sandboxed


def publish(args: argparse.Namespace) -> None:
    """After grading: a feedback page per submission and, in an nbgrader course directory
    (``--course``, or found from the current directory), the scores in its gradebook."""
    from autograder.course import feedback, gradebook
    course = Path(args.course) if args.course else gradebook.find_course()
    if args.course and not (course / gradebook.CONFIG).is_file():
        raise FileNotFoundError("%s is not an nbgrader course directory (no %s)"
                                % (course, gradebook.CONFIG))
    db_url, folder = None, Path(args.out) / "feedback"
    if course is not None and not args.no_gradebook:
        try:
            db_url, folder = gradebook.course_settings(course)
        except ImportError:
            print("warning: nbgrader is not installed: scores not written to the gradebook of "
                  "%s (pip install nbgrader)" % course, file=sys.stderr)
    if args.feedback:
        folder = Path(args.feedback)
    graded = []
    for path in sorted(Path(args.out).glob("*/*/results.json")):
        student, assignment = path.parent.parent.name, path.parent.name
        record = results.read_results(path)
        graded.append((student, assignment, record))
        if assignment in assignments():
            feedback.write_feedback(folder, student, assignment, record)
    print("feedback pages in %s" % folder, file=sys.stderr)
    if db_url is not None:
        known = [g for g in graded if g[1] in assignments()]
        for problem in gradebook.write_scores(db_url, known):
            print("warning: %s" % problem, file=sys.stderr)
        print("%d submission(s) written to the gradebook %s" % (len(known), db_url),
              file=sys.stderr)


def add_sandbox_options(p: argparse.ArgumentParser) -> None:
    """--sandbox and --sandbox-user (also used by the Gradescope runner)."""
    p.add_argument("--sandbox", choices=("auto", "bwrap", "user", "none"), default="auto",
                   help="bwrap: bubblewrap; user: an unprivileged user with the same limits "
                   "and syscall filter, for containers without namespaces (needs root); "
                   "none: no sandbox; auto (default): bwrap if it works here, else user as "
                   "root, else stop")
    p.add_argument("--sandbox-user", default="nobody",
                   help="user mode: the unprivileged user (name or uid; default nobody)")


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(prog="backprop-grader",
                                description="Grade Backprop-by-hand notebooks in a sandbox.")
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade submissions")
    g.add_argument("path", help="nbgrader submitted/ folder, or one notebook")
    g.add_argument("--out", required=True, help="folder for results.json files and grades.csv")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    g.add_argument("--assignment", help="grade only this assignment (or: name of the notebook's)")
    g.add_argument("--resume", action="store_true",
                   help="skip submissions whose results.json is newer than the notebook")
    g.add_argument("--no-sandbox", action="store_true",
                   help="run students' code without bubblewrap (trusted notebooks only)")
    add_sandbox_options(g)
    g.add_argument("--timeout", type=float, default=10.0,
                   help="seconds allowed for one call or one cell (default 10)")
    g.add_argument("--memory-mb", type=int, default=1024,
                   help="address-space limit of the sandbox in MiB (default 1024)")
    g.add_argument("--course", help="nbgrader course directory whose gradebook gets the scores "
                   "(default: the one holding the current directory, if any)")
    g.add_argument("--no-gradebook", action="store_true",
                   help="do not write scores into nbgrader's gradebook")
    g.add_argument("--feedback", help="folder for the feedback pages (default: the course's "
                   "feedback/, else OUT/feedback)")
    gs = sub.add_parser("gradescope", help="build the Gradescope autograder zip")
    gs.add_argument("--out", required=True, help="the zip to write (e.g. autograder.zip)")
    gs.add_argument("--assignment", action="append", dest="assignments", metavar="NAME",
                    help="an assignment the zip grades (repeat; default: all)")
    gs.add_argument("--config", help="gradescope.json settings: visibility per test, "
                    "sandbox, limits (see autograder/course/gradescope.py)")
    return p


def gradescope_zip(args: argparse.Namespace) -> int:
    """The ``gradescope`` command."""
    from autograder.course import gradescope
    try:
        path = gradescope.build_zip(args.out, args.assignments, args.config)
    except (gradescope.ConfigError, OSError, ValueError) as error:
        print("error: %s" % error, file=sys.stderr)
        return 2
    print("wrote %s: upload it as the assignment's autograder on Gradescope" % path)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "grade":
        if args.jobs < 1:
            parser().error("--jobs must be at least 1")
        try:
            return grade(args)
        except (sandbox.SandboxUnavailable, FileNotFoundError) as error:
            print("error: %s" % error, file=sys.stderr)
            return 2
    if args.command == "gradescope":
        return gradescope_zip(args)
    return 1
