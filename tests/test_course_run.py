"""One command for the course, safe to stop: signals, orphans, --resume, --shard and merge.

The signal tests stop a real grading run while sandboxes are busy with notebooks that
hang, and then look for any process of the run that survived.
"""
import csv
import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

from autograder import cli
from autograder.course import late, submissions
from autograder.grading.reference import ROOT, solution_path

NAME = "ch01_gates"
HANG = "hang = sum(1 for _ in iter(int, 1))\n"      # an endless loop at load time


def notebook(extra_cell=None):
    nb = json.loads(solution_path(NAME).read_text(encoding="utf-8"))
    if extra_cell:
        nb["cells"].insert(0, {"cell_type": "code", "metadata": {}, "outputs": [],
                               "execution_count": None, "source": extra_cell})
    return json.dumps(nb)


def course(tmp_path, quick=2, hanging=0, good=0):
    sub = tmp_path / "submitted"
    for i in range(quick):
        folder = sub / ("a_quick%d" % i) / NAME
        folder.mkdir(parents=True)
        (folder / (NAME + ".ipynb")).write_bytes(b"")
    for i in range(good):
        folder = sub / ("g_good%d" % i) / NAME
        folder.mkdir(parents=True)
        (folder / (NAME + ".ipynb")).write_text(notebook())
    for i in range(hanging):
        folder = sub / ("h_hang%d" % i) / NAME
        folder.mkdir(parents=True)
        (folder / (NAME + ".ipynb")).write_text(notebook(HANG))
    return sub


def env():
    return dict(os.environ, PYTHONPATH=str(ROOT))


def start(tmp_path, *args):
    log = open(tmp_path / "stderr.txt", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "submitted",
                             "--out", "graded", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=log, text=True, env=env(), start_new_session=True)
    return proc, tmp_path / "stderr.txt"


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def descendants(pid):
    """Every process below pid (from /proc's parent links)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def commands(pids):
    names = {}
    for pid in pids:
        try:
            with open("/proc/%d/comm" % pid) as f:
                names[pid] = f.read().strip()
        except OSError:
            pass
    return names


def wait_for_sandboxes(proc, log, done_line, count=2, sandboxed=True):
    """Wait until `done_line` is in the log and `count` sandboxes (bwrap, or with
    --no-sandbox: workers below the pool processes) run; the pids below the grader."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        below = descendants(proc.pid)
        workers = sum(1 for n in commands(below).values() if n == "bwrap") if sandboxed \
            else len(below) - 2
        if done_line in log.read_text() and workers >= count:
            time.sleep(1)        # let the hanging cells start
            return descendants(proc.pid)
        time.sleep(0.2)
    pytest.fail("no sandboxes started: %s" % log.read_text())


def wait_gone(pids, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.1)
    return commands(left)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_ends_the_run_within_seconds_with_grades_and_a_resume_command(
        tmp_path, signum):
    course(tmp_path, quick=2, hanging=4)
    proc, log = start(tmp_path, "--jobs", "2", "--timeout", "120")
    busy = wait_for_sandboxes(proc, log, "[2/6]")
    sent = time.monotonic()
    os.killpg(proc.pid, signum)      # as a terminal's Ctrl-C does: the whole job
    proc.wait(timeout=15)
    took = time.monotonic() - sent
    err = log.read_text()
    assert took < 5, err
    assert proc.returncode == 128 + signum, err
    assert wait_gone(busy, 3) == []
    rows = list(csv.DictReader(open(tmp_path / "graded" / "grades.csv")))
    assert sorted(r["student"] for r in rows) == ["a_quick0", "a_quick1"]
    assert "stopped by %s after 2 of 6" % signal.Signals(signum).name in err
    resume = err.split("Resume with:\n", 1)[1].strip().splitlines()[0]
    assert "--resume" in resume and "--timeout 120" in resume
    # the hanging notebooks are fixed, then the printed command finishes the course
    for i in range(4):
        (tmp_path / "submitted" / ("h_hang%d" % i) / NAME / (NAME + ".ipynb")).write_text(
            notebook())
    argv = shlex.split(resume)
    assert argv[:3] == ["python", "-m", "autograder"]
    again = subprocess.run([sys.executable, *argv[1:]], cwd=tmp_path, capture_output=True,
                           text=True, timeout=600, env=env())
    assert again.returncode == 0, again.stderr
    assert "grading 4 submission(s)" in again.stderr and "2 unchanged" in again.stderr
    rows = list(csv.DictReader(open(tmp_path / "graded" / "grades.csv")))
    assert len(rows) == 6 and sum(r["status"] == "graded" for r in rows) == 4


@pytest.mark.parametrize("sandboxed", [True, False], ids=["bwrap", "no-sandbox"])
def test_a_killed_grader_leaves_no_process_behind(tmp_path, sandboxed):
    course(tmp_path, quick=1, hanging=3)
    more = [] if sandboxed else ["--no-sandbox"]
    proc, log = start(tmp_path, "--jobs", "2", "--timeout", "120", *more)
    busy = wait_for_sandboxes(proc, log, "[1/4]", sandboxed=sandboxed)
    assert len(busy) >= (6 if sandboxed else 4), commands(busy)   # pool, sandboxes
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)
    assert wait_gone(busy, 5) == []


def test_resume_compares_contents_not_modification_times(tmp_path, monkeypatch):
    sub = course(tmp_path, quick=1, good=2)
    out = tmp_path / "graded"
    args = cli.parser().parse_args(["grade", str(sub), "--out", str(out), "--resume"])
    policy = late.Policy(due={})
    limits = cli.sandbox.Limits()
    todo, skipped = cli.plan(args, policy, limits, True)
    assert (len(todo), skipped) == (3, 0)
    for s, key in todo:
        cli.grade_one(s, out, limits, True, policy, key)
    assert cli.plan(args, policy, limits, True)[1] == 3
    first = sub / "g_good0" / NAME / (NAME + ".ipynb")
    os.utime(first, (time.time() + 3600, time.time() + 3600))      # touched, same content
    assert cli.plan(args, policy, limits, True)[1] == 3
    first.write_text(notebook("# a comment\n"))                      # changed
    assert [s.student for s, _ in cli.plan(args, policy, limits, True)[0]] == ["g_good0"]
    (sub / "g_good1" / NAME / "timestamp.txt").write_text("2026-11-30 10:00:00 UTC")
    assert len(cli.plan(args, policy, limits, True)[0]) == 2         # a new timestamp
    monkeypatch.setattr(cli, "grader_fingerprint", lambda a: "a changed hidden test")
    assert len(cli.plan(args, policy, limits, True)[0]) == 3         # everything again


def test_shards_are_disjoint_deterministic_and_cover_the_course():
    subs = [submissions.Submission("student %d" % i, "ch0%d" % (i % 4), None, None)
            for i in range(400)]
    parts = [[s.key for s in subs if cli.in_shard(s, (k, 3))] for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == sorted(s.key for s in subs)
    assert all(90 < len(p) < 180 for p in parts)
    assert parts[0] == [s.key for s in subs if cli.in_shard(s, (1, 3))]
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["grade", "x", "--out", "y", "--shard", "3/2"])


def test_shards_merged_equal_one_run_and_a_regrade_gives_the_same_scores(tmp_path):
    from autograder.course.samples import write_samples
    sub = tmp_path / "submitted"
    write_samples(sub)

    def grade(out, *more):
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", "submitted",
                               "--out", out, "--jobs", "2", *more], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600, env=env())
        assert done.returncode == 0, done.stderr
        return done

    grade("whole")
    grade("again")
    grade("part1", "--shard", "1/2")
    grade("part2", "--shard", "2/2")
    merged = subprocess.run([sys.executable, "-m", "autograder", "merge", "part1", "part2",
                             "--out", "merged"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600, env=env())
    assert merged.returncode == 0, merged.stderr

    def table(out):
        return (tmp_path / out / "grades.csv").read_text()

    assert table("whole") == table("again") == table("merged")
    assert table("part1") != table("part2")
    for path in (tmp_path / "whole").glob("*/*/results.json"):
        a, b = (json.loads((tmp_path / o / path.relative_to(tmp_path / "whole"))
                           .read_text()) for o in ("whole", "again"))
        assert [t["output"] for t in a["tests"]] == [t["output"] for t in b["tests"]]


def test_a_notebook_that_hangs_is_timed_out_and_the_others_graded(tmp_path):
    course(tmp_path, quick=1, hanging=1, good=1)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "submitted", "--out",
                           "graded", "--jobs", "2", "--timeout", "1"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600, env=env())
    assert done.returncode == 0, done.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "graded" / "grades.csv"))}
    assert rows["h_hang0"]["status"] == "timed out"
    assert rows["g_good0"]["status"] == "graded"
    assert rows["a_quick0"]["status"] == "unreadable"
    record = json.loads((tmp_path / "graded" / "h_hang0" / NAME / "results.json").read_text())
    assert "took longer than 1 s" in record["output"]
    assert "1 timed out" in done.stderr


class FakeTerminal:
    def __init__(self, tty):
        self.text, self.tty = "", tty

    def isatty(self):
        return self.tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "log"])
def test_progress_counts_rate_and_time_left(tty):
    stream = FakeTerminal(tty)
    progress = cli.Progress(4, stream)
    for i in range(2):
        progress.update(submissions.Submission("s%d" % i, NAME, None, None), 3, 17, "graded")
    progress.close()
    lines = stream.text.split("\r" if tty else "\n")
    assert "[2/4]" in stream.text and "/s, " in stream.text and " left: s1 ch01_gates: 3/17" \
        in stream.text
    assert stream.text.count("\n") == (1 if tty else 2) and len(lines) >= 2
    assert cli.default_jobs() == len(os.sched_getaffinity(0))
    assert cli.clock(3725) == "1h02m" and cli.clock(185) == "3m05s"


def test_a_notebook_slow_in_every_function_stops_at_the_submission_deadline(tmp_path):
    from autograder.course.samples import solution_cells
    names = list(solution_cells(json.loads(solution_path(NAME).read_text())))
    slow = "".join("def %s(*args, **kwargs):\n    while True:\n        pass\n\n" % n
                   for n in names)
    nb = json.loads(notebook())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": slow})
    folder = tmp_path / "submitted" / "slow" / NAME
    folder.mkdir(parents=True)
    (folder / (NAME + ".ipynb")).write_text(json.dumps(nb))
    course(tmp_path, quick=0, good=1)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "submitted", "--out",
                           "graded", "--jobs", "2", "--timeout", "1",
                           "--submission-timeout", "4"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env=env())
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "graded" / "grades.csv"))}
    assert rows["slow"]["status"] == "timed out" and rows["slow"]["score"] == "0"
    assert rows["g_good0"]["status"] == "graded" and rows["g_good0"]["score"] != "0"
    record = json.loads((tmp_path / "graded" / "slow" / NAME / "results.json").read_text())
    assert "Grading stopped after 4 s" in record["output"]


def test_merge_reports_a_submission_graded_differently_in_two_parts(tmp_path):
    from autograder.grading import results
    for part, score in (("p1", 3), ("p2", 5)):
        results.write_results(tmp_path / part, "ana maría", NAME,
                              {"score": score, "tests": [], "output": ""}, "graded")
    results.write_results(tmp_path / "p1", "bo", NAME, {"score": 1, "tests": []}, "graded")
    assert results.merge([tmp_path / "p1", tmp_path / "p2"], tmp_path / "all") == [
        "ana maría/%s" % NAME]
    rows = results.write_grades(tmp_path / "all")
    assert [(r["student"], r["score"]) for r in rows] == [("ana maría", 5), ("bo", 1)]
    assert not list((tmp_path / "all").rglob("*.tmp"))
