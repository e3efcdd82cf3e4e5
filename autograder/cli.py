"""Command line: ``python -m autograder grade PATH --out DIR [--jobs N] [--resume] ...``.

PATH is nbgrader's ``submitted/`` folder (``<student>/<assignment>/<notebook>.ipynb``) or
one notebook. ``merge PART... --out DIR`` combines the output folders of ``--shard`` runs.
The exit status is non-zero only when the grader itself fails (bad arguments, no sandbox,
a broken reference) or is stopped (130 after Ctrl-C, 143 after SIGTERM), never because of
a submission.

Grading runs in a pool of ``--jobs`` processes that die with the grader (their own
parent-death signal, and bubblewrap's ``--die-with-parent`` for the sandboxes they
start). Ctrl-C or SIGTERM cancels what has not started, kills what runs, writes
grades.csv for what is done and prints the command that resumes.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import ctypes
import functools
import hashlib
import json
import multiprocessing
import os
import shlex
import signal
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from autograder import sandbox
from autograder.course import late, submissions
from autograder.course.submissions import Submission
from autograder.grading import reference, results, runner
from autograder.grading.reference import assignments

PACKAGE = Path(__file__).resolve().parent
SUMMARY = ("graded", "late", "no timestamp", "timed out", "unreadable", "empty", "too large",
           "no notebook", "ambiguous", "unknown assignment", "failed")
PR_SET_PDEATHSIG = 1


# ---------------------------------------------------------------- finding what to grade

def find_submissions(path: str | Path,
                     assignment: str | None = None) -> list[tuple[str, str, Path | None]]:
    """(student, assignment, notebook or None) for PATH (see ``submissions.find``)."""
    return [(s.student, s.assignment, s.notebook)
            for s in submissions.find(path, assignment, assignments())]


def in_shard(sub: Submission, shard: tuple[int, int] | None) -> bool:
    """True when ``sub`` belongs to shard K of N (a stable hash of student/assignment)."""
    if shard is None:
        return True
    k, n = shard
    h = int(hashlib.sha256(sub.key.encode("utf-8")).hexdigest()[:16], 16)
    return h % n == k - 1


@functools.lru_cache(maxsize=None)
def grader_fingerprint(assignment: str) -> str:
    """A hash of what decides an assignment's scores: the grader's code, the hidden tests,
    the reference solutions (earlier chapters' included). A change regrades on --resume."""
    files = sorted(p for folder in ("grading", "sandbox", "toolkit")
                   for p in (PACKAGE / folder).rglob("*.py"))
    files += sorted((PACKAGE / "hidden").glob("*.py"))
    if assignment in assignments():
        path = reference.solution_path(assignment)
        files.append(path)
        notebook = json.loads(path.read_text(encoding="utf-8"))
        files += [reference.solution_path(a) for a in reference.earlier_chapters(notebook)]
    return submissions.digest(*files, extra=assignment)


def submission_key(sub: Submission, settings: str, policy: late.Policy) -> str:
    """What --resume compares: the notebook's content, its timestamp, the grader's
    fingerprint, the late policy and the settings (limits). Never modification times."""
    stamp = sub.folder / "timestamp.txt" if sub.folder else None
    return submissions.digest(sub.notebook, stamp, extra="\0".join([
        grader_fingerprint(sub.assignment), policy.fingerprint(sub.assignment), settings,
        sub.status or "", sub.note]))


def is_done(out: str | Path, sub: Submission, key: str) -> bool:
    """True when OUT holds this submission's results for exactly this key."""
    path = results.results_path(out, sub.student, sub.assignment)
    try:
        record = results.read_results(path)
    except (OSError, ValueError):
        return False
    return record.get("key") == key and record.get("status") != "failed"


# ---------------------------------------------------------------- grading one submission

def timed_out(record: dict) -> bool:
    """True when a call or a cell of the notebook ran past its deadline."""
    return "took longer than" in record.get("output", "") or any(
        "did not return within" in t.get("output", "") for t in record.get("tests", []))


class SubmissionDeadline(BaseException):
    """A submission took longer than --submission-timeout in all (a BaseException, so that
    no ``except Exception`` of a hidden test mistakes it for the student's error)."""


def within(seconds: float, function, *args):
    """function(*args), interrupted by SubmissionDeadline after ``seconds`` (main thread
    only: elsewhere, or for 0 seconds, without a deadline)."""
    def ring(signum, frame):
        raise SubmissionDeadline()
    try:
        previous = signal.signal(signal.SIGALRM, ring)
    except ValueError:                  # not the main thread
        return function(*args)
    if seconds > 0:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def grade_record(sub: Submission, limits: sandbox.Limits, sandboxed: bool,
                 policy: late.Policy, max_bytes: int,
                 deadline: float = 0) -> tuple[dict, str, list[str]]:
    """(results dict, status, notes) of one submission."""
    started = time.monotonic()
    notes = [sub.note] if sub.note else []
    if sub.assignment not in assignments():
        return ({"score": 0, "output": "Unknown assignment %r." % sub.assignment, "tests": []},
                "unknown assignment", notes)
    tests = runner.hidden_tests(sub.assignment)
    if sub.status or sub.notebook is None:
        message = sub.note or "No notebook found (expected %s.ipynb)." % sub.assignment
        return runner.unreadable(tests, message, started), sub.status or "no notebook", notes
    try:
        text, read_note = submissions.read(sub.notebook, max_bytes)
    except submissions.Unreadable as bad:
        return runner.unreadable(tests, str(bad), started), bad.status, notes
    notes += [read_note] if read_note else []
    try:
        record = within(deadline, runner.grade_notebook, text, sub.assignment, limits,
                        sandboxed)
    except SubmissionDeadline:
        message = ("Grading stopped after %g s for the whole notebook (calls that hang or "
                   "run slowly, again and again); nothing could be scored." % deadline)
        return runner.unreadable(tests, message, started), "timed out", notes
    status = "timed out" if timed_out(record) else "graded"
    final, lateness, late_status, late_note = late.assess(policy, sub.assignment, sub.folder,
                                                          record["score"])
    record["raw_score"], record["score"], record["late"] = record["score"], final, lateness
    if late_status and status == "graded":
        status = late_status
    return record, status, notes + ([late_note] if late_note else [])


def grade_one(sub: Submission, out: str | Path, limits: sandbox.Limits, sandboxed: bool,
              policy: late.Policy = late.Policy(due={}), key: str = "",
              max_bytes: int = submissions.MAX_BYTES,
              deadline: float = 0) -> tuple[float, float, str]:
    """Grade one submission and write its results.json; returns (score, max, status)."""
    record, status, notes = grade_record(sub, limits, sandboxed, policy, max_bytes, deadline)
    note = "; ".join(n for n in notes if n)
    record.setdefault("raw_score", record["score"])
    record.update(student=sub.student, assignment=sub.assignment, key=key, note=note,
                  notebook=sub.notebook.name if sub.notebook else None)
    if note and note not in record.get("output", ""):
        record["output"] = "\n".join(filter(None, [note[0].upper() + note[1:] + ".",
                                                   record.get("output", "")]))
    results.write_results(out, sub.student, sub.assignment, record, status)
    return record["score"], sum(t["max_score"] for t in record["tests"]), status


def record_failure(out: str | Path, sub: Submission, error: BaseException) -> None:
    """results.json for a submission the grader itself failed on (status "failed")."""
    where = "".join(traceback.format_exception_only(type(error), error)).strip()
    results.write_results(out, sub.student, sub.assignment, {
        "score": 0, "raw_score": 0, "tests": [], "student": sub.student,
        "assignment": sub.assignment, "note": "the grader failed: %s" % where[:300],
        "output": "This submission could not be graded (a grader error); it will be "
                  "graded again."}, "failed")


# ---------------------------------------------------------------- the pool and its signals

def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, "rb") as f:
                    stat = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry))
    return found


def _die(signum: int = 0, frame: object = None) -> None:
    """In a pool process: kill the sandboxes it started (their process groups), exit."""
    for child in _children(os.getpid()):
        for kill in (os.killpg, os.kill):
            try:
                kill(child, signal.SIGKILL)
            except OSError:
                pass
    os._exit(1)


def _init_pool_process(parent: int) -> None:
    """Pool processes leave Ctrl-C to the grader and die with it (PR_SET_PDEATHSIG)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _die)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:        # the grader died before the signal was armed
        _die()


class Stop:
    """Remembers the first SIGINT/SIGTERM; the grading loop checks it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.broken = False         # a pool process died under the grader

    def __call__(self, signum: int, frame: object) -> None:
        if self.signum is not None:       # a second Ctrl-C: stop at once
            os._exit(128 + signum)
        self.signum = signum

    def install(self) -> None:
        signal.signal(signal.SIGINT, self)
        signal.signal(signal.SIGTERM, self)


def stop_pool(pool: concurrent.futures.ProcessPoolExecutor, grace: float = 2.0) -> None:
    """Cancel pending work and kill the pool's processes (and so their sandboxes)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(1)


# ---------------------------------------------------------------- progress and summary

def clock(seconds: float) -> str:
    """12s, 3m05s, 1h02m."""
    seconds = int(seconds)
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dm%02ds" % divmod(seconds, 60)
    return "%dh%02dm" % (seconds // 3600, seconds % 3600 // 60)


class Progress:
    """A running count, rate and time left on stderr: one line updated in place on a
    terminal, one plain line per submission otherwise."""

    def __init__(self, total: int, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.total, self.done = total, 0
        self.started = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def line(self, what: str) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0
        return "[%d/%d] %.1f/s, %s left: %s" % (self.done, self.total, rate, clock(left), what)

    def update(self, sub: Submission, score: float, most: float, status: str) -> None:
        self.done += 1
        text = self.line("%s %s: %s/%s (%s)" % (sub.student, sub.assignment,
                                                results._number(score),
                                                results._number(most), status))
        if self.tty:
            self.stream.write("\r\033[K" + text[:200])
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
            self.stream.flush()


def summary(counts: Counter, seconds: float) -> str:
    """'summary: 12 graded, 1 late, 0 failed, ... in 3m05s'."""
    named = ["%d %s" % (counts.get(s, 0), s) for s in SUMMARY
             if counts.get(s, 0) or s in ("graded", "failed", "timed out", "unreadable",
                                          "empty", "no notebook", "late")]
    named += ["%d %s" % (n, s) for s, n in sorted(counts.items()) if s not in SUMMARY]
    return "summary: %s in %s" % (", ".join(named), clock(seconds))


def resume_command(argv: list[str]) -> str:
    """The command line that resumes this run."""
    prog = "backprop-grader" if Path(sys.argv[0]).name == "backprop-grader" else \
        "python -m autograder"
    argv = list(argv) + ([] if "--resume" in argv else ["--resume"])
    return shlex.join([*prog.split(), *argv])


# ---------------------------------------------------------------- the commands

def settings(limits: sandbox.Limits, sandboxed: bool, max_bytes: int,
             deadline: float = 0) -> str:
    """The options that change a grade (part of the --resume key)."""
    return repr((limits, sandboxed, max_bytes, deadline))


def plan(args: argparse.Namespace, policy: late.Policy, limits: sandbox.Limits,
         sandboxed: bool) -> tuple[list[tuple[Submission, str]], int]:
    """(submissions to grade with their --resume keys, how many were skipped as done)."""
    found = [s for s in submissions.find(args.path, args.assignment, assignments())
             if in_shard(s, args.shard)]
    todo, skipped = [], 0
    for sub in found:
        key = submission_key(sub, settings(limits, sandboxed, args.max_mb << 20,
                                           args.submission_timeout), policy)
        if args.resume and is_done(args.out, sub, key):
            skipped += 1
        else:
            todo.append((sub, key))
    return todo, skipped


def preload(todo: list[tuple[Submission, str]]) -> None:
    """Load the references and hidden tests once, before the pool forks."""
    for name in sorted({sub.assignment for sub, _ in todo} & set(assignments())):
        reference.load_reference(name)
        runner.hidden_tests(name)


def run_pool(todo: list[tuple[Submission, str]], args: argparse.Namespace,
             job: functools.partial, stop: Stop) -> Counter:
    """Grade ``todo`` in ``args.jobs`` processes; returns the count of each status."""
    counts: Counter = Counter()
    progress = Progress(len(todo))
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=args.jobs, mp_context=multiprocessing.get_context("fork"),
        initializer=_init_pool_process, initargs=(os.getpid(),))
    pending = {}
    try:
        for sub, key in todo:
            pending[pool.submit(job, sub, key=key)] = sub
        while pending and stop.signum is None:
            done, _ = concurrent.futures.wait(pending, timeout=0.5,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                sub = pending.pop(future)
                try:
                    score, most, status = future.result()
                except concurrent.futures.process.BrokenProcessPool:
                    # a pool process was killed (by a stop signal sent to the whole job,
                    # or from outside): nothing more can be graded in this run
                    if stop.signum is None:
                        stop.broken = True
                        stop.signum = signal.SIGTERM
                    break
                except Exception as error:      # a bug of the grader on this submission
                    record_failure(args.out, sub, error)
                    score, most, status = 0, 0, "failed"
                counts[status] += 1
                progress.update(sub, score, most, status)
    finally:
        progress.close()
        if stop.signum is not None or pending:
            stop_pool(pool)
        else:
            pool.shutdown(wait=True)
    return counts


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


def grade(args: argparse.Namespace) -> int:
    """The ``grade`` command."""
    limits, sandboxed = sandbox_for(args)
    policy = late.load_policy(late.find_config(args.config, args.path))
    todo, skipped = plan(args, policy, limits, sandboxed)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    print("grading %d submission(s) with %d job(s)%s%s%s" % (
        len(todo), args.jobs, "" if sandboxed else ", no sandbox",
        ", shard %d/%d" % args.shard if args.shard else "",
        ", %d unchanged since the last run" % skipped if args.resume else ""), file=sys.stderr)
    preload(todo)
    job = functools.partial(grade_one, out=args.out, limits=limits, sandboxed=sandboxed,
                            policy=policy, max_bytes=args.max_mb << 20,
                            deadline=args.submission_timeout)
    stop = Stop()
    stop.install()
    started = time.monotonic()
    counts = run_pool(todo, args, job, stop)
    rows = results.write_grades(args.out)
    print(summary(counts, time.monotonic() - started), file=sys.stderr)
    if stop.signum is not None:
        why = "a grading process was killed" if stop.broken else \
            "stopped by %s" % signal.Signals(stop.signum).name
        print("%s after %d of %d submission(s); grades.csv has what is done. Resume with:\n"
              "  %s" % (why, sum(counts.values()), len(todo), resume_command(args.argv)),
              file=sys.stderr)
        return 1 if stop.broken else 128 + stop.signum
    publish(args)
    print(results.table(rows) if rows else "no submissions found under %s" % args.path)
    return 0


def merge(args: argparse.Namespace) -> int:
    """The ``merge`` command: the output folders of shards into one."""
    missing = [p for p in args.parts if not Path(p).is_dir()]
    if missing:
        raise FileNotFoundError("no such folder: %s" % ", ".join(missing))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    conflicts = results.merge(args.parts, args.out)
    for key in conflicts:
        print("warning: %s is in several parts with different results; kept the last"
              % key, file=sys.stderr)
    rows = results.write_grades(args.out)
    publish(args)
    print(results.table(rows) if rows else "no results found in %s" % " ".join(args.parts))
    return 0


# ---------------------------------------------------------------- arguments

def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def shard(text: str) -> tuple[int, int]:
    """'K/N' -> (K, N) with 1 <= K <= N."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected K/N, e.g. 3/8") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError("K/N needs 1 <= K <= N (got %s)" % text)
    return k, n


def add_grade_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``grade`` command's options."""
    g = sub.add_parser("grade", help="grade submissions")
    g.add_argument("path", help="nbgrader submitted/ folder, or one notebook")
    g.add_argument("--out", required=True, help="folder for results.json files and grades.csv")
    g.add_argument("--jobs", type=int, default=default_jobs(),
                   help="submissions graded at once (default: the cores, %d here)"
                   % default_jobs())
    g.add_argument("--assignment", help="grade only this assignment (or: name of the notebook's)")
    g.add_argument("--resume", action="store_true",
                   help="skip submissions graded before whose notebook, timestamp, hidden "
                        "tests and settings are unchanged (compared by content hash)")
    g.add_argument("--shard", type=shard, metavar="K/N",
                   help="grade only the K-th of N disjoint parts (a job array; see merge)")
    g.add_argument("--config", help="late-work configuration (TOML or JSON; default: "
                                    "backprop-grader.toml here or next to PATH)")
    g.add_argument("--no-sandbox", action="store_true",
                   help="run students' code without bubblewrap (trusted notebooks only)")
    add_sandbox_options(g)
    g.add_argument("--timeout", type=float, default=10.0,
                   help="seconds allowed for one call or one cell (default 10)")
    g.add_argument("--memory-mb", type=int, default=1024,
                   help="address-space limit of the sandbox in MiB (default 1024)")
    g.add_argument("--submission-timeout", type=float, default=300.0,
                   help="seconds allowed for grading one notebook in all, 0 for no limit "
                        "(default 300); past it the status is \"timed out\"")
    g.add_argument("--max-mb", type=int, default=submissions.MAX_BYTES >> 20,
                   help="refuse notebooks larger than this, in MiB (default %d)"
                   % (submissions.MAX_BYTES >> 20))
    add_publish_options(g)
    return g


def add_merge_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``merge`` command's options."""
    m = sub.add_parser("merge", help="combine the output folders of --shard runs")
    m.add_argument("parts", nargs="+", help="the shards' --out folders")
    m.add_argument("--out", required=True, help="folder for the merged results and grades.csv")
    add_publish_options(m)
    return m


def add_publish_options(p: argparse.ArgumentParser) -> None:
    """Where scores and feedback go after grading (grade and merge)."""
    p.add_argument("--course", help="nbgrader course directory whose gradebook gets the scores "
                   "(default: the one holding the current directory, if any)")
    p.add_argument("--no-gradebook", action="store_true",
                   help="do not write scores into nbgrader's gradebook")
    p.add_argument("--feedback", help="folder for the feedback pages (default: the course's "
                   "feedback/, else OUT/feedback)")


def add_gradescope_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``gradescope`` command's options."""
    gs = sub.add_parser("gradescope", help="build the Gradescope autograder zip")
    gs.add_argument("--out", required=True, help="the zip to write (e.g. autograder.zip)")
    gs.add_argument("--assignment", action="append", dest="assignments", metavar="NAME",
                    help="an assignment the zip grades (repeat; default: all)")
    gs.add_argument("--config", help="gradescope.json settings: visibility per test, "
                    "sandbox, limits (see autograder/course/gradescope.py)")
    return gs


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
    add_grade_parser(sub)
    add_merge_parser(sub)
    add_gradescope_parser(sub)
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
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command == "grade":
            if args.jobs < 1:
                parser().error("--jobs must be at least 1")
            return grade(args)
        if args.command == "merge":
            return merge(args)
        if args.command == "gradescope":
            return gradescope_zip(args)
    except (sandbox.SandboxUnavailable, FileNotFoundError, late.ConfigError) as error:
        print("error: %s" % error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:       # Ctrl-C before grading started: nothing to write
        print("interrupted before grading started", file=sys.stderr)
        return 130
    return 1
