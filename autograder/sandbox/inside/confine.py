"""The worker confines itself, for the sandbox mode without bubblewrap ("user" mode).

There bubblewrap does not load the process filter, so the worker does, first thing, before
it reads any request: it reads the classic-BPF program (``autograder/sandbox/seccomp.py``)
from the file descriptor it was given, sets ``no_new_privs`` and installs the filter for
all its threads (``seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC)``, or
``prctl(PR_SET_SECCOMP)`` where that is missing). It also refuses to go on as root. If any
step fails the worker exits, so a student's code never runs unconfined. Standard library
only (ctypes).
"""
import ctypes
import os
import platform
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_SET_SECCOMP = 22
PR_GET_SECCOMP = 21
SECCOMP_MODE_FILTER = 2
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_SYSCALL = {"x86_64": 317, "aarch64": 277}


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def read_program(fd: int) -> bytes:
    """The filter program from ``fd`` (read to the end, then closed)."""
    chunks = []
    os.lseek(fd, 0, os.SEEK_SET)
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def load_filter(program: bytes) -> None:
    """Install ``program`` (struct sock_filter[], 8 bytes each) for every thread of this
    process; raises OSError when the kernel refuses."""
    if not program or len(program) % 8:
        raise OSError("malformed filter program (%d bytes)" % len(program))
    libc = ctypes.CDLL(None, use_errno=True)
    count = len(program) // 8
    insns = (SockFilter * count).from_buffer_copy(program)
    prog = SockFprog(count, ctypes.cast(insns, ctypes.POINTER(SockFilter)))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    number = SECCOMP_SYSCALL.get(platform.machine())
    done = -1
    if number is not None:
        done = libc.syscall(number, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
                            ctypes.byref(prog))
    if done != 0:
        done = libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0)
    if done != 0:
        raise OSError(ctypes.get_errno(), "the kernel refused the seccomp filter")
    if libc.prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != SECCOMP_MODE_FILTER:
        raise OSError("the seccomp filter is not in force")


def confine(argv: list) -> None:
    """Handle ``--seccomp-fd N`` in argv: load the filter from fd N, or exit. Without it
    nothing happens (bubblewrap has already loaded the filter, or there is no sandbox)."""
    if "--seccomp-fd" not in argv:
        return
    try:
        fd = int(argv[argv.index("--seccomp-fd") + 1])
        if os.geteuid() == 0 or os.getuid() == 0:
            raise OSError("the worker runs as root; user mode needs an unprivileged user")
        load_filter(read_program(fd))
    except (OSError, ValueError, IndexError) as error:
        sys.stderr.write("worker: cannot confine itself: %s\n" % error)
        sys.stderr.flush()
        os._exit(3)
