"""What :meth:`lx.vfs.ZoneFS.resolve` returns: fds, not strings, and how to act on them.

The TOCTOU contract: the resolved object is held as an O_PATH fd.  Act on it --
``os.fstat(r.fd)``, :meth:`Resolved.open` (a reopen of ``/proc/self/fd/N``, no
path lookup), ``readlinkat(r.fd, "")``, ``*at(r.parent_fd, r.name, ...)`` for
entry operations (unlink, rename, mkdir: one name in a held directory, never
following a symlink) -- and a guest thread that swaps a path component after
resolution changes nothing.  ``r.host`` is a string and therefore a window;
it is there for logs and for results that are paths.

Calls that refuse O_PATH fds (fchmod, fchown, fsetxattr, ...) take the
``*at(r.fd, "", AT_EMPTY_PATH)`` form where the kernel has one (fchownat,
fstatat, linkat) or ``/proc/self/fd/N`` (chmod, xattrs, utimes: the kernel
follows that link to the held inode, never by name).  Resolution knows no
permissions beyond the host's: entry operations check ``r.mount.readonly``
(EROFS), ``r.is_mountpoint`` (EBUSY for rmdir/rename of a bind's top) and,
for rename and link, that both ends share ``r.mount`` (EXDEV) themselves.
"""
from __future__ import annotations

import errno
import os
import stat
from typing import TYPE_CHECKING

from syscalls import abi

from ._sys import host_path_of, oserror, openat2
from .binds import Mount

if TYPE_CHECKING:
    from .resolve import ZoneFS

_WRITES = abi.O_WRONLY | abi.O_RDWR | abi.O_TRUNC


class Resolved:
    """A resolved guest path; owns ``fd`` and ``parent_fd`` (close it, or use ``with``).

    ``fd``        O_PATH fd of the object, None when it does not exist (only
                  with ``must_exist=False``).  With ``follow=False`` and a
                  symlink as last component, the symlink itself.
    ``parent_fd`` O_PATH fd of the directory holding ``name``; set when the
                  caller asked for ``parent=True`` or ``must_exist=False`` and
                  the path ends in a name (not ``/``, ``.``, ``..``).
    ``name``      with ``parent=True`` (entry operations): the last component as
                  the kernel sees it -- a name, or b"." / b".." / b"" (the path
                  was ``/``), to which rmdir/unlink/mkdir apply their
                  EINVAL/EBUSY/EEXIST rules; after following a last symlink, the
                  last component of its target.  Otherwise the last component
                  of :attr:`guest`.
    ``trailing_slash`` the guest path ended in ``/``.
    """

    __slots__ = ("fd", "parent_fd", "_name", "trailing_slash", "_zone", "_guest")

    def __init__(self, zone: "ZoneFS", fd: int | None, parent_fd: int | None, name: bytes | None,
                 trailing_slash: bool, guest: bytes | None) -> None:
        self.fd, self.parent_fd, self._name = fd, parent_fd, name
        self.trailing_slash = trailing_slash
        self._zone, self._guest = zone, guest

    @property
    def name(self) -> bytes:
        """See the class doc."""
        if self._name is None:
            self._name = self.guest.rpartition(b"/")[2]
        return self._name

    @property
    def exists(self) -> bool:
        """Whether the object exists (fd is not None)."""
        return self.fd is not None

    @property
    def host(self) -> bytes:
        """Host path of the object (or where it would be created); for logs, not for acting on."""
        if self.fd is not None:
            return host_path_of(self.fd)
        return host_path_of(self.parent_fd) + b"/" + self.name

    @property
    def guest(self) -> bytes:
        """The guest path of the object, symlinks before the last component resolved."""
        if self._guest is None:
            g = self._zone.to_guest(self.host)
            self._guest = g if g is not None else b"/"
        return self._guest

    @property
    def mount(self) -> Mount:
        """The mount the object is in (for a mount's top: that mount)."""
        g = self.guest
        return self._zone.mounts.mount_for(g[1:].split(b"/") if g != b"/" else ())

    @property
    def is_mountpoint(self) -> bool:
        """The object is the top of a mount (a bind's guest path, or ``/``): rmdir/rename give EBUSY."""
        return self.guest in self._zone.mounts.by_guest

    def stat(self) -> os.stat_result:
        """``fstat`` of the object (lstat semantics when resolved with follow=False)."""
        if self.fd is None:
            raise oserror(errno.ENOENT, self.name)
        return os.fstat(self.fd)

    def open(self, flags: int, mode: int = 0o666) -> int:
        """A real (non-O_PATH) fd for the object, opened with Linux ``open`` flags.

        Existing objects are reopened through ``/proc/self/fd/N`` (the kernel
        checks permissions anew and no path is looked up again); a missing one
        is created in ``parent_fd`` with ``RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS``,
        so a symlink planted there since resolution fails with ELOOP instead
        of being followed.  EROFS for writes in a read-only bind.
        """
        creating = self.fd is None
        if self.mount.readonly and (flags & _WRITES or (creating and flags & abi.O_CREAT)):
            raise oserror(errno.EROFS, self.name)
        if creating:
            if not flags & abi.O_CREAT or self.parent_fd is None:
                raise oserror(errno.ENOENT, self.name)
            if self.trailing_slash:
                raise oserror(errno.EISDIR, self.name)
            return openat2(self.parent_fd, self.name, flags | abi.O_CLOEXEC,
                           abi.RESOLVE_BENEATH | abi.RESOLVE_NO_SYMLINKS, mode & 0o7777)
        if flags & abi.O_CREAT:
            if flags & abi.O_EXCL:
                raise oserror(errno.EEXIST, self.name)
            if stat.S_ISDIR(os.fstat(self.fd).st_mode):
                raise oserror(errno.EISDIR, self.name)
        # O_NOFOLLOW would give the /proc link itself; without it the kernel jumps to the
        # held inode and, for a symlink (follow=False), answers ELOOP unless O_PATH -- as
        # open(O_NOFOLLOW) of a symlink does.
        flags &= ~(abi.O_CREAT | abi.O_EXCL | abi.O_NOFOLLOW)
        return os.open(b"/proc/self/fd/%d" % self.fd, flags | abi.O_CLOEXEC)

    def close(self) -> None:
        """Close the fds this result owns (idempotent)."""
        for fd in (self.fd, self.parent_fd):
            if fd is not None:
                os.close(fd)
        self.fd = self.parent_fd = None

    def __enter__(self) -> "Resolved":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Resolved({self.guest!r}, fd={self.fd}, parent_fd={self.parent_fd}, name={self.name!r})"
