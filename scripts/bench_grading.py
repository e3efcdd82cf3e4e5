"""Benchmark: this autograder against stock ``nbgrader autograde``, same notebooks, same run.

Usage: ``python scripts/bench_grading.py [N] [ASSIGNMENT]`` (default 20 copies of
ch01_gates). It makes N submissions (the sample students, cycled), grades them with
``nbgrader autograde`` (a Jupyter kernel per notebook) and with ``python -m autograder
grade`` (sandboxed, with 1 job and with 2), and prints seconds per notebook and the ratios.
Machines are noisy: compare ratios measured in one run, not seconds across runs.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.course.samples import write_samples  # noqa: E402


def run(cmd, cwd):
    """Run a command, fail loudly, return the wall-clock seconds it took."""
    env = dict(os.environ, PATH="%s:%s" % (Path(sys.executable).parent, os.environ["PATH"]))
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit("%s failed:\n%s" % (" ".join(cmd), done.stdout + done.stderr))
    return time.perf_counter() - started


def make_course(course, assignment, n):
    """An nbgrader course folder with the assignment released and n submissions."""
    shutil.copytree(ROOT / "solutions" / assignment, course / "source" / assignment)
    run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
         "--CourseDirectory.root=%s" % course], course)
    samples = course / "samples"
    write_samples(samples)
    kinds = sorted(p.name for p in samples.iterdir())
    for i in range(n):
        src = samples / kinds[i % len(kinds)] / assignment / ("%s.ipynb" % assignment)
        dest = course / "submitted" / ("s%03d" % i) / assignment
        dest.mkdir(parents=True)
        shutil.copy(src, dest / src.name)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    assignment = sys.argv[2] if len(sys.argv) > 2 else "ch01_gates"
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        make_course(course, assignment, n)
        print("grading %d notebooks of %s (sample students, cycled)" % (n, assignment))
        stock = run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--create",
                     "--force", "--CourseDirectory.root=%s" % course], course)
        ours = {}
        for jobs in (1, 2):
            ours[jobs] = run([sys.executable, "-m", "autograder", "grade",
                              str(course / "submitted"), "--out",
                              str(course / ("graded%d" % jobs)), "--jobs", str(jobs)], ROOT)
    print("%-34s %8s %12s" % ("grader", "seconds", "s/notebook"))
    print("%-34s %8.2f %12.3f" % ("nbgrader autograde (stock)", stock, stock / n))
    for jobs, seconds in ours.items():
        print("%-34s %8.2f %12.3f" % ("autograder, sandboxed, %d job(s)" % jobs,
                                      seconds, seconds / n))
    print("speed-up per notebook, 1 job: %.1fx; 2 jobs: %.1fx"
          % (stock / ours[1], stock / ours[2]))


if __name__ == "__main__":
    main()
