"""Guest path arguments -> resolved zone objects, for the path handlers.

A handler gets the guest's raw arguments; ``at()`` reads the path from
guest memory and resolves it in the zone relative to the guest's own cwd or
dirfd (the kernel's objects, reached through /proc/PID/{cwd,fd/N} and held
as O_PATH fds, so the resolver never needs a guest path for them).
``raw()`` makes a syscall on the supervisor's side with Linux numbers and
raw buffers, so results (struct stat, statx...) are copied byte for byte.
"""
from __future__ import annotations

import ctypes
import os
from typing import TYPE_CHECKING

from lx import procstatus
from lx.procstatus import tgid
from syscalls import abi
from syscalls._nr_x86_64 import NR
from syscalls.registry import LinuxError

if TYPE_CHECKING:
    from lx.platform.call import Call
    from lx.vfs.resolved import Resolved

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def raw(name: str, *args: int | bytes | ctypes.Array | None) -> int:
    """The syscall ``name`` with C arguments; OSError on failure."""
    conv = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    r = _syscall(ctypes.c_long(NR[name]), *conv)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def _base_fd(call: "Call", dirfd: int) -> int:
    """An O_PATH fd of the guest's cwd (AT_FDCWD) or of its fd ``dirfd``."""
    what = "cwd" if dirfd == abi.AT_FDCWD else f"fd/{dirfd}"
    try:
        return os.open(f"/proc/{call.pid}/{what}", os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        raise LinuxError(abi.EBADF) from None


def read_path(call: "Call", ptr: int) -> bytes:
    """The path string at ``ptr`` (EFAULT, ENAMETOOLONG as the kernel's getname)."""
    return call.read_str(ptr)


def proc_self(call: "Call", path: bytes) -> bytes:
    """/proc/self and /proc/thread-self name the *guest* (the zone's /proc is
    the host's procfs, where they would name the supervisor)."""
    if path == b"/proc/self" or path.startswith(b"/proc/self/"):
        return b"/proc/%d" % tgid(call.pid) + path[len(b"/proc/self"):]
    if path == b"/proc/thread-self" or path.startswith(b"/proc/thread-self/"):
        return b"/proc/%d/task/%d" % (tgid(call.pid), call.pid) + path[len(b"/proc/thread-self"):]
    return path


_STDIO = {b"/dev/stdin": 0, b"/dev/stdout": 1, b"/dev/stderr": 2}


def fd_link(call: "Call", path: bytes) -> str | None:
    """The host /proc link for a guest path naming one of a process's fds
    (/dev/std*, /dev/fd/N, /proc/PID/fd/N): opening it reopens that fd,
    which the zone's resolver refuses (it never follows magic links)."""
    if path in _STDIO:
        return f"/proc/{call.pid}/fd/{_STDIO[path]}"
    if path.startswith(b"/dev/fd/") and path[8:].isdigit():
        return f"/proc/{call.pid}/fd/{int(path[8:])}"
    parts = path.split(b"/")
    if len(parts) == 5 and parts[1] == b"proc" and parts[2].isdigit() and parts[3] == b"fd" \
            and parts[4].isdigit():
        return f"/proc/{int(parts[2])}/fd/{int(parts[4])}"
    if len(parts) == 7 and parts[1] == b"proc" and parts[3] == b"task" and parts[5] == b"fd" \
            and parts[4].isdigit() and parts[6].isdigit():
        return f"/proc/{int(parts[4])}/fd/{int(parts[6])}"
    return None


def at(call: "Call", dirfd: int, path: bytes, *, follow: bool = True, parent: bool = False,
       must_exist: bool = True, empty_path: bool = False) -> "Resolved":
    """Resolve ``path`` (already read) in the zone as ``*at(dirfd, path)`` would."""
    if not path and not empty_path:
        raise LinuxError(abi.ENOENT)    # getname() refuses "" before the dirfd is looked at
    if path.startswith(b"/proc/"):
        path = proc_self(call, path)
    if path.startswith(b"/"):
        return call.zone.resolve(path, follow=follow, parent=parent, must_exist=must_exist,
                                 empty_path=empty_path)
    base = _base_fd(call, dirfd)
    try:
        if dirfd != abi.AT_FDCWD and path and not os.path.isdir(f"/proc/self/fd/{base}"):
            raise LinuxError(abi.ENOTDIR)
        return call.zone.resolve(path, dirfd=base, follow=follow, parent=parent, must_exist=must_exist,
                                 empty_path=empty_path)
    finally:
        os.close(base)


def guest_umask(call: "Call") -> int:
    """The calling process's umask (applied by the kernel to what it creates)."""
    mask = procstatus.umask(call.pid)
    return 0o022 if mask is None else mask


class umask_of:
    """Run a creating call with the guest's umask (the supervisor's is restored after)."""

    def __init__(self, call: "Call") -> None:
        self.mask = guest_umask(call)

    def __enter__(self) -> None:
        self.saved = os.umask(self.mask)

    def __exit__(self, *exc: object) -> None:
        os.umask(self.saved)


def check_writable(r: "Resolved") -> None:
    """EROFS for changes inside a read-only bind."""
    if r.mount.readonly:
        raise LinuxError(abi.EROFS)
