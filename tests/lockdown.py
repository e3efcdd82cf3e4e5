"""For tests of the sandbox's user mode: the repository's secrets readable by root only.

User mode (no namespaces) relies on file permissions: the unprivileged user must not read
the hidden tests or the reference solutions. In a clone they are world-readable, so tests
of user mode lock ``autograder/`` and ``solutions/`` (0700) for their duration, and
restore the modes afterwards. Needs root (user mode itself needs root).
"""
import contextlib
import os

import pytest

from autograder.grading.reference import ROOT

SECRETS = (ROOT / "autograder", ROOT / "solutions")


@contextlib.contextmanager
def locked():
    """chmod 0700 on autograder/ and solutions/, restored on exit."""
    if os.geteuid() != 0:
        pytest.skip("the sandbox's user mode needs root")
    modes = {path: path.stat().st_mode & 0o7777 for path in SECRETS}
    try:
        for path in SECRETS:
            os.chmod(path, 0o700)
        yield
    finally:
        for path, mode in modes.items():
            os.chmod(path, mode)
