"""The sandbox itself: what student code can and cannot do inside it."""
import os
import socket
import threading
import time

import numpy as np
import pytest

from autograder.grading.reference import ROOT
from autograder.sandbox import Limits, Session, check_bwrap

FAST = Limits(call_timeout=1.5, cell_timeout=1.5)


@pytest.fixture(scope="module", autouse=True)
def bubblewrap():
    check_bwrap()


def session_with(*sources, limits=FAST):
    return Session(["import numpy as np"] + list(sources), limits)


def pair(result):
    """A CallResult as (kind, value) when it returned, else (kind, message)."""
    return (result.kind, result.value if result.ok else result.message)


def call(session, name, *args):
    return pair(session.call(name, args))


def run(body, *args, limits=FAST):
    """Define f with ``body`` in a fresh sandbox and call it; returns (kind, value)."""
    src = "def f(*args):\n" + "".join("    %s\n" % line for line in body.splitlines())
    s = session_with(src, limits=limits)
    try:
        return call(s, "f", *args)
    finally:
        s.close()


def test_plain_values_round_trip():
    kind, value = run("return args[0] * 2, {'n': 3, 's': 'x'}, [True, None]",
                      np.arange(6.0).reshape(2, 3))
    assert kind == "ok"
    arr, d, lst = value
    assert arr.dtype == np.float64 and arr.shape == (2, 3)
    assert np.array_equal(arr, np.arange(6.0).reshape(2, 3) * 2)
    assert d == {"n": 3, "s": "x"} and lst == [True, None]


def test_cannot_see_the_repository():
    for path in (ROOT / "solutions", ROOT / "autograder" / "hidden", ROOT):
        kind, value = run("import os\nreturn os.listdir(%r)" % str(path))
        if path == ROOT and kind == "ok":   # only the mount point of a venv inside it
            assert set(value) <= {".venv"}, value
        else:
            assert kind == "raised" and "FileNotFoundError" in value, (path, kind, value)


def test_sees_only_system_and_python_folders():
    kind, value = run("import os\nreturn sorted(os.listdir('/'))")
    assert kind == "ok"
    assert not {"home", "srv", "mnt", "var"} & set(value)


def test_cannot_write_outside_its_tmp():
    target = ROOT / "sandbox_was_here"
    kind, value = run("open(%r, 'w').write('x')" % str(target))
    # Refused, or (for a checkout under /tmp) written to the sandbox's private /tmp only.
    assert kind == "raised" or str(ROOT).startswith("/tmp/")
    assert not target.exists()
    kind, value = run("open('/usr/sandbox_was_here', 'w').write('x')")
    assert kind == "raised" and ("Read-only" in value or "Permission" in value)
    assert run("open('/tmp/ok', 'w').write('x')\nreturn open('/tmp/ok').read()") == ("ok", "x")


def test_no_network_even_to_the_hosts_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    kind, value = run("import socket\ns = socket.create_connection(('127.0.0.1', %d), 1)\n"
                      "s.sendall(b'stolen')\nreturn 1" % port)
    with pytest.raises(socket.timeout):
        server.accept()
    server.close()
    assert kind == "raised"


def test_no_new_processes():
    kind, value = run("import os\nos.fork()\nreturn 1")
    assert kind == "raised" and "Operation not permitted" in value
    kind, value = run("import subprocess\nreturn subprocess.run(['true']).returncode")
    assert kind == "raised"


def test_endless_loop_times_out_and_later_calls_still_work():
    s = session_with("def spin():\n    while True:\n        pass\n",
                     "def ok(x):\n    return x + 1\n")
    started = time.monotonic()
    assert s.call("spin").kind == "timeout"
    assert time.monotonic() - started < FAST.call_timeout + 1.0
    assert call(s, "ok", 1) == ("ok", 2)          # a fresh worker took over
    s.close()


def test_after_too_many_timeouts_hung_functions_fail_fast():
    s = session_with("def spin():\n    while True:\n        pass\n",
                     limits=Limits(call_timeout=1, max_timeouts=2))
    assert [s.call("spin").kind for _ in range(2)] == ["timeout", "timeout"]
    started = time.monotonic()
    assert s.call("spin").kind == "timeout"
    assert time.monotonic() - started < 0.5
    s.close()


def test_memory_bomb_is_stopped():
    kind, value = run("x = []\nwhile True:\n    x.append(np.ones(1 << 20))",
                      limits=Limits(call_timeout=20))
    assert kind in ("raised", "crashed") and ("MemoryError" in value or "killed" in value)


def test_exit_and_killing_parents_cost_only_that_call():
    s = session_with("def a():\n    import sys; sys.exit(0)\n",
                     "def b():\n    import os; os._exit(0)\n",
                     "def c():\n    import os, signal\n    os.kill(os.getppid(), 9)\n"
                     "    os.kill(1, 9)\n    os.kill(-1, 9)\n",
                     "def ok():\n    return 7\n")
    assert s.call("a").kind == "exit"
    assert s.call("b").kind == "crashed"
    assert s.call("c").kind in ("raised", "crashed")
    assert call(s, "ok") == ("ok", 7)
    s.close()


def test_output_flood_is_cut():
    limits = Limits(call_timeout=5, output_bytes=1 << 16)
    kind, value = run("import sys\nwhile True:\n    sys.stderr.write('x' * 4096)",
                      limits=limits)
    assert kind == "crashed" and "printed more than" in value


def test_objects_that_claim_equality_do_not_cross():
    kind, value = run("class Liar:\n    def __eq__(self, other):\n        return True\n"
                      "return Liar()")
    assert kind == "unencodable"


def test_monkeypatching_numpy_stays_inside():
    kind, _ = run("np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = "
                  "lambda *a, **k: None\nreturn 0.0")
    assert kind == "ok"
    assert not np.allclose(0.0, 1.0)


def test_a_hanging_or_exiting_cell_is_skipped_and_the_rest_loads():
    s = session_with("def before():\n    return 1\n",
                     "x = [0 for _ in iter(int, 1)]\n",            # hangs at load time
                     "import os\n_ = os._exit(0)\n",               # kills the worker
                     "def after():\n    return 2\n")
    assert call(s, "before") == ("ok", 1)
    assert call(s, "after") == ("ok", 2)
    assert set(s.skipped) == {2, 3}
    s.close()


def processes():
    """{pid: (parent pid, start time, state)} of every process on the machine."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(entry)] = (int(fields[1]), fields[19], fields[0])
    return found


def my_descendants():
    """{pid: start time} of the processes this pytest process started, and theirs."""
    table = processes()
    found, todo = {}, [os.getpid()]
    while todo:
        parent = todo.pop()
        for pid, (ppid, started, _) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                todo.append(pid)
    return found


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def still_running(pids):
    """Those of {pid: start time} that still run (same pid, same start, not a zombie)."""
    table = processes()
    return {pid for pid, started in pids.items()
            if pid in table and table[pid][1] == started and table[pid][2] != "Z"}


def test_no_processes_left_behind():
    """Only this test's own workers are counted: another grading run on the machine at
    the same time does not make it fail."""
    before = my_descendants()
    s = session_with("def spin():\n    while True:\n        pass\n",
                     "def ok():\n    return 1\n")
    assert call(s, "ok") == ("ok", 1)
    first = {p: t for p, t in my_descendants().items() if p not in before}
    assert any(b"worker.py" in cmdline(p) for p in first)
    assert s.call("spin").kind == "timeout"        # that worker is killed
    time.sleep(0.2)
    assert still_running(first) == set()
    assert call(s, "ok") == ("ok", 1)              # and a new one started
    second = {p: t for p, t in my_descendants().items() if p not in before}
    assert any(b"worker.py" in cmdline(p) for p in second)
    s.close()
    time.sleep(0.2)
    assert still_running(second) == set()


def test_concurrent_sessions_are_isolated():
    results = {}

    def grade(k):
        s = session_with("import os\ndef put(v):\n    open('/tmp/v', 'w').write(str(v))\n"
                         "    return 0\ndef get():\n    return open('/tmp/v').read()\n")
        s.call("put", (k,))
        time.sleep(0.1)
        results[k] = call(s, "get")
        s.close()
    threads = [threading.Thread(target=grade, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: ("ok", str(k)) for k in range(3)}


def test_private_tmp_is_mounted_before_the_binds():
    """A virtual environment under /tmp must stay visible above the private /tmp."""
    from autograder.sandbox.process import bwrap_command
    cmd = bwrap_command(3, Limits())
    assert cmd.index("--tmpfs") < cmd.index("--ro-bind")
    assert cmd.index("--remount-ro") > max(i for i, a in enumerate(cmd) if a == "--ro-bind")


def test_self_test_passes_here_and_fails_loudly_when_python_cannot_start(monkeypatch):
    from autograder.sandbox import process as sandbox
    sandbox.self_test(Limits())
    monkeypatch.setattr(sandbox, "python_dirs", lambda: [])   # hide the environment
    with pytest.raises(sandbox.SandboxUnavailable, match="cannot run Python"):
        sandbox.self_test(Limits())
