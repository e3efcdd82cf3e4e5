"""Scores into nbgrader's gradebook: a real course directory, built with nbgrader's own
commands, graded with ours, read back with ``nbgrader export``."""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import gradebook
from autograder.course.samples import solution_cells
from autograder.grading import runner
from autograder.grading.reference import ROOT, assignments, solution_path

nbgrader = pytest.importorskip("nbgrader")
NAME = "ch01_gates"
BIN = str(Path(sys.executable).parent)


def env():
    return dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
                PYTHONPATH=str(ROOT))


def run(cwd, *args):
    done = subprocess.run(list(args), cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def nbgrader_cmd(cwd, *args):
    return run(cwd, sys.executable, "-m", "nbgrader", *args, "--log-level=WARN")


def grade_cmd(cwd, *args):
    return run(cwd, sys.executable, "-m", "autograder", "grade", *args)


def written_answer_cell():
    """A markdown cell that nbgrader leaves to the instructor (a written answer)."""
    return {"cell_type": "markdown", "id": "written-answer",
            "metadata": {"nbgrader": {"grade": True, "solution": True, "locked": False,
                                      "points": 2, "grade_id": "written_answer",
                                      "schema_version": 3}},
            "source": ["Why does the add gate copy the gradient?\n", "\n",
                       "### BEGIN SOLUTION\n", "Its local derivative is 1.\n",
                       "### END SOLUTION\n"]}


def export(course):
    nbgrader_cmd(course, "export", "--to", "grades_export.csv")
    with open(course / "grades_export.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def with_stub(nb, fid):
    """A copy of ``nb`` where ``fid`` is still the stub."""
    nb = json.loads(json.dumps(nb))
    cell = solution_cells(nb)[fid]
    src = "".join(cell["source"])
    head, rest = src.split("### BEGIN SOLUTION", 1)
    cell["source"] = head + "raise NotImplementedError()\n" + rest.split("### END SOLUTION", 1)[1]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "backprop"\n')
    source = json.loads(solution_path(NAME).read_text(encoding="utf-8"))
    source["cells"].insert(6, written_answer_cell())
    (course / "source" / NAME).mkdir(parents=True)
    (course / "source" / NAME / ("%s.ipynb" % NAME)).write_text(json.dumps(source))
    for student in ("alice", "bob"):
        nbgrader_cmd(course, "db", "student", "add", student)
    nbgrader_cmd(course, "db", "assignment", "add", NAME)
    nbgrader_cmd(course, "generate_assignment", NAME, "--force")
    for student, nb in (("alice", source), ("bob", with_stub(source, "mul_backward"))):
        folder = course / "submitted" / student / NAME
        folder.mkdir(parents=True)
        (folder / ("%s.ipynb" % NAME)).write_text(json.dumps(nb))
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return course


def test_every_hidden_test_is_in_one_grade_cell():
    for name in assignments():
        cells = gradebook.grade_cells(name)
        assert sum(len(tests) for tests in cells.values()) == len(runner.hidden_tests(name))


def test_solution_grade_cells_carry_the_hidden_points():
    for name in assignments():
        nb = json.loads(solution_path(name).read_text(encoding="utf-8"))
        found = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]
                 for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")}
        assert {k: v["points"] for k, v in found.items()} == gradebook.cell_points(name)
        assert all(v["locked"] and not v["solution"] for v in found.values())
        assert sum(gradebook.cell_points(name).values()) == runner.max_score(name)
        assert not gradebook.set_grade_metadata(nb, name), "run python -m " \
            "autograder.course.gradebook, then make exercises"


def test_cell_scores_group_the_hidden_tests():
    record = runner.unreadable(runner.hidden_tests(NAME), "x", 0.0)
    record["tests"][1]["score"] = record["tests"][1]["max_score"]    # test_mul_backward
    scores = gradebook.cell_scores(NAME, record)
    assert scores["check_mul_backward"] == (2.0, 4.0)
    assert scores["check_add_backward"] == (0.0, 1.0)


def test_course_settings_read_nbgrader_config(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///%s/other.db'\n"
        "c.CourseDirectory.feedback_directory = 'fb'\n" % tmp_path)
    (tmp_path / "sub").mkdir()
    assert gradebook.find_course(tmp_path / "sub") == tmp_path
    db_url, feedback = gradebook.course_settings(tmp_path)
    assert db_url == "sqlite:///%s/other.db" % tmp_path
    assert feedback == tmp_path / "fb"


def test_scores_reach_nbgrader_export_and_manual_scores_survive(course):
    grade_cmd(course, "submitted", "--out", "graded")
    rows = export(course)
    full = runner.max_score(NAME)
    assert float(rows["alice"]["raw_score"]) == full
    assert float(rows["alice"]["max_score"]) == full + 2          # the written answer
    bob = json.loads((course / "graded" / "bob" / NAME / "results.json").read_text())
    assert float(rows["bob"]["raw_score"]) == bob["score"] <= full - 4   # mul_backward's cell

    from nbgrader.api import Gradebook
    url = "sqlite:///%s/gradebook.db" % course
    with Gradebook(url) as gb:
        assert gb.find_grade("check_mul_backward", NAME, NAME, "bob").score == 0
        assert gb.find_grade("check_mul_backward", NAME, NAME, "alice").score == 4
        written = gb.find_grade("written_answer", NAME, NAME, "alice")
        assert written.needs_manual_grade
        written.manual_score = 1.5                   # the instructor grades it by hand
        gb.db.commit()

    grade_cmd(course, "submitted", "--out", "graded")  # a regrade
    rows = export(course)
    assert float(rows["alice"]["raw_score"]) == full + 1.5
    with Gradebook(url) as gb:
        assert gb.find_grade("written_answer", NAME, NAME, "alice").manual_score == 1.5
    page = course / "feedback" / "bob" / NAME / ("%s.html" % NAME)
    assert "mul_backward" in page.read_text(encoding="utf-8")


def test_grade_with_course_option_from_elsewhere(course, tmp_path):
    shutil.rmtree(course / "feedback", ignore_errors=True)
    grade_cmd(tmp_path, str(course / "submitted"), "--out", str(tmp_path / "graded"),
              "--course", str(course))
    assert (course / "feedback" / "alice" / NAME / ("%s.html" % NAME)).is_file()
    assert not (tmp_path / "graded" / "feedback").exists()
