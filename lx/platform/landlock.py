"""Landlock: the second wall around a zone (DESIGN.md, "Two walls").

Every guest process runs in one Landlock domain built here.  Landlock needs no
privilege, only PR_SET_NO_NEW_PRIVS, and a domain is inherited across fork and
execve and can never be left or widened.

What the domain blocks (checked against the running kernel by
tests/lx/platform/test_landlock.py), for paths outside the zone root, the binds
and lx's loader files, with EACCES: open(2) for reading, writing or listing a
directory (also when reached through an inherited dirfd or /proc/self/fd);
execve(2); creating anything (O_CREAT, mkdir, mknod, mkfifo, symlink, link,
bind of a pathname AF_UNIX socket); unlink/rmdir; truncate (ABI 3); ioctl on
devices opened inside the domain (ABI 5) except beneath /dev binds.  rename
and link across the boundary fail with EACCES when the outside side lacks the
right (creating or removing there) and with EXDEV when only REFER forbids it
(a host file hard-linked into the zone).  With scoping (ABI 6+; before that
neither is confined) kill/tgkill/SIGIO to any process outside the domain --
the supervisor and the caller included -- and connect/sendto to abstract
AF_UNIX sockets bound outside it fail with EPERM.  Landlock's own rule: no
ptrace of a process outside the domain (EPERM).

What it does not block -- the first wall (path translation) and the
supervisor must: stat/lstat/statx, access/faccessat, readlink, chdir,
getxattr/listxattr and O_PATH opens of any host path (existence and metadata
leak); chmod, chown, utimes, setxattr/removexattr of host files the uid owns
(metadata changes!); connect(2) to pathname AF_UNIX sockets outside (e.g.
/run/dbus, docker.sock: no Landlock right covers it up to ABI 7);
mmap(PROT_EXEC) of any readable file (EXECUTE covers execve only); I/O on
fds opened before restrict_self or injected by the supervisor (read, write,
getdents, ioctl of an inherited tty all work); the network.

Network: TCP is left unrestricted on purpose (no NET rights are handled), so
a zone shares the host's network as zone.json's default says; UDP and other
protocols are outside Landlock anyway.

C side (the guest bootstrap, once, in the zone's first process while it is
single-threaded -- restrict_self covers the calling thread only; never again
per execve: each call nests a domain, a nested domain cannot signal or reach
the abstract sockets of its parent, and nesting stops at 16): the supervisor
passes the fd from build_ruleset(); the guest calls prctl(PR_SET_NO_NEW_PRIVS,
1, 0, 0, 0), then syscall(NR_LANDLOCK_RESTRICT_SELF, fd, 0) (flags 0: audit
logs denials only until the next execve), closes fd, and only then installs
the seccomp filter, so restrict_self is never sent to the supervisor.
Children inherit the domain across fork and execve.
"""
from __future__ import annotations

import ctypes
import functools
import os
import stat
import struct
from collections.abc import Iterable

from syscalls import abi
from syscalls._nr_x86_64 import NR

NR_LANDLOCK_CREATE_RULESET = NR["landlock_create_ruleset"]
NR_LANDLOCK_ADD_RULE = NR["landlock_add_rule"]
NR_LANDLOCK_RESTRICT_SELF = NR["landlock_restrict_self"]

# include/uapi/linux/landlock.h.  syscalls.abi does not generate Landlock, and
# the installed header (linux-libc-dev 6.1) stops at ABI 2, so every value is
# stated here once, with the ABI (and kernel) that introduced it.  Verified on
# Linux 6.18 (ABI 7): a ruleset accepts exactly bits 0..15 of fs, 0..1 of net
# and 0..1 of scoped, restrict_self exactly flags 0..2 (bit 2 alone with fd
# -1); a ruleset handling one bit alone showed that bit's effect (truncate,
# cross-dir link, fresh-tty ioctl, TCP bind/connect, abstract connect, kill).
LANDLOCK_CREATE_RULESET_VERSION = 1 << 0          # ABI 1, Linux 5.13 (in installed header)
LANDLOCK_CREATE_RULESET_ERRATA = 1 << 1           # Linux 6.15 (in installed header, backported)
LANDLOCK_RULE_PATH_BENEATH = 1                    # ABI 1 (in installed header)
LANDLOCK_RULE_NET_PORT = 2                        # ABI 4, Linux 6.7
LANDLOCK_ACCESS_FS_EXECUTE = 1 << 0               # ABI 1 .. MAKE_SYM: in installed header
LANDLOCK_ACCESS_FS_WRITE_FILE = 1 << 1
LANDLOCK_ACCESS_FS_READ_FILE = 1 << 2
LANDLOCK_ACCESS_FS_READ_DIR = 1 << 3
LANDLOCK_ACCESS_FS_REMOVE_DIR = 1 << 4
LANDLOCK_ACCESS_FS_REMOVE_FILE = 1 << 5
LANDLOCK_ACCESS_FS_MAKE_CHAR = 1 << 6
LANDLOCK_ACCESS_FS_MAKE_DIR = 1 << 7
LANDLOCK_ACCESS_FS_MAKE_REG = 1 << 8
LANDLOCK_ACCESS_FS_MAKE_SOCK = 1 << 9
LANDLOCK_ACCESS_FS_MAKE_FIFO = 1 << 10
LANDLOCK_ACCESS_FS_MAKE_BLOCK = 1 << 11
LANDLOCK_ACCESS_FS_MAKE_SYM = 1 << 12
LANDLOCK_ACCESS_FS_REFER = 1 << 13                # ABI 2, Linux 5.19 (in installed header)
LANDLOCK_ACCESS_FS_TRUNCATE = 1 << 14             # ABI 3, Linux 6.2
LANDLOCK_ACCESS_FS_IOCTL_DEV = 1 << 15            # ABI 5, Linux 6.10
LANDLOCK_ACCESS_NET_BIND_TCP = 1 << 0             # ABI 4, Linux 6.7
LANDLOCK_ACCESS_NET_CONNECT_TCP = 1 << 1          # ABI 4, Linux 6.7
LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0      # ABI 6, Linux 6.12
LANDLOCK_SCOPE_SIGNAL = 1 << 1                    # ABI 6, Linux 6.12
LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF = 1 << 0  # ABI 7, Linux 6.15 (audit logging)
LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON = 1 << 1    # ABI 7
LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF = 1 << 2  # ABI 7

# struct landlock_ruleset_attr {u64 handled_access_fs, handled_access_net (ABI 4),
# scoped (ABI 6)}; struct landlock_path_beneath_attr {u64 allowed_access; s32
# parent_fd} __packed.
_RULESET_ATTR = struct.Struct("<QQQ")
_PATH_BENEATH_ATTR = struct.Struct("<Qi")

_FS_ABI1 = (1 << 13) - 1                         # EXECUTE .. MAKE_SYM
_FS_BY_ABI = {1: _FS_ABI1, 2: _FS_ABI1 | LANDLOCK_ACCESS_FS_REFER}
_FS_BY_ABI[3] = _FS_BY_ABI[4] = _FS_BY_ABI[2] | LANDLOCK_ACCESS_FS_TRUNCATE
_FS_BY_ABI[5] = _FS_BY_ABI[3] | LANDLOCK_ACCESS_FS_IOCTL_DEV
# The only rights a rule on a non-directory may carry (else EINVAL).
FS_FILE_RIGHTS = (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE
                  | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
FS_READ_EXEC = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_syscall.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_long)
_prctl = _libc.prctl
_prctl.restype = ctypes.c_int
_prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


@functools.cache
def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is absent or disabled at boot."""
    ret = _syscall(NR_LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION)
    if ret < 0:
        if ctypes.get_errno() in (abi.ENOSYS, abi.EOPNOTSUPP):
            return 0
        _check(ret, "landlock_create_ruleset(VERSION)")
    return ret


def handled_fs(version: int | None = None) -> int:
    """Every filesystem right ABI ``version`` (default: this kernel's) knows -- the "best effort" set."""
    version = abi_version() if version is None else version
    return _FS_BY_ABI[min(version, 5)] if version > 0 else 0


def _under_dev(fd: int) -> bool:
    """Whether the object open at ``fd`` is /dev or beneath it (the device binds)."""
    real = os.readlink(f"/proc/self/fd/{fd}")
    return real == "/dev" or real.startswith("/dev/")


def _add_path(ruleset: int, path: bytes | str, rights: int) -> None:
    """One PATH_BENEATH rule: ``rights`` beneath ``path`` (only file rights if it is not a directory)."""
    fd = os.open(path, abi.O_PATH | abi.O_CLOEXEC)
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FS_FILE_RIGHTS
        if rights & LANDLOCK_ACCESS_FS_IOCTL_DEV and not _under_dev(fd):
            rights &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV
        attr = ctypes.create_string_buffer(_PATH_BENEATH_ATTR.pack(rights, fd), _PATH_BENEATH_ATTR.size)
        _check(_syscall(NR_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.addressof(attr), 0),
               f"landlock_add_rule({os.fsdecode(path)!r})")
    finally:
        os.close(fd)


def build_ruleset(paths_rw: Iterable[bytes | str], paths_ro: Iterable[bytes | str] = (),
                  paths_exec: Iterable[bytes | str] = (), *, scope_signals: bool = True,
                  scope_abstract_unix: bool = True) -> int:
    """A Landlock ruleset fd (close-on-exec) for one zone.

    It handles every filesystem right the kernel's ABI knows (rights newer than
    the ABI are dropped, as in the kernel docs' best-effort example) and allows:
    everything beneath each ``paths_rw`` (the zone root, rw binds; device
    ioctls only beneath /dev), read + execute + list beneath each ``paths_ro``
    (ro binds; device ioctls beneath /dev), and EXECUTE | READ_FILE on each
    ``paths_exec`` (lx's loader stub).  Network rights are not handled, so TCP
    stays open.  Signals and abstract AF_UNIX sockets are scoped to the domain
    when asked and the ABI (6+) can.  A missing path raises OSError: a bind
    that is not there is a configuration error, not something to skip.
    """
    version = abi_version()
    if version == 0:
        raise OSError(abi.EOPNOTSUPP, "Landlock is not available on this kernel")
    fs = handled_fs(version)
    scoped = 0
    if version >= 6:
        scoped = ((LANDLOCK_SCOPE_SIGNAL if scope_signals else 0)
                  | (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET if scope_abstract_unix else 0))
    size = _RULESET_ATTR.size if scoped else 8      # older kernels take the ABI-1 struct
    attr = ctypes.create_string_buffer(_RULESET_ATTR.pack(fs, 0, scoped), _RULESET_ATTR.size)
    ruleset = _check(_syscall(NR_LANDLOCK_CREATE_RULESET, ctypes.addressof(attr), size, 0),
                     "landlock_create_ruleset")
    try:
        for path in paths_rw:
            _add_path(ruleset, path, fs)
        for path in paths_ro:
            _add_path(ruleset, path, fs & (FS_READ_EXEC | LANDLOCK_ACCESS_FS_IOCTL_DEV))
        for path in paths_exec:
            _add_path(ruleset, path, fs & (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE))
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


def restrict_self(ruleset_fd: int, flags: int = 0) -> None:
    """Enter the ruleset's domain: PR_SET_NO_NEW_PRIVS, then landlock_restrict_self.

    Affects the calling thread only (and what it forks and execs), so call it
    in a single-threaded child before exec.  Guests do the same from C (see
    the module doc); this is for Python-side children and tests.
    """
    _check(_prctl(abi.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    _check(_syscall(NR_LANDLOCK_RESTRICT_SELF, ruleset_fd, flags, 0, 0), "landlock_restrict_self")
