"""Bad input gets a clear status, and the rest of the course is still graded."""
import csv
import json
import os
import subprocess
import sys

import pytest

from autograder.course import submissions
from autograder.course.samples import answer, solution_cells
from autograder.grading import runner
from autograder.grading.reference import ROOT, assignments, solution_path

NAME = "ch01_gates"


def solution(name=NAME):
    return json.loads(solution_path(name).read_text(encoding="utf-8"))


def as_v3(nb):
    """The notebook in nbformat 3 (worksheets; code cells keep their source in "input")."""
    cells = [{"cell_type": "code", "input": c["source"], "language": "python",
              "outputs": [], "metadata": {}} if c["cell_type"] == "code" else
             {"cell_type": "markdown", "source": c["source"], "metadata": {}}
             for c in nb["cells"]]
    return {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""},
            "worksheets": [{"cells": cells, "metadata": {}}]}


def write(folder, name, content):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content),
                        encoding="utf-8")
    return path


# ---------------------------------------------------------------- unit: choosing, reading

def test_browser_redownloads_are_matched_to_their_assignment(tmp_path):
    known = assignments()
    assert submissions.assignment_of("ch02_logistic (1)", known) == "ch02_logistic"
    assert submissions.assignment_of("ch02_logistic(2)", known) == "ch02_logistic"
    assert submissions.assignment_of("ch02_logistic-Copy1", known) == "ch02_logistic"
    assert submissions.assignment_of("my notes (1)", known) == "my notes (1)"
    folder = tmp_path / "s" / "ch02_logistic"
    write(folder, "ch02_logistic (1).ipynb", "{}")
    write(folder, "ch02_logistic(2).ipynb", "{}")
    write(folder, "notes.txt", "hi")
    chosen, status, note = submissions.choose(folder, "ch02_logistic")
    assert chosen.name == "ch02_logistic(2).ipynb" and status is None
    assert "re-download" in note and "ch02_logistic (1).ipynb" in note and "notes.txt" in note
    write(folder, "ch02_logistic.ipynb", "{}")
    assert submissions.choose(folder, "ch02_logistic")[0].name == "ch02_logistic.ipynb"


def test_two_unnamed_notebooks_are_reported_not_guessed(tmp_path):
    folder = tmp_path / "s" / NAME
    write(folder, "draft.ipynb", "{}")
    write(folder, "final.ipynb", "{}")
    chosen, status, note = submissions.choose(folder, NAME)
    assert chosen is None and status == "ambiguous"
    assert "draft.ipynb" in note and "final.ipynb" in note
    (folder / "draft.ipynb").unlink()
    chosen, status, note = submissions.choose(folder, NAME)
    assert chosen.name == "final.ipynb" and "only notebook" in note


@pytest.mark.parametrize("content, status, words", [
    (b"", "unreadable", "empty (0 bytes)"),
    (b"\n  \n", "unreadable", "empty"),
    (b"{not json", "unreadable", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "unreadable", "UTF-8"),
    (b'{"hello": 1}', "unreadable", "not a Jupyter notebook"),
    (b"[1, 2, 3]", "unreadable", "not a Jupyter notebook"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "markdown", "source": "hi"},
                                          {"cell_type": "code", "source": "# nothing\n"}]})
     .encode(), "empty", "no code"),
])
def test_bad_files_say_what_is_wrong(tmp_path, content, status, words):
    path = write(tmp_path, "nb.ipynb", content)
    with pytest.raises(submissions.Unreadable) as caught:
        submissions.read(path)
    assert caught.value.status == status and words in str(caught.value)


def test_a_huge_notebook_is_refused_from_its_size_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "big.ipynb"
    with open(path, "wb") as f:               # a sparse 200 MB file
        f.truncate(200 << 20)
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read it"))
    with pytest.raises(submissions.Unreadable) as caught:
        submissions.read(path)
    assert caught.value.status == "too large" and "200 MiB" in str(caught.value)


def test_an_nbformat_3_notebook_is_converted_and_grades_in_full():
    text, note = submissions.prepare(json.dumps(as_v3(solution())).encode())
    assert "nbformat 3" in note
    assert runner.grade_notebook(text, NAME)["score"] == runner.max_score(NAME)


# ---------------------------------------------------------------- the command, end to end

def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A course folder outside the repository with every kind of bad input, graded once."""
    course = tmp_path_factory.mktemp("course")
    sub = course / "submitted"
    full = solution()
    ch02 = solution("ch02_logistic")
    write(sub / "zero" / NAME, NAME + ".ipynb", b"")
    write(sub / "corrupt" / NAME, NAME + ".ipynb", "{not json")
    write(sub / "json" / NAME, NAME + ".ipynb", {"data": [1, 2]})
    write(sub / "blank" / NAME, NAME + ".ipynb",
          {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []})
    write(sub / "old" / NAME, NAME + ".ipynb", as_v3(full))
    write(sub / "redownload" / "ch02_logistic", "ch02_logistic (1).ipynb", ch02)
    write(sub / "redownload2" / "ch02_logistic", "ch02_logistic(2).ipynb", ch02)
    write(sub / "two" / NAME, "a.ipynb", full)
    write(sub / "two" / NAME, "b.ipynb", full)
    write(sub / "stray" / NAME, NAME + ".ipynb", full)
    write(sub / "stray" / NAME, "notes.pdf", b"%PDF")
    write(sub / "stray" / NAME, "scratch.ipynb", "{}")
    (sub / "nothing" / NAME).mkdir(parents=True)
    write(sub / "ana maría" / NAME, NAME + ".ipynb", full)
    write(sub / "李 雷" / NAME, NAME + ".ipynb", full)
    with open(write(sub / "huge" / NAME, NAME + ".ipynb", b""), "wb") as f:
        f.truncate(200 << 20)
    single = write(course, "ch02_logistic (1).ipynb", ch02)
    done = run_cli("grade", "submitted", "--out", "graded", "--jobs", "2", "--timeout", "5",
                   cwd=course)
    one = run_cli("grade", str(single), "--out", "one", "--jobs", "1", cwd=course)
    rows = {r["student"]: r for r in csv.DictReader(
        open(course / "graded" / "grades.csv", encoding="utf-8"))}
    return course, done, one, rows


def result(course, student, name=NAME):
    return json.loads((course / "graded" / student / name / "results.json")
                      .read_text(encoding="utf-8"))


@pytest.mark.parametrize("student, status, words", [
    ("zero", "unreadable", "0 bytes"),
    ("corrupt", "unreadable", "not valid JSON"),
    ("json", "unreadable", "not a Jupyter notebook"),
    ("blank", "empty", "no code"),
    ("two", "ambiguous", "a.ipynb, b.ipynb"),
    ("nothing", "no notebook", "no notebook"),
    ("huge", "too large", "200 MiB"),
])
def test_each_bad_submission_has_its_status_and_says_why(graded, student, status, words):
    course, done, _, rows = graded
    assert done.returncode == 0, done.stderr
    assert rows[student]["status"] == status and rows[student]["score"] == "0"
    assert words in result(course, student)["output"]
    if status in ("ambiguous", "no notebook"):
        assert words in rows[student]["note"]


def test_good_submissions_beside_the_bad_ones_are_graded_in_full(graded):
    course, done, _, rows = graded
    most = str(runner.max_score(NAME))
    for student in ("old", "stray", "ana maría", "李 雷"):
        assert rows[student]["status"] == "graded", rows[student]
        assert rows[student]["score"] == most
    assert "nbformat 3" in rows["old"]["note"]
    assert "notes.pdf" in rows["stray"]["note"] and "scratch.ipynb" in rows["stray"]["note"]
    most2 = str(runner.max_score("ch02_logistic"))
    for student, file in (("redownload", "ch02_logistic (1).ipynb"),
                          ("redownload2", "ch02_logistic(2).ipynb")):
        assert rows[student]["assignment"] == "ch02_logistic"
        assert rows[student]["score"] == most2 and rows[student]["status"] == "graded"
        assert result(course, student, "ch02_logistic")["notebook"] == file
    assert "summary:" in done.stderr and "4 unreadable" not in done.stderr
    assert "3 unreadable" in done.stderr and "1 empty" in done.stderr


def test_a_redownloaded_notebook_given_alone_is_graded_as_its_assignment(graded):
    course, _, one, _ = graded
    assert one.returncode == 0, one.stderr
    rows = list(csv.DictReader(open(course / "one" / "grades.csv", encoding="utf-8")))
    assert [r["assignment"] for r in rows] == ["ch02_logistic"]
    assert rows[0]["score"] == rows[0]["max_score"] != "0"


def test_deleted_and_metadata_stripped_cells_grade_by_function_name():
    nb = solution()
    sols = solution_cells(nb)
    first = list(sols)[0]
    for cell in nb["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)
    nb["cells"] = [c for c in nb["cells"] if c["cell_type"] == "code"]   # markdown deleted
    nb["cells"].reverse()                                                # reordered
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "source": answer(sols[first]["source"])})        # duplicated
    text, _ = submissions.prepare(json.dumps(nb).encode())
    got = runner.grade_notebook(text, NAME)
    assert got["score"] == runner.max_score(NAME), [
        t["output"] for t in got["tests"] if t["score"] < t["max_score"]]
