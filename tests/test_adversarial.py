"""Untrusted code cannot raise its score or hurt the grader.

For each chapter, one function of the reference solution is replaced by an attack. The
attacked notebook must score, test by test, exactly what the same notebook scores with
that function left as the stub: the attack gains nothing and every other function keeps
its points. Each attack would *succeed* if its protection were missing (it reads the
reference, fakes equality, patches the checks, ...).
"""
import dataclasses
import json
import socket
import textwrap

import lockdown
import pytest

from autograder.course.samples import solution_cells
from autograder.grading import runner
from autograder.grading.reference import ROOT, assignments, solution_path
from autograder.sandbox import Limits

FAST = Limits(call_timeout=1.5, cell_timeout=1.5)
SOLUTIONS = str(ROOT / "solutions")

STEAL = """
import glob, json
for path in glob.glob(%r + "/{chapter}/*.ipynb"):
    ns = {}
    for cell in json.loads(open(path).read())["cells"]:
        if cell["cell_type"] == "code":
            try:
                exec("".join(cell["source"]), ns)
            except Exception:
                pass
    if "{name}" in ns:
        return ns["{name}"](*args, **kwargs)
""" % SOLUTIONS

ATTACKS = {
    "read_solutions": STEAL,
    "monkeypatch_numpy": """
import numpy, numpy.testing
numpy.allclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
numpy.isfinite = lambda x: numpy.ones(numpy.shape(x), bool)
import sys
for mod in list(sys.modules.values()):
    if hasattr(mod, "check_close"):
        mod.check_close = lambda *a, **k: None
return numpy.zeros(1)
""",
    "always_equal": """
class Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __array_priority__ = 1000
    def __array__(self, *a, **k): raise TypeError("no")
return Liar(0.0)
""",
    "endless_loop": "while True:\n    pass",
    "memory_bomb": "import numpy\nhog = []\nwhile True:\n    hog.append(numpy.ones(1 << 22))",
    "sys_exit": "import sys\nsys.exit(0)",
    "os_exit": "import os\nos._exit(0)",
    "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                   "os.kill(1, signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)",
    "write_outside": "open(%r, 'w').write('owned')\nreturn 0.0" % str(ROOT / "OWNED"),
    "fork_bomb": "import os\nwhile True:\n    os.fork()",
    "socket": "import socket\ns = socket.create_connection(('127.0.0.1', {port}), 1)\n"
              "s.sendall(b'hidden inputs: ' + repr(args).encode())\nreturn 0.0",
}


def last_graded(name, solution):
    """The last solution function that a hidden test calls (not a public-check-only one)."""
    graded = set(runner.graded_functions(name))
    return [fid for fid in solution_cells(solution) if fid in graded][-1]


def with_body(nb, fid, body):
    """A copy of notebook ``nb`` whose function ``fid`` keeps its signature, new body."""
    nb = json.loads(json.dumps(nb))
    cell = solution_cells(nb)[fid]
    src = "".join(cell["source"])
    head = src[:src.index("def %s(" % fid)]
    signature = src[src.index("def %s(" % fid):].split(")", 1)[0]
    cell["source"] = "%sdef %s(*args, **kwargs):\n%s\n" % (
        head, fid, textwrap.indent(body, "    "))
    assert signature
    return nb


def stubbed(nb, fid):
    return with_body(nb, fid, "raise NotImplementedError()")


def per_test(nb, name, mode="bwrap"):
    limits = dataclasses.replace(FAST, sandbox=mode)
    results = runner.grade_notebook(json.dumps(nb), name, limits)
    return {t["name"]: t["score"] for t in results["tests"]}


@pytest.fixture(scope="module", params=["bwrap", "user"])
def mode(request):
    """Both sandboxes: bubblewrap, and user mode (for containers without namespaces, with
    the repository's secrets locked to root as the Gradescope setup locks them)."""
    if request.param == "bwrap":
        yield "bwrap"
        return
    with lockdown.locked():
        yield "user"


@pytest.fixture(scope="module")
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    yield server
    server.close()


# User mode confines the worker the same way whatever the chapter: it is attacked through
# the first chapter, one with dict state (bn_param) and the last, to keep the suite short.
USER_MODE_CHAPTERS = {"ch01_gates", "ch06_batchnorm", "ch08_optimizers"}


@pytest.mark.parametrize("name", assignments())
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_gains_nothing(name, attack, listener, mode):
    if mode == "user" and name not in USER_MODE_CHAPTERS:
        pytest.skip("user mode is attacked through %s" % ", ".join(sorted(USER_MODE_CHAPTERS)))
    solution = json.loads(solution_path(name).read_text(encoding="utf-8"))
    fid = last_graded(name, solution)     # earlier functions keep their points
    body = ATTACKS[attack].replace("{name}", fid).replace("{chapter}", name).replace(
        "{port}", str(listener.getsockname()[1]))
    attacked = per_test(with_body(solution, fid, body), name, mode)
    assert attacked == per_test(stubbed(solution, fid), name, mode)
    assert sum(attacked.values()) > 0, "the other functions lost their points"
    assert not (ROOT / "OWNED").exists()
    with pytest.raises(socket.timeout):
        listener.accept()


def test_the_read_attack_would_work_without_the_sandbox():
    """Guard against a vacuous test: unsandboxed, the stolen reference scores."""
    name = "ch01_gates"
    solution = json.loads(solution_path(name).read_text(encoding="utf-8"))
    fid = list(solution_cells(solution))[0]
    nb = with_body(solution, fid, STEAL.replace("{name}", fid).replace("{chapter}", name))
    results = runner.grade_notebook(json.dumps(nb), name, FAST, sandboxed=False)
    assert results["score"] == runner.max_score(name)
