"""The guest's seccomp-bpf filter, generated from the syscall table.

PASSTHROUGH entries get SECCOMP_RET_ALLOW (native speed); everything else --
handlers, emulation, NOSYS, and numbers the table does not know -- gets
SECCOMP_RET_USER_NOTIF and is answered by the supervisor.  A syscall made
through a foreign ABI (int 0x80 from 64-bit code, x32 numbers) would skip
the table, so it fails with ENOSYS.

The numbers are grouped into runs of equal action and found with a binary
search of JGE jumps, so the filter stays short however many calls are
handled.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

from syscalls import abi

# Actions (the SECCOMP_RET_* value returned by the filter).
ALLOW = abi.SECCOMP_RET_ALLOW
NOTIFY = abi.SECCOMP_RET_USER_NOTIF
TRACE = abi.SECCOMP_RET_TRACE        # a ptrace stop at the anchor (exec through the loader)
ENOSYS = abi.SECCOMP_RET_ERRNO | abi.ENOSYS

# The guest's bootstrap makes these between installing the filter and
# exec (native/lxfast.c guest_main); they must never wait for the
# supervisor, which is not serving yet.
BOOTSTRAP = ("read", "write", "close")

_SOCK_FILTER = struct.Struct("<HBBI")  # struct sock_filter: code, jt, jf, k
X32_SYSCALL_BIT = 0x4000_0000
_NR_LIMIT = 1024                      # numbers >= this are all NOTIFY
_OFF_NR, _OFF_ARCH = 0, 4             # offsets in struct seccomp_data


def _stmt(code: int, k: int) -> tuple[int, int, int, int]:
    return (code, 0, 0, k)


def _jump(code: int, k: int, jt: int, jf: int) -> tuple[int, int, int, int]:
    if not (0 <= jt < 256 and 0 <= jf < 256):
        raise ValueError("BPF jump out of range")
    return (code, jt, jf, k)


def runs(actions: Mapping[int, int], default: int, limit: int = _NR_LIMIT) -> list[tuple[int, int]]:
    """[(first_nr, action), ...] covering 0..limit-1, adjacent runs differ."""
    out: list[tuple[int, int]] = []
    for nr in range(limit):
        act = actions.get(nr, default)
        if not out or out[-1][1] != act:
            out.append((nr, act))
    return out


def _search(rs: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """BPF that returns the action of the run containing A (the number)."""
    if len(rs) == 1:
        return [_stmt(abi.BPF_RET | abi.BPF_K, rs[0][1])]
    mid = len(rs) // 2
    low, high = _search(rs[:mid]), _search(rs[mid:])
    # if A >= first nr of the upper half: skip the lower half
    return [_jump(abi.BPF_JMP | abi.BPF_JGE | abi.BPF_K, rs[mid][0], len(low), 0)] + low + high


def build(actions: Mapping[int, int], default: int = NOTIFY) -> list[tuple[int, int, int, int]]:
    """The filter program: (code, jt, jf, k) instructions."""
    ld = abi.BPF_LD | abi.BPF_W | abi.BPF_ABS
    body = _search(runs(actions, default))
    prog = [
        _stmt(ld, _OFF_ARCH),
        _jump(abi.BPF_JMP | abi.BPF_JEQ | abi.BPF_K, abi.AUDIT_ARCH_X86_64, 1, 0),
        _stmt(abi.BPF_RET | abi.BPF_K, ENOSYS),
        _stmt(ld, _OFF_NR),
        _jump(abi.BPF_JMP | abi.BPF_JGE | abi.BPF_K, X32_SYSCALL_BIT, 0, 1),
        _stmt(abi.BPF_RET | abi.BPF_K, ENOSYS),
        _jump(abi.BPF_JMP | abi.BPF_JGE | abi.BPF_K, _NR_LIMIT, 0, 1),
        _stmt(abi.BPF_RET | abi.BPF_K, NOTIFY),
    ] + body
    if len(prog) > 4096:
        raise ValueError(f"filter too long: {len(prog)} instructions")
    return prog


def pack(prog: Iterable[tuple[int, int, int, int]]) -> bytes:
    """The program as an array of struct sock_filter."""
    return b"".join(_SOCK_FILTER.pack(*ins) for ins in prog)


def evaluate(prog: list[tuple[int, int, int, int]], nr: int, arch: int = 0xC000003E) -> int:
    """Run the program on (nr, arch) in Python: the tests check the filter with this."""
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        cls = code & 0x07
        if cls == abi.BPF_LD:
            acc = arch if k == _OFF_ARCH else nr & 0xFFFF_FFFF
            pc += 1
        elif cls == abi.BPF_RET:
            return k
        elif cls == abi.BPF_JMP:
            op = code & 0xF0
            taken = acc == k if op == abi.BPF_JEQ else acc >= k
            pc += 1 + (jt if taken else jf)
        else:
            raise ValueError(f"unexpected BPF instruction {code:#x}")
