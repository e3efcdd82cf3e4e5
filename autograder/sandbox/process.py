"""Run a student's notebook in a bubblewrap sandbox and call its functions.

The sandboxed worker (``worker.py``) sees a read-only view of the Python environment and
of four grader files (worker, wire, cells, and the toolkit's checks), a private ``/tmp``,
and nothing else: no network, no repository (so no ``solutions/`` and no hidden tests),
no other submission.
It runs under resource limits (address space, CPU seconds, file size, open files), a
seccomp filter that refuses new processes, and a wall-clock deadline per call enforced
here. A worker that hangs, dies or prints too much is killed and a fresh one is started;
cells and functions that caused it are not run again.

``load_notebook`` is the one step that loads a notebook into a fresh worker; it raises
:class:`LoadFailed` naming the cell that stopped it, so that a caller can skip that cell.
"""
from __future__ import annotations

import dataclasses
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.sandbox import seccomp
from autograder.sandbox.inside import wire
from autograder.sandbox.inside.wire import redact_error

HERE = Path(__file__).resolve().parent
INSIDE_DIR = HERE / "inside"      # the files that run inside the sandbox
PACKAGE = HERE.parent               # autograder/, hidden from the sandbox
TOOLKIT_DIR = PACKAGE / "toolkit"
# The files the worker sees, side by side in INSIDE (imported there as top-level modules).
WORKER_FILES = {"worker.py": INSIDE_DIR / "worker.py", "wire.py": INSIDE_DIR / "wire.py",
                "cells.py": INSIDE_DIR / "cells.py", "confine.py": INSIDE_DIR / "confine.py",
                "checks.py": TOOLKIT_DIR / "checks.py"}
SANDBOXES = ("bwrap", "user")      # how a sandboxed worker is confined (Limits.sandbox)
INSIDE = "/opt/grader"
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin")
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
INSTALL_HINT = ("bubblewrap (bwrap) is not installed, and the grader will not run students' "
                "code without it. Install it with `apt-get install bubblewrap` (Debian/Ubuntu) "
                "or `dnf install bubblewrap`, or pass --no-sandbox to run trusted notebooks "
                "unprotected.")
MAX_ANSWER = 256 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed worker (defaults suit the course's chapters)."""
    memory_mb: int = 1024          # address space of the worker
    cpu_seconds: int = 60          # CPU time of one worker, over all its calls
    call_timeout: float = 10.0     # wall-clock seconds for one call
    cell_timeout: float = 10.0     # wall-clock seconds for loading one cell
    start_timeout: float = 60.0    # wall-clock seconds for the worker to start (a busy host)
    output_bytes: int = 1 << 20    # what the student's code may print, per worker
    file_bytes: int = 16 << 20     # largest file it may write (in its private /tmp)
    max_restarts: int = 30         # workers started after the first, per submission
    max_timeouts: int = 10         # calls allowed to time out before hung functions fail fast
    sandbox: str = "bwrap"         # "bwrap", or "user" where namespaces are not allowed
    user: str = "nobody"           # user mode: the unprivileged user (name or uid)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot run here; the message says what to do."""


class WorkerGone(Exception):
    """The worker died or broke the protocol; ``reason`` says how."""


class WorkerTimeout(Exception):
    """The worker did not answer before its deadline."""


class LoadFailed(Exception):
    """Loading a notebook stopped the worker (it hung, died or broke the protocol).

    cell_index: the 0-based index of the code cell that was running, or None when the
    worker stopped before any cell (the notebook cannot even start). why: in words, as in
    "took longer than 10 s to run".
    """

    def __init__(self, cell_index: int | None, why: str) -> None:
        super().__init__(cell_index, why)
        self.cell_index = cell_index
        self.why = why

    def __str__(self) -> str:
        where = "before any cell" if self.cell_index is None else "in cell %d" % (
            self.cell_index + 1)
        return "%s %s" % (self.why, where)


def load_notebook(worker: Worker, sources: Sequence[str], limits: Limits) -> dict[int, str]:
    """Run the definitions of ``sources`` (code-cell sources) in ``worker``.

    Returns {cell index: error message} for the cells that raised (the worker goes on
    past them). Raises LoadFailed when the worker stops answering: a cell that runs longer
    than ``limits.cell_timeout``, or a worker that dies or breaks the protocol.
    """
    current: int | None = None
    try:
        worker.send({"op": "load", "cells": list(sources)})
        while True:
            answer = worker.receive(limits.start_timeout if current is None
                                    else limits.cell_timeout)
            if answer.get("op") == "cell":
                index = answer.get("index")
                ok = type(index) is int and 0 <= index < len(sources)
                current = index if ok else None
            elif answer.get("op") == "loaded":
                break
    except WorkerTimeout:
        why = ("took longer than %g s to run" % limits.cell_timeout if current is not None
               else "did not start within %g s" % limits.start_timeout)
        raise LoadFailed(current, why) from None
    except WorkerGone as gone:
        raise LoadFailed(current, "stopped the notebook (%s)" % gone) from None
    report = answer.get("report")
    errors = {}
    for item in report if type(report) is list else []:
        if (type(item) is list and len(item) == 2 and type(item[0]) is int
                and 0 <= item[0] < len(sources) and item[1]):
            errors[item[0]] = redact_error(str(item[1]))
    return errors


def check_bwrap() -> None:
    """Fail with installation advice unless bubblewrap is installed (whether it can build
    a sandbox here is what ``self_test`` finds out, with bubblewrap's own message)."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable(INSTALL_HINT)


def call_request(name: str, args: Sequence[Any] = (),
                 kwargs: dict[str, Any] | None = None) -> dict:
    """The request that calls the student's ``name(*args, **kwargs)``; raises WireError
    when an argument cannot cross the boundary."""
    return {"op": "call", "name": name, "args": wire.encode(list(args)),
            "kwargs": wire.encode(dict(kwargs or {}))}


def self_test(limits: Limits, sandboxed: bool = True) -> None:
    """Start a worker on a trivial notebook and call it; raise SandboxUnavailable if that
    fails, so a broken sandbox stops grading instead of scoring everyone 0. In user mode,
    first make sure the unprivileged user cannot read the hidden tests or the reference."""
    if sandboxed and limits.sandbox == "user":
        if os.geteuid() != 0:
            raise SandboxUnavailable("user mode needs root (the grader switches each worker to "
                                     "the unprivileged user %r)" % limits.user)
        for tool in ("setpriv", "prlimit"):
            if shutil.which(tool) is None:
                raise SandboxUnavailable("user mode needs %s (util-linux)" % tool)
        exposed = readable_secrets(limits, secret_files())
        if exposed:
            raise SandboxUnavailable(
                "user mode: the user %r can read %s; make the grader's files readable by "
                "root only (chmod 0700 on the grader package and on the solutions, as the "
                "Gradescope setup.sh does)" % (limits.user, ", ".join(exposed)))
    worker = Worker(limits, sandboxed)
    try:
        errors = load_notebook(worker, ["def probe(x):\n    return x + 1\n"], limits)
        if errors:
            raise WorkerGone("could not load a one-line notebook: %s" % errors)
        worker.send(call_request("probe", [41]))
        answer = worker.receive(limits.start_timeout)
        if answer.get("value") != 42:
            raise WorkerGone("answered %r" % (answer,))
    except (LoadFailed, WorkerGone, WorkerTimeout) as error:
        worker.close()                  # also waits for the output to be read
        raise SandboxUnavailable("the sandbox cannot run Python (%s): %s" % (
            error or "no answer", worker.output_head.decode("utf-8", "replace")[-2000:])) from error
    worker.close()


def choose_sandbox(requested: str, limits: Limits,
                   say: Any = None) -> tuple[Limits, bool]:
    """The sandbox to grade with, self-tested: (limits with ``sandbox`` set, sandboxed).

    requested: "bwrap" (bubblewrap, or fail), "user" (an unprivileged user with the same
    limits and filter; needs root), "none" (no sandbox: trusted notebooks only) or "auto":
    bubblewrap when its self-test passes, else user mode when running as root (a container
    that does not allow the namespaces bubblewrap needs, such as Gradescope's), else fail.
    say(text) is told about a fallback. Raises SandboxUnavailable with what to do.
    """
    if requested == "none":
        return limits, False
    if requested in SANDBOXES:
        limits = dataclasses.replace(limits, sandbox=requested)
        if requested == "bwrap":
            check_bwrap()
        self_test(limits)
        return limits, True
    if requested != "auto":
        raise SandboxUnavailable("unknown sandbox %r (bwrap, user, none or auto)" % requested)
    try:
        return choose_sandbox("bwrap", limits)
    except SandboxUnavailable as error:
        why = str(error)
    if os.geteuid() != 0:
        raise SandboxUnavailable("%s\n(user mode, the fallback, needs root; or pass "
                                 "--sandbox none for trusted notebooks)" % why)
    try:
        chosen = choose_sandbox("user", limits)
    except SandboxUnavailable as fallback:
        raise SandboxUnavailable("%s\nThe fallback without bubblewrap (user mode) cannot run "
                                 "either: %s" % (why, fallback)) from None
    if say is not None:
        say("bubblewrap cannot run here (%s); falling back to user mode: students' code "
            "runs as %r with the same limits and syscall filter" % (why.splitlines()[0][:300],
                                                                  limits.user))
    return chosen


def python_dirs() -> list[Path]:
    """Folders that hold the Python environment (prefixes, real executable's home)."""
    real_exe = Path(os.path.realpath(sys.executable))
    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
            real_exe.parent.parent}
    return sorted({Path(os.path.realpath(d)) for d in dirs} | {Path(d) for d in dirs})


def installed() -> bool:
    """True for a grader installed with pip (it carries its own copy of the solutions)."""
    return (PACKAGE / "solutions").is_dir()


def visible_dirs() -> list[Path]:
    """Every folder bound into the sandbox; refuses one that contains the repository."""
    dirs = [Path(d) for d in SYSTEM_DIRS if os.path.isdir(d)] + python_dirs()
    repo = PACKAGE.parent
    for d in dirs:
        if not installed() and (repo == d or d in repo.parents):
            raise SandboxUnavailable("the Python environment %s contains the repository %s: "
                                     "the sandbox would expose solutions/; use a virtual "
                                     "environment outside it or inside .venv" % (d, repo))
    return dirs


def masked_dirs(dirs: Sequence[Path]) -> list[Path]:
    """Folders inside the visible ones that are covered with an empty tmpfs: the grader
    package itself (hidden tests, and the solutions an installed grader carries)."""
    return [PACKAGE] if any(d == PACKAGE or d in PACKAGE.parents for d in dirs) else []


def bwrap_command(seccomp_fd: int, limits: Limits) -> list[str]:
    """The argv that starts the worker in a sandbox (seccomp program read from fd)."""
    cmd = ["prlimit", "--as=%d" % (limits.memory_mb << 20), "--cpu=%d" % limits.cpu_seconds,
           "--fsize=%d" % limits.file_bytes, "--core=0", "--nofile=256", "--",
           "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--hostname", "sandbox", "--clearenv"]
    for key, value in ENV.items():
        cmd += ["--setenv", key, value]
    # The private /tmp comes first, so that binds below it (a venv in /tmp) stay visible.
    cmd += ["--size", str(64 << 20), "--tmpfs", "/tmp"]
    dirs = visible_dirs()
    for d in dirs:
        cmd += ["--ro-bind", str(d), str(d)]
    for d in masked_dirs(dirs):
        cmd += ["--tmpfs", str(d)]
    if os.path.exists("/etc/ld.so.cache"):
        cmd += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for name, path in WORKER_FILES.items():
        cmd += ["--ro-bind", str(path), "%s/%s" % (INSIDE, name)]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/", "--chdir", "/tmp",
            "--seccomp", str(seccomp_fd),
            sys.executable, "-E", "-s", "-B", "%s/worker.py" % INSIDE]
    return cmd


def unsandboxed_command(limits: Limits) -> list[str]:
    """The argv that starts the worker without a sandbox (trusted notebooks only); it finds
    its sibling modules in the two folders that hold them, as it would in INSIDE."""
    folders = sorted({str(path.parent) for path in WORKER_FILES.values()})
    boot = ("import runpy, sys; sys.path[:0] = %r; runpy.run_path(%r, run_name='__main__')"
            % (folders, str(WORKER_FILES["worker.py"])))
    return ["prlimit", "--as=%d" % (limits.memory_mb << 20), "--cpu=%d" % limits.cpu_seconds,
            "--core=0", "--", sys.executable, "-E", "-s", "-B", "-c", boot]


def user_ids(user: str) -> tuple[int, int]:
    """(uid, gid) of ``user`` (a name or a number); raises SandboxUnavailable for root or
    an unknown name."""
    import pwd
    try:
        entry = pwd.getpwnam(user)
        ids = (entry.pw_uid, entry.pw_gid)
    except KeyError:
        if not user.isdigit():
            raise SandboxUnavailable("user mode: no user named %r" % user) from None
        ids = (int(user), int(user))
    if 0 in ids:
        raise SandboxUnavailable("user mode: the worker must not run as root or group 0")
    return ids


def user_workdir(limits: Limits) -> Path:
    """A fresh folder for one user-mode worker: ``grader/`` (the worker's files, read-only,
    owned by root) and ``home/`` (its private, writable home and /tmp, owned by the
    unprivileged user, 0700)."""
    uid, gid = user_ids(limits.user)
    top = Path(tempfile.mkdtemp(prefix="backprop-worker-"))
    os.chmod(top, 0o755)
    grader = top / "grader"
    grader.mkdir(mode=0o755)
    for name, path in WORKER_FILES.items():
        shutil.copyfile(path, grader / name)
        os.chmod(grader / name, 0o444)
    home = top / "home"
    home.mkdir(mode=0o700)
    os.chown(home, uid, gid)
    return top


def user_command(seccomp_fd: int, limits: Limits, workdir: Path) -> list[str]:
    """The argv that starts the worker in user mode: prlimit's limits (as under bubblewrap,
    plus a cap on the user's processes), then setpriv to the unprivileged user with no
    supplementary groups, no capabilities and no_new_privs; the worker loads the seccomp
    filter itself from ``seccomp_fd`` before it reads a request (``inside/confine.py``)."""
    uid, gid = user_ids(limits.user)
    return ["prlimit", "--as=%d" % (limits.memory_mb << 20), "--cpu=%d" % limits.cpu_seconds,
            "--fsize=%d" % limits.file_bytes, "--core=0", "--nofile=256", "--nproc=256", "--",
            "setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
            sys.executable, "-E", "-s", "-B", str(workdir / "grader" / "worker.py"),
            "--seccomp-fd", str(seccomp_fd)]


def readable_secrets(limits: Limits, paths: Sequence[Path]) -> list[str]:
    """Which of ``paths`` the user-mode user can read (it must read none: the hidden tests,
    the reference solutions). Checked by trying, as that user."""
    uid, gid = user_ids(limits.user)
    probe = ("import sys\nfor p in sys.argv[1:]:\n    try:\n        open(p, 'rb').read(1)\n"
             "    except OSError:\n        continue\n    print(p)\n")
    done = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid,
                           "--clear-groups", "--", sys.executable, "-E", "-s", "-c", probe,
                           *map(str, paths)], capture_output=True, text=True, timeout=60,
                          cwd="/", env={"PATH": ENV["PATH"]})
    return done.stdout.split()


def check_private(limits: Limits, paths: Sequence[Path], what: str) -> None:
    """In user mode, raise SandboxUnavailable when the unprivileged user can read one of
    ``paths`` (e.g. other students' submissions: a worker could run a classmate's code)."""
    if limits.sandbox != "user" or not paths:
        return
    exposed = readable_secrets(limits, paths)
    if exposed:
        raise SandboxUnavailable("user mode: the user %r can read %s (%s); make them readable "
                                 "by root only (e.g. chmod 0700 on their folder)"
                                 % (limits.user, what, exposed[0]))


def secret_files() -> list[Path]:
    """Files a user-mode worker must not read: a hidden test and a reference solution."""
    from autograder.grading.reference import SOLUTIONS
    found = sorted(SOLUTIONS.glob("*/*.ipynb"))[:1] + sorted(
        (PACKAGE / "hidden").glob("test_*.py"))[:1] + [PACKAGE / "sandbox" / "process.py"]
    return found


class Worker:
    """One worker process: send requests (dicts), receive answers (dicts) before a
    deadline. See ``inside/worker.py`` for the messages."""

    def __init__(self, limits: Limits, sandboxed: bool = True) -> None:
        self.limits = limits
        self.printed = 0                    # bytes the student's code printed so far
        self.output_head = b""              # the first of them (shown only by self_test)
        self.kill_reason: str | None = None
        self._buffer = b""
        self.workdir: Path | None = None
        user_mode = sandboxed and limits.sandbox == "user"
        if sandboxed and limits.sandbox not in SANDBOXES:
            raise SandboxUnavailable("unknown sandbox %r" % limits.sandbox)
        cwd = tempfile.gettempdir()
        with tempfile.TemporaryFile() as program:
            if user_mode:
                program.write(seccomp.program(user_mode=True))
                program.seek(0)
                self.workdir = user_workdir(limits)
                cmd = user_command(program.fileno(), limits, self.workdir)
                fds = (program.fileno(),)
                home = str(self.workdir / "home")
                env = dict(ENV, HOME=home, TMPDIR=home)
                cwd = home
            elif sandboxed:
                program.write(seccomp.program())
                program.seek(0)
                cmd = bwrap_command(program.fileno(), limits)
                fds = (program.fileno(),)
                env = dict(ENV)
            else:
                cmd, fds = unsandboxed_command(limits), ()
                env = dict(os.environ, **ENV)
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, pass_fds=fds, env=env,
                                         start_new_session=True, cwd=cwd)
        self._drain = threading.Thread(target=self._drain_output, daemon=True)
        self._drain.start()

    def _drain_output(self) -> None:
        """Read what the student's code prints; kill the worker past the output limit."""
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            if self.printed < 4096:
                self.output_head += chunk[:4096 - self.printed]
            self.printed += len(chunk)
            if self.printed > self.limits.output_bytes and self.kill_reason is None:
                self.kill("printed more than %d KiB" % (self.limits.output_bytes >> 10))

    def send(self, message: dict) -> None:
        """Send one request; raises WorkerGone if the worker is no longer there."""
        try:
            self.proc.stdin.write(wire.dumps(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise WorkerGone(self._death()) from None

    def receive(self, timeout: float) -> dict:
        """The next answer (a dict); raises WorkerTimeout or WorkerGone."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout()
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise WorkerGone(self._death())
            self._buffer += chunk
            if len(self._buffer) > MAX_ANSWER:
                self.kill("sent an answer larger than %d MiB" % (MAX_ANSWER >> 20))
                raise WorkerGone(self.kill_reason)
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return wire.loads(line)
        except wire.WireError as error:
            self.kill("broke the grading protocol")
            raise WorkerGone("%s (%s)" % (self.kill_reason, error)) from None

    def _death(self) -> str:
        """Why the worker stopped, in words."""
        if self.kill_reason:
            return self.kill_reason
        code = self.proc.wait(timeout=5)
        if code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGXCPU:
                return "used more than %d s of CPU time" % self.limits.cpu_seconds
            return "was killed by %s" % name
        return "exited (status %d)" % code

    def kill(self, reason: str | None = None) -> None:
        """Kill the worker and everything it started; remember why (thread-safe)."""
        if reason and self.kill_reason is None:
            self.kill_reason = reason
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        """Kill the worker, reap it and close the pipes."""
        self.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._drain.join(timeout=2)        # it stops at the end of the output
        streams = [self.proc.stdin, self.proc.stdout]
        if not self._drain.is_alive():
            streams.append(self.proc.stderr)
        for stream in streams:
            try:
                stream.close()
            except OSError:
                pass
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
