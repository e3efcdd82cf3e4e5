"""The sandbox without namespaces ("user" mode), for containers such as Gradescope's.

The attacks of test_adversarial.py and the leak channels of test_feedback.py run in this
mode too; here: how the mode is chosen, what it refuses to start with, and what the
student's code can and cannot do in it.
"""
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import lockdown
import pytest

from autograder.grading.reference import ROOT, solution_path
from autograder.sandbox import Limits, SandboxUnavailable, Session, choose_sandbox, process

USER = Limits(call_timeout=5, cell_timeout=5, sandbox="user")
PROBES = """
import os, socket, signal, glob
def whoami():
    return [os.getuid(), os.geteuid(), os.getgid(), len(os.getgroups())]
def fork():
    return os.fork()
def connect():
    socket.create_connection(("127.0.0.1", 9), 1)
def kill_grader():
    os.kill(os.getppid(), signal.SIGKILL)
def read_solution():
    return open(%r).read(10)
def list_hidden():
    return glob.glob(%r)
def home():
    path = os.path.join(os.environ["HOME"], "scratch")
    open(path, "w").write("ok")
    return [os.getcwd() == os.environ["HOME"], open(path).read(), oct(os.stat(".").st_mode)]
def write_repo():
    open(%r, "w").write("owned")
def no_new_privs():
    return int(open("/proc/self/status").read().split("NoNewPrivs:")[1].split()[0])
def seccomp_mode():
    return int(open("/proc/self/status").read().split("Seccomp:")[1].split()[0])
""" % (str(solution_path("ch01_gates")), str(ROOT / "autograder" / "hidden" / "*.py"),
       str(ROOT / "OWNED"))


@pytest.fixture
def session():
    with lockdown.locked():
        process.self_test(USER)
        s = Session([PROBES], USER)
        yield s
        s.close()


def test_runs_as_the_unprivileged_user_with_its_filter(session):
    assert session.call("whoami").value == [65534, 65534, 65534, 0]
    assert session.call("no_new_privs").value == 1
    assert session.call("seccomp_mode").value == 2


@pytest.mark.parametrize("probe", ["fork", "connect", "kill_grader"])
def test_refused_system_calls(session, probe):
    result = session.call(probe)
    assert not result.ok and "PermissionError" in result.message, result


def test_secrets_and_the_repository_are_out_of_reach(session):
    result = session.call("read_solution")
    assert not result.ok and "PermissionError" in result.message
    assert session.call("list_hidden").value == []
    assert not session.call("write_repo").ok
    assert not (ROOT / "OWNED").exists()


def test_a_private_writable_home(session):
    assert session.call("home").value == [True, "ok", "0o40700"]


def test_refuses_while_the_user_can_read_the_secrets():
    with pytest.raises(SandboxUnavailable, match="can read .*chmod 0700"):
        process.self_test(USER)


def test_refuses_without_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxUnavailable, match="needs root"):
        choose_sandbox("user", USER)
    monkeypatch.setattr(process, "bwrap_command", fake_bwrap_without_namespaces)
    with pytest.raises(SandboxUnavailable, match="namespace(.|\n)*needs root"):
        choose_sandbox("auto", dataclasses.replace(USER, sandbox="bwrap"))


def test_refuses_root_as_the_user():
    with pytest.raises(SandboxUnavailable, match="root"):
        process.user_ids("0")


def test_worker_will_not_confine_itself_as_root():
    """Started with --seccomp-fd but as root, the worker stops before reading a request."""
    r, w = os.pipe()
    os.write(w, process.seccomp.program(user_mode=True))
    os.close(w)
    done = subprocess.run([sys.executable, str(process.WORKER_FILES["worker.py"]),
                           "--seccomp-fd", str(r)], pass_fds=(r,), input=b"",
                          capture_output=True, timeout=60,
                          env={"PYTHONPATH": os.pathsep.join(
                              sorted({str(p.parent) for p in process.WORKER_FILES.values()}))})
    os.close(r)
    assert done.returncode == 3 and b"cannot confine itself" in done.stderr


def fake_bwrap_without_namespaces(seccomp_fd, limits):
    """bubblewrap as it fails in a container that does not allow user namespaces."""
    return ["sh", "-c", "echo 'bwrap: No permissions to create new namespace' >&2; exit 1"]


def test_auto_falls_back_to_user_mode_when_bwrap_cannot_run(monkeypatch):
    monkeypatch.setattr(process, "bwrap_command", fake_bwrap_without_namespaces)
    said = []
    with lockdown.locked():
        limits, sandboxed = choose_sandbox("auto", Limits(), say=said.append)
    assert sandboxed and limits.sandbox == "user"
    assert "namespace" in said[0] and "user mode" in said[0]
    with pytest.raises(SandboxUnavailable, match="namespace"):
        choose_sandbox("bwrap", Limits())


def test_auto_prefers_bwrap():
    limits, sandboxed = choose_sandbox("auto", Limits())
    assert sandboxed and limits.sandbox == "bwrap"


def test_cli_grades_in_user_mode(tmp_path):
    with lockdown.locked():
        done = subprocess.run([sys.executable, "-m", "autograder", "grade",
                               str(solution_path("ch02_logistic")), "--out", str(tmp_path),
                               "--sandbox", "user"], cwd=ROOT, capture_output=True, text=True,
                              timeout=600)
    assert done.returncode == 0, done.stderr
    assert "sandbox: user" in done.stderr
    from autograder.grading import runner
    row = [line for line in done.stdout.splitlines() if "ch02_logistic" in line][0]
    assert " %d " % runner.max_score("ch02_logistic") in " %s " % row


def test_cli_user_mode_refuses_readable_submissions(tmp_path):
    """A worker running as the same user as every other could read (and run) a classmate's
    notebook: user mode wants the submissions readable by root only."""
    folder = Path(tempfile.mkdtemp(prefix="submitted-", dir="/tmp"))
    try:
        os.chmod(folder, 0o755)
        target = folder / "ann" / "ch01_gates"
        target.mkdir(parents=True)
        shutil.copyfile(solution_path("ch01_gates"), target / "ch01_gates.ipynb")
        os.chmod(folder / "ann", 0o755)
        with lockdown.locked():
            done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder),
                                   "--out", str(tmp_path / "o"), "--sandbox", "user"], cwd=ROOT,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 2 and "can read the submissions" in done.stderr
            os.chmod(folder, 0o700)
            done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder),
                                   "--out", str(tmp_path / "o"), "--sandbox", "user"], cwd=ROOT,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr
    finally:
        shutil.rmtree(folder, ignore_errors=True)
