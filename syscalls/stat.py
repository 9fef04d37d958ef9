"""stat family.  In a zone the path is resolved in the zone and the
supervisor stats the resolved object with the same call, copying the
kernel's struct byte for byte (fake ownership arrives with the identity
issue).  fstat and stat by fd alone (AT_EMPTY_PATH with an empty path) need
no path and run in the guest unchanged.
"""
from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

from lx.vfs.guest import at, raw, read_path

from . import abi
from .args import Fd, Int, Ptr, UInt
from .registry import CONTINUE, passthrough, syscall

if TYPE_CHECKING:
    from lx.platform.call import Call

_STAT = abi.stat.size          # the kernel's struct stat (144 on x86-64)
_STATX = abi.statx.size        # struct statx (256)
_NOTE = "Zones: resolved in the zone, the result copied as the kernel wrote it."


def _stat(call: Call, dirfd: int, path: int, buf: int, flags: int) -> int:
    if flags & ~(abi.AT_SYMLINK_NOFOLLOW | abi.AT_EMPTY_PATH | abi.AT_NO_AUTOMOUNT):
        return -abi.EINVAL
    # 6.11+: a NULL path with AT_EMPTY_PATH is "" (fs/stat.c vfs_empty_path)
    p = b"" if path == 0 and flags & abi.AT_EMPTY_PATH else read_path(call, path)
    if not p and flags & abi.AT_EMPTY_PATH and dirfd != abi.AT_FDCWD:
        return CONTINUE                                    # fstat(fd): no path
    out = ctypes.create_string_buffer(_STAT)
    with at(call, dirfd, p, follow=not flags & abi.AT_SYMLINK_NOFOLLOW,
            empty_path=bool(flags & abi.AT_EMPTY_PATH)) as r:
        raw("newfstatat", r.fd, b"", out, abi.AT_EMPTY_PATH)
    call.write(buf, out.raw)
    return 0


@syscall("stat", note=_NOTE, zone=True)
def sys_stat(call: Call, path: Ptr, buf: Ptr) -> int:
    """Implements stat(2) in a zone."""
    return _stat(call, abi.AT_FDCWD, path, buf, 0)


@syscall("lstat", note=_NOTE, zone=True)
def sys_lstat(call: Call, path: Ptr, buf: Ptr) -> int:
    """Implements lstat(2) in a zone."""
    return _stat(call, abi.AT_FDCWD, path, buf, abi.AT_SYMLINK_NOFOLLOW)


@syscall("newfstatat", note=_NOTE, zone=True)
def sys_newfstatat(call: Call, dirfd: Fd, path: Ptr, buf: Ptr, flags: Int) -> int:
    """Implements newfstatat(2) (fstatat) in a zone."""
    return _stat(call, dirfd, path, buf, flags)


@syscall("statx", note=_NOTE, zone=True)
def sys_statx(call: Call, dirfd: Fd, path: Ptr, flags: Int, mask: UInt, buf: Ptr) -> int:
    """Implements statx(2) in a zone."""
    known = abi.AT_SYMLINK_NOFOLLOW | abi.AT_EMPTY_PATH | abi.AT_NO_AUTOMOUNT | abi.AT_STATX_SYNC_TYPE
    if flags & ~known or flags & abi.AT_STATX_SYNC_TYPE == abi.AT_STATX_SYNC_TYPE:
        return -abi.EINVAL
    p = b"" if path == 0 and flags & abi.AT_EMPTY_PATH else read_path(call, path)
    if not p and flags & abi.AT_EMPTY_PATH and dirfd != abi.AT_FDCWD:
        return CONTINUE
    out = ctypes.create_string_buffer(_STATX)
    with at(call, dirfd, p, follow=not flags & abi.AT_SYMLINK_NOFOLLOW,
            empty_path=bool(flags & abi.AT_EMPTY_PATH)) as r:
        raw("statx", r.fd, b"", abi.AT_EMPTY_PATH | (flags & abi.AT_STATX_SYNC_TYPE), mask, out)
    call.write(buf, out.raw)
    return 0


passthrough("fstat", "ustat", "sysfs", note="No path: runs on the host unchanged.")
