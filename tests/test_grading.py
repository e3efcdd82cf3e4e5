"""Grading whole notebooks through the command line, in the sandbox."""
import csv
import json
import subprocess
import sys

import pytest

from autograder.course.samples import answer, solution_cells, students
from autograder.grading import runner
from autograder.grading.reference import ROOT, assignments, solution_path
from autograder.sandbox import Limits

ASSIGNMENTS = assignments()
FAST = Limits(call_timeout=2, cell_timeout=2)


def notebooks(name):
    solution = json.loads(solution_path(name).read_text(encoding="utf-8"))
    exercise = json.loads((ROOT / "exercises" / name / ("%s.ipynb" % name)).read_text())
    return solution, exercise


def grade(nb, name):
    return runner.grade_notebook(json.dumps(nb), name, FAST)


def per_test(results):
    return {t["name"]: t["score"] for t in results["tests"]}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_scores_full_marks_and_exercise_zero(name):
    solution, exercise = notebooks(name)
    full = grade(solution, name)
    assert full["score"] == runner.max_score(name) > 0, [
        (t["name"], t["output"]) for t in full["tests"] if t["score"] < t["max_score"]]
    assert full["output"] == ""
    stub = grade(exercise, name)
    assert stub["score"] == 0
    assert all("stub" in t["output"] for t in stub["tests"]), [
        t["output"] for t in stub["tests"]]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_samples_score_between_zero_and_full(name):
    solution, exercise = notebooks(name)
    samples = students(exercise, solution)
    most = runner.max_score(name)
    partial = grade(samples["ben_partial"], name)
    assert 0 < partial["score"] < most
    broken = grade(samples["dee_syntax_error"], name)
    assert "SyntaxError" in broken["output"] and broken["score"] < most
    first = list(solution_cells(solution))[0]
    missing = [t for t in broken["tests"] if t["score"] == 0]
    assert missing and all(first in t["output"] for t in missing)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_moved_and_duplicated_cells_still_grade(name):
    """Answers are found by name: reorder the cells, duplicate one, rename ids."""
    solution, _ = notebooks(name)
    nb = json.loads(json.dumps(solution))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    sols = [c for c in code if c["metadata"].get("nbgrader", {}).get("solution")]
    for c in nb["cells"]:
        c["metadata"] = {}
    nb["cells"] = nb["cells"] + [json.loads(json.dumps(sols[0]))]
    nb["cells"].remove(sols[-1])
    nb["cells"].insert(2, sols[-1])
    assert grade(nb, name)["score"] == runner.max_score(name)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_renamed_function_scores_like_its_stub_and_says_so(name):
    solution, exercise = notebooks(name)
    graded = set(runner.graded_functions(name))
    fid, cell = [(f, c) for f, c in solution_cells(solution).items() if f in graded][-1]
    renamed = json.loads(json.dumps(solution))
    target = solution_cells(renamed)[fid]
    target["source"] = answer(cell["source"]).replace("def %s(" % fid, "def my_%s(" % fid)
    stubbed = json.loads(json.dumps(solution))
    solution_cells(stubbed)[fid]["source"] = solution_cells(exercise)[fid]["source"]
    got, want = grade(renamed, name), grade(stubbed, name)
    assert per_test(got) == per_test(want)
    lost = [t for t in got["tests"] if t["score"] == 0]
    assert lost and any("No function named `%s`" % fid in t["output"] for t in lost)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_cli_grades_a_submitted_folder(tmp_path):
    from autograder.course.samples import write_samples
    submitted = tmp_path / "submitted"
    write_samples(submitted)
    (submitted / "zed" / "ch01_gates").mkdir(parents=True)
    (submitted / "zed" / "ch01_gates" / "ch01_gates.ipynb").write_text("{not json")
    (submitted / "yan" / "ch99_unknown").mkdir(parents=True)
    out = tmp_path / "graded"
    done = run_cli("grade", str(submitted), "--out", str(out), "--jobs", "2", "--timeout", "3")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert len(rows) == 4 * len(ASSIGNMENTS) + 2
    by = {(r["student"], r["assignment"]): r for r in rows}
    for name in ASSIGNMENTS:
        assert by[("ada_complete", name)]["score"] == by[("ada_complete", name)]["max_score"]
        assert by[("cy_untouched", name)]["score"] == "0"
    assert by[("zed", "ch01_gates")]["score"] == "0"
    assert by[("yan", "ch99_unknown")]["status"] == "unknown assignment"
    result = json.loads((out / "ada_complete" / "ch01_gates" / "results.json").read_text())
    assert set(result) >= {"score", "tests", "output", "execution_time"}
    assert all(set(t) >= {"name", "score", "max_score", "output", "visibility"}
               for t in result["tests"])
    assert "grading %d submission" % (len(rows)) in done.stderr
    again = run_cli("grade", str(submitted), "--out", str(out), "--resume")
    assert "grading 0 submission" in again.stderr and again.returncode == 0


def test_cli_grades_one_notebook_and_fails_only_for_its_own_errors(tmp_path):
    done = run_cli("grade", str(solution_path("ch01_gates")), "--out", str(tmp_path))
    assert done.returncode == 0 and "ch01_gates" in done.stdout
    assert run_cli("grade", str(tmp_path / "nowhere"), "--out", str(tmp_path)).returncode == 2
    assert run_cli("grade", "x", "--out", str(tmp_path), "--jobs", "0").returncode == 2


def test_without_bubblewrap_grading_stops_with_advice(tmp_path):
    env_path = tmp_path / "bin"
    env_path.mkdir()
    (env_path / "prlimit").symlink_to("/usr/bin/prlimit")
    done = subprocess.run([sys.executable, "-m", "autograder", "grade",
                           str(solution_path("ch01_gates")), "--out", str(tmp_path / "o")],
                          cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": str(env_path)})
    assert done.returncode == 2
    assert "apt-get install bubblewrap" in done.stderr and "--no-sandbox" in done.stderr
