"""Benchmark a whole course: N students x every chapter, this grader and stock nbgrader.

Usage: ``python scripts/bench_course.py [--students N] [--nbgrader M] [--jobs J]
[--chapters NAME...]``
(``make bench-course``). It writes N students' submissions of every chapter in
nbgrader's layout (cycling complete, partial, untouched and broken notebooks made by
``autograder.course.samples``), grades them all with ``python -m autograder grade``
(sandboxed, J jobs), and grades the first M students' submissions of every chapter with
stock ``nbgrader autograde`` in a scratch course directory, in the same run. Peak memory is
the largest total resident memory of the grader's process tree (pool and sandboxes),
sampled every 0.1 s. The last line reads::

    course: <n> notebooks, <x> notebooks/s, nbgrader <y> notebooks/s, ratio <r>, peak memory <m> MiB

Machines are noisy and shared: compare the ratio, measured in one run.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.course.release import write_notebook  # noqa: E402
from autograder.course.samples import students  # noqa: E402
from autograder.grading.reference import assignments, solution_path  # noqa: E402

TARGET = (300, 8, 15 * 60)       # students, chapters, seconds on 2 cores


def environment():
    return dict(os.environ, PATH="%s:%s" % (Path(sys.executable).parent, os.environ["PATH"]),
                PYTHONPATH=str(ROOT))


def tree_rss(pid):
    """Total resident memory (bytes) of pid and all its descendants."""
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    found, frontier = {pid}, {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return sum(rss.get(p, 0) for p in found)


def run(cmd, cwd, measure=False):
    """Run a command (fail loudly); (seconds, peak tree memory in bytes or 0)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=environment())
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    if measure:
        sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit("%s failed:\n%s" % (" ".join(map(str, cmd)), out + err))
    return seconds, peak[0]


def make_submissions(dest, n, names):
    """n students x every assignment, cycling the sample kinds; returns the count."""
    count = 0
    for name in names:
        solution = json.loads(solution_path(name).read_text(encoding="utf-8"))
        exercise = json.loads((ROOT / "exercises" / name / ("%s.ipynb" % name))
                              .read_text(encoding="utf-8"))
        kinds = list(students(exercise, solution).values())
        for i in range(n):
            path = Path(dest) / ("s%04d" % i) / name / ("%s.ipynb" % name)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_notebook(path, kinds[i % len(kinds)])
            count += 1
    return count


def nbgrader_rate(scratch, submitted, m, names):
    """Notebooks per second of stock ``nbgrader autograde`` on the first m students."""
    course = scratch / "nbgrader_course"
    for name in names:
        shutil.copytree(ROOT / "solutions" / name, course / "source" / name)
        run([sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
             "--CourseDirectory.root=%s" % course], course)
        for i in range(m):
            src = submitted / ("s%04d" % i) / name
            shutil.copytree(src, course / "submitted" / src.parent.name / name)
    seconds = 0.0
    for name in names:
        seconds += run([sys.executable, "-m", "nbgrader", "autograde", name, "--create",
                        "--force", "--CourseDirectory.root=%s" % course], course)[0]
    return m * len(names) / seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=40)
    p.add_argument("--nbgrader", type=int, default=3, help="students graded by nbgrader")
    p.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--chapters", nargs="*", help="only these assignments (default: all)")
    args = p.parse_args()
    names = args.chapters or assignments()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        submitted = scratch / "submitted"
        n = make_submissions(submitted, args.students, names)
        print("%d students x %d chapters = %d notebooks, %d job(s)"
              % (args.students, len(names), n, args.jobs), flush=True)
        seconds, peak = run([sys.executable, "-m", "autograder", "grade", str(submitted),
                             "--out", str(scratch / "graded"), "--jobs", str(args.jobs)],
                            scratch, measure=True)
        ours = n / seconds
        print("autograder: %.1f s, %.2f notebooks/s" % (seconds, ours), flush=True)
        theirs = nbgrader_rate(scratch, submitted, min(args.nbgrader, args.students), names)
        print("nbgrader autograde (stock, %d notebooks): %.2f notebooks/s"
              % (min(args.nbgrader, args.students) * len(names), theirs), flush=True)
    s, c, limit = TARGET
    print("extrapolated: %d students x %d chapters = %d notebooks in %.1f min at this rate "
          "(target %d min on 2 cores); nbgrader would take %.0f min"
          % (s, c, s * c, s * c / ours / 60, limit // 60, s * c / theirs / 60))
    print("course: %d notebooks, %.2f notebooks/s, nbgrader %.2f notebooks/s, ratio %.1f, "
          "peak memory %.0f MiB" % (n, ours, theirs, ours / theirs, peak / 2**20))


if __name__ == "__main__":
    main()
