"""The few host calls path resolution needs that Python's os module lacks.

``openat2(2)`` is the heart of in-zone resolution (RESOLVE_IN_ROOT makes the
kernel treat a directory fd as ``/``), and ``fstatfs(2)`` tells whether a
symlink lives on procfs, where magic links (``/proc/PID/root``, ``fd/N``)
exist.  Both are reached through ctypes on a private ``CDLL`` instance, so the
``argtypes`` set here never leak into other users of libc.

Constants come from :mod:`syscalls.abi` (generated from the kernel headers).
Three limits are not in the uapi headers lx generates from, so they are
stated here with their origin: PATH_MAX and NAME_MAX (``linux/limits.h``) and
MAXSYMLINKS (``include/linux/namei.h``, kernel-internal).
"""
from __future__ import annotations

import ctypes
import errno
import os

from syscalls import abi
from syscalls._nr_x86_64 import NR

PATH_MAX = 4096      # linux/limits.h: includes the NUL, so a path has at most 4095 bytes
NAME_MAX = 255       # linux/limits.h: longest directory entry name
MAXSYMLINKS = 40     # include/linux/namei.h: symlinks followed in one lookup

O_PATH_FLAGS = abi.O_PATH | abi.O_CLOEXEC
"""What every resolution fd is opened with: a handle, never I/O, never inherited by a guest."""

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_syscall.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_long)
_fstatfs = _libc.fstatfs
_fstatfs.restype = ctypes.c_int
_fstatfs.argtypes = (ctypes.c_int, ctypes.c_void_p)

_NR_OPENAT2 = NR["openat2"]
_HOW_SIZE = abi.open_how.size
_how_cache: dict[tuple[int, int, int], bytes] = {}


def openat2(dirfd: int, path: bytes, flags: int, resolve: int, mode: int = 0) -> int:
    """``openat2(dirfd, path, {flags, mode, resolve})``: a new fd, or OSError with the kernel's errno.

    EAGAIN (the kernel saw a concurrent rename or mount while RESOLVE_IN_ROOT /
    RESOLVE_BENEATH was in force and refused to guess) is retried a few times,
    as openat2(2) tells callers to.
    """
    key = (flags, mode, resolve)
    how = _how_cache.get(key)
    if how is None:
        how = _how_cache[key] = abi.open_how.pack(flags=flags, mode=mode, resolve=resolve)
    for _ in range(8):
        fd = _syscall(_NR_OPENAT2, dirfd, path, how, _HOW_SIZE)
        if fd >= 0:
            return fd
        err = ctypes.get_errno()
        if err != errno.EAGAIN:
            break
    raise OSError(err, os.strerror(err), path)


def fstatfs_type(fd: int) -> int:
    """``f_type`` of the filesystem ``fd`` is on (the first field of struct statfs)."""
    buf = ctypes.create_string_buffer(256)   # struct statfs is 120 bytes on x86-64
    if _fstatfs(fd, buf) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return int.from_bytes(buf.raw[:8], "little", signed=True)


def _proc_type() -> int | None:
    """f_type of the host's procfs, learned from /proc itself rather than a magic number."""
    try:
        fd = os.open("/proc", O_PATH_FLAGS | abi.O_DIRECTORY)
    except OSError:
        return None
    try:
        return fstatfs_type(fd)
    finally:
        os.close(fd)


PROC_FS_TYPE = _proc_type()
_procfs_devs: dict[int, bool] = {}


def on_procfs(fd: int, st_dev: int) -> bool:
    """Whether ``fd`` (whose st_dev is ``st_dev``) is on a procfs; cached per device."""
    known = _procfs_devs.get(st_dev)
    if known is None:
        known = _procfs_devs[st_dev] = PROC_FS_TYPE is not None and fstatfs_type(fd) == PROC_FS_TYPE
    return known


def is_magic_link(dirfd: int, name: bytes) -> bool:
    """Whether the symlink ``name`` in ``dirfd`` is a procfs magic link.

    The kernel decides: following it with RESOLVE_NO_MAGICLINKS fails with
    ELOOP exactly for magic links (RESOLVE_IN_ROOT keeps an ordinary symlink's
    target from wandering; the probe's fd is closed unused).
    """
    try:
        fd = openat2(dirfd, name, O_PATH_FLAGS, abi.RESOLVE_NO_MAGICLINKS | abi.RESOLVE_IN_ROOT)
    except OSError as e:
        return e.errno == errno.ELOOP
    os.close(fd)
    return False


def host_path_of(fd: int) -> bytes:
    """The host path the kernel has for ``fd`` (readlink of /proc/self/fd/N).

    For an unlinked file or directory the kernel appends b" (deleted)"; this
    returns the text as the kernel gives it.
    """
    return os.readlink(b"/proc/self/fd/%d" % fd)


def oserror(code: int, what: bytes | str | None = None) -> OSError:
    """An OSError (the right subclass, e.g. FileNotFoundError) for errno ``code``."""
    if what is None:
        return OSError(code, os.strerror(code))
    return OSError(code, os.strerror(code), what)
