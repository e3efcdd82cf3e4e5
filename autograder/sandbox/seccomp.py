"""A tiny seccomp filter, in classic BPF, that refuses new processes.

bubblewrap loads it (``--seccomp FD``) just before starting the worker. The sandboxed
process keeps threads (``clone`` with ``CLONE_THREAD``) but cannot ``fork``, ``vfork`` or
``clone`` a new process, so a fork bomb or ``os.system`` fails with ``EPERM``. Resource
limits on processes do not hold for root, which is why a filter does this job.
"""
from __future__ import annotations

import platform
import struct

# BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06
ALLOW = 0x7FFF0000
ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38
CLONE_THREAD = 0x00010000

# (audit arch, clone, clone3, fork or None, vfork or None)
ARCHES = {
    "x86_64": (0xC000003E, 56, 435, 57, 58),
    "aarch64": (0xC00000B7, 220, 435, None, None),
}
# Also refused in the sandbox mode without bubblewrap ("user" mode), where no namespace
# stands between the worker and the host: sockets (network), io_uring (which can do the
# same), signals to other processes, and reading or writing another process's memory
# (workers of one grader share a user id). socket, io_uring_setup, kill, tkill, tgkill,
# ptrace, process_vm_readv, process_vm_writev:
USER_MODE = {
    "x86_64": (41, 425, 62, 200, 234, 101, 310, 311),
    "aarch64": (198, 425, 129, 130, 131, 117, 270, 271),
}


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str | None = None, user_mode: bool = False) -> bytes:
    """The filter for this machine's architecture, as bytes for bubblewrap (or for the
    worker itself, in user mode, where the calls of ``USER_MODE`` are refused too).

    Raises RuntimeError on an architecture it does not know (grading then needs
    ``--no-sandbox``, said in the message).
    """
    machine = machine or platform.machine()
    if machine not in ARCHES:
        raise RuntimeError("no process filter for the %s architecture" % machine)
    arch, clone, clone3, fork, vfork = ARCHES[machine]
    denied = [nr for nr in (fork, vfork) if nr is not None]
    if user_mode:
        denied += USER_MODE[machine]
    d = len(denied)
    allow_at, eperm_at = 9 + d, 10 + d              # indices of the two final returns

    def to(target: int, here: int) -> int:           # jump offset from instruction `here`
        return target - here - 1

    insns = [_insn(LD_W_ABS, 4),                     # 0: A = arch
             _insn(JEQ_K, arch, 0, to(eperm_at, 1)),  # 1: another arch -> EPERM
             _insn(LD_W_ABS, 0),                     # 2: A = syscall number
             _insn(JGE_K, 0x40000000, to(eperm_at, 3), 0)]  # 3: x32 ABI -> EPERM
    for i, nr in enumerate(denied):                  # 4..3+d: fork, vfork -> EPERM
        insns.append(_insn(JEQ_K, nr, to(eperm_at, 4 + i), 0))
    insns += [_insn(JEQ_K, clone3, 0, 1),            # clone3 -> ENOSYS (libc falls back)
              _insn(RET_K, ERRNO | ENOSYS),
              _insn(JEQ_K, clone, 0, to(allow_at, 6 + d)),  # other calls -> ALLOW
              _insn(LD_W_ABS, 16),                   # A = low 32 bits of clone flags
              _insn(JSET_K, CLONE_THREAD, 0, 1),     # a thread -> ALLOW, else EPERM
              _insn(RET_K, ALLOW),
              _insn(RET_K, ERRNO | EPERM)]
    assert len(insns) == eperm_at + 1
    return b"".join(insns)
