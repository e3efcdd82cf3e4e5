"""The Gradescope zip: built by our command, unzipped into a simulated /autograder
(``AUTOGRADER_ROOT``), set up by its own setup.sh (pip, offline here; no apt-get), and run
by its own run_autograder on sample submissions."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder.course import gradescope
from autograder.course.samples import students
from autograder.grading import runner
from autograder.grading.reference import ROOT, solution_path

NAME = "ch02_logistic"
BASE_PYTHON = shutil.which("python3", path=os.path.join(sys.base_prefix, "bin")) or "python3"


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory):
    config = tmp_path_factory.mktemp("cfg") / "gs.json"
    config.write_text(json.dumps({"tests": {"test_train": "hidden",
                                            "check_sigmoid": "after_due_date"}}))
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    done = cli("gradescope", "--out", str(out), "--assignment", NAME, "--config", str(config))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def root(zip_path):
    """/autograder, simulated: a folder every user can traverse (as on Gradescope), with
    the zip in source/ and setup.sh run."""
    top = Path(tempfile.mkdtemp(prefix="gradescope-", dir="/tmp"))
    os.chmod(top, 0o755)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(top / "source")
        for script in ("setup.sh", "run_autograder"):
            os.chmod(top / "source" / script, 0o755)
        env = dict(os.environ, AUTOGRADER_ROOT=str(top), BACKPROP_SKIP_APT="1",
                   BACKPROP_BASE_PYTHON=BASE_PYTHON)
        env.pop("PYTHONPATH", None)
        done = subprocess.run(["bash", str(top / "source" / "setup.sh")], env=env,
                              capture_output=True, text=True, timeout=900,
                              cwd=top / "source")
        assert done.returncode == 0, done.stdout + done.stderr
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def run_autograder(root, files, **config):
    """Put ``files`` {name: notebook dict or text} in submission/, run run_autograder;
    returns (results.json, completed process)."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    (root / "submission").mkdir()
    for name, content in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    settings = root / "source" / "gradescope.json"
    saved = settings.read_text()
    if config:
        settings.write_text(json.dumps(dict(json.loads(saved), **config)))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        done = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True,
                              text=True, timeout=600, cwd="/",
                              env=dict(env, AUTOGRADER_ROOT=str(root)))
    finally:
        settings.write_text(saved)
    results = json.loads((root / "results" / "results.json").read_text())
    return results, done


def notebooks():
    solution = json.loads(solution_path(NAME).read_text(encoding="utf-8"))
    exercise = json.loads((ROOT / "exercises" / NAME / ("%s.ipynb" % NAME)).read_text())
    return solution, exercise


def test_zip_layout(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        config = json.loads(zf.read("gradescope.json"))
    for script in ("setup.sh", "run_autograder"):
        assert script in names and modes[script] & stat.S_IXUSR
    assert "backprop-by-hand/pyproject.toml" in names
    assert "backprop-by-hand/autograder/hidden/test_%s.py" % NAME in names
    assert "backprop-by-hand/autograder/solutions/%s/%s.ipynb" % (NAME, NAME) in names
    assert not [n for n in names if "ch01_gates" in n or "__pycache__" in n]
    assert config["assignments"] == [NAME] and config["visibility"] == "visible"
    assert config["tests"]["test_train"] == "hidden"


def test_bad_settings_are_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"visibility": "sometimes"}))
    done = cli("gradescope", "--out", str(tmp_path / "a.zip"), "--config", str(bad))
    assert done.returncode == 2 and "visibility must be one of" in done.stderr
    with pytest.raises(gradescope.ConfigError, match="unknown setting"):
        gradescope.check_config({"visibilty": "hidden"})


def test_full_marks_for_the_solution_under_a_redownload_name(root):
    solution, _ = notebooks()
    results, done = run_autograder(root, {"%s (1).ipynb" % NAME: solution})
    assert done.returncode == 0, done.stdout + done.stderr
    assert results["score"] == runner.max_score(NAME)
    assert "Graded %s (1).ipynb" % NAME in results["output"]
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
    visibility = {t["name"].split(":")[0]: t["visibility"] for t in results["tests"]}
    assert visibility["sigmoid"] == "after_due_date"
    assert visibility["train_logistic"] == "hidden"
    assert visibility["logistic_backward"] == "visible"
    assert results["visibility"] == "visible" and results["stdout_visibility"] == "hidden"


def test_partial_submission_in_a_subfolder(root):
    solution, exercise = notebooks()
    partial = students(exercise, solution)["ben_partial"]
    results, done = run_autograder(root, {"work/%s.ipynb" % NAME: partial, "notes.txt": "hi"})
    assert done.returncode == 0, done.stderr
    assert 0 < results["score"] < runner.max_score(NAME)
    assert any(t["score"] == 0 and t["output"] for t in results["tests"])


def test_no_notebook_is_said(root):
    results, done = run_autograder(root, {"answers.txt": "nothing"})
    assert results["score"] == 0 and "No notebook found" in results["output"]
    assert len(results["tests"]) == len(runner.hidden_tests(NAME))


def test_user_mode_in_the_container(root):
    """Where bubblewrap cannot run: the same grades, students' code as nobody, and the
    grader's files (package, source, results) readable by root only."""
    solution, _ = notebooks()
    results, done = run_autograder(root, {"%s.ipynb" % NAME: solution}, sandbox="user")
    assert "sandbox: user" in done.stdout, done.stdout + done.stderr
    assert results["score"] == runner.max_score(NAME)
    package = next((root / "venv" / "lib").glob("python3*/site-packages/autograder"))
    for path in (package, root / "source", root / "results"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


def test_user_mode_student_cannot_read_the_installed_reference(root):
    solution, _ = notebooks()
    package = next((root / "venv" / "lib").glob("python3*/site-packages/autograder"))
    steal = json.loads(json.dumps(solution))
    for cell in steal["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "sigmoid":
            cell["source"] = ("import glob, os\ndef sigmoid(z):\n"
                              "    found = glob.glob(%r) + os.listdir(%r)\n"
                              "    raise ValueError(len(found))\n"
                              % (str(package / "solutions" / "*" / "*.ipynb"), str(package)))
    results, done = run_autograder(root, {"%s.ipynb" % NAME: steal}, sandbox="user")
    sigmoid = [t for t in results["tests"] if t["name"].startswith("sigmoid")]
    assert sigmoid and all("PermissionError" in t["output"] for t in sigmoid), results


def test_find_notebook_by_name_or_cells(tmp_path):
    solution, _ = notebooks()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "my work.ipynb").write_text(json.dumps(solution))
    nb, name, note = gradescope.find_notebook(tmp_path / "a", ["ch01_gates", NAME])
    assert name == NAME and "from its cells" in note
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "ch01_gates-2.ipynb").write_text("{}")
    (tmp_path / "b" / ("%s (3).ipynb" % NAME)).write_text("{}")
    nb, name, note = gradescope.find_notebook(tmp_path / "b", [NAME])
    assert nb.name == "%s (3).ipynb" % NAME
    nb, name, note = gradescope.find_notebook(tmp_path / "b", ["ch01_gates"])
    assert nb.name == "ch01_gates-2.ipynb"
