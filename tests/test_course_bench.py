"""A smoke test of the course benchmark (two students): it runs and ends with its line."""
import re
import subprocess
import sys

from autograder.grading.reference import ROOT


def test_bench_course_runs_with_two_students():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_course.py"),
                           "--students", "2", "--nbgrader", "1", "--jobs", "2",
                           "--chapters", "ch01_gates"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"course: \d+ notebooks, [\d.]+ notebooks/s, nbgrader [\d.]+ "
                        r"notebooks/s, ratio [\d.]+, peak memory \d+ MiB", last), last
