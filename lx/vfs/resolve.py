"""Guest path resolution inside a zone: the kernel walks, lx only keeps the mount table.

A zone's guest sees its root directory as ``/`` plus binds (see :mod:`.binds`).
:meth:`ZoneFS.resolve` turns a guest path into an **O_PATH fd** of the object
it names.  The fd, not a string, is the result: a guest thread that swaps a
symlink after resolution cannot redirect what the caller then does, as long as
the caller acts on the fd (``os.fstat(r.fd)``, :meth:`Resolved.open`, which
reopens ``/proc/self/fd/N``, ``*at(r.parent_fd, r.name, ...)`` with no symlink
following for entry operations).  :attr:`Resolved.host` exists for logs and
for the rare call that needs a string; a string is a TOCTOU window.

How a path is walked (the choice is per call and invisible in the result):

* **Fast path, no binds** -- one ``openat2(root_fd, path, O_PATH,
  RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)``.  The kernel resolves ``..`` and
  absolute symlinks as if ``root_fd`` were ``/`` (chroot semantics, checked
  against a real chroot in the tests), never follows a procfs magic link
  (ELOOP), and retries itself on concurrent renames.  Exact, because with no
  binds the zone *is* the root directory.
* **Fast path with binds** -- when the path, folded lexically (``..`` pops,
  clamped at ``/``), never steps onto a bind's guest path, one ``openat2`` with
  ``RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS``.  If it succeeds no symlink was
  crossed, so the lexical fold is exactly what the kernel walked and no bind
  was touched; errors other than ELOOP are equally exact.  ELOOP means "a
  symlink was there" (it might lead into a bind): take the walk.
* **Walk** (:mod:`.walk`) -- otherwise: name by name (runs of plain names in
  one ``openat2`` with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), the mount table
  consulted before every step, symlinks read with ``readlinkat`` and their
  text walked again (absolute ones from the guest root), ``..`` popping a
  stack of the directories actually passed through (so ``..`` from a bind's
  top lands on the bind's guest parent, and from ``/`` stays at ``/``).  The
  kernel is never asked to follow a symlink, so nothing it could follow
  (magic or not) leads outside; procfs magic links (in a bind of /proc) fail
  with ELOOP as RESOLVE_NO_MAGICLINKS would.  At most 40 links per lookup.

With ``parent=True`` the fast paths open the directory with that one
``openat2`` and look the last name up with a single-name ``openat(O_NOFOLLOW)``;
a last symlink that has to be followed goes to the walk.  Relative paths are
joined to the base's guest path first (a base fd is mapped with
:meth:`ZoneFS.to_guest`); a joined path over 4095 bytes, or a deleted base
directory, takes the walk from the base itself.

Where this differs from a chroot plus real bind mounts (the tests' oracle):
procfs magic links always fail with ELOOP (a chrooted process could follow
/proc/self/root to its root; the guest's /proc is to be emulated, and a bound
host /proc describes the supervisor anyway); a base directory fd outside the
zone is refused (EXDEV) instead of letting ``..`` climb from it; a bind needs
no mountpoint in the root.

Errors are host OSErrors carrying Linux errnos (this host is Linux): ENOENT,
ENOTDIR, ELOOP, ENAMETOOLONG (whole path >= 4096 bytes here; a component over
255 bytes is reported by the filesystem, in walk order, as the kernel does),
EACCES (search permission on a directory, enforced by the kernel for the
calling user -- moot when running as root), EXDEV for a base directory fd
outside the zone.
"""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable

from syscalls import abi

from ._sys import O_PATH_FLAGS, PATH_MAX, host_path_of, oserror, openat2
from .binds import Bind, MountTable
from .resolved import Resolved
from .walk import walk

_OBJ = O_PATH_FLAGS | abi.O_NOFOLLOW
_IN_ROOT = abi.RESOLVE_IN_ROOT | abi.RESOLVE_NO_MAGICLINKS
_IN_ROOT_PLAIN = abi.RESOLVE_IN_ROOT | abi.RESOLVE_NO_SYMLINKS


def _split_last(g: bytes) -> tuple[bytes, bytes]:
    """Absolute ``g`` -> (directory part, last component); (b"/", b"") for the root."""
    g = g.rstrip(b"/")
    i = g.rfind(b"/")
    if i < 0:
        return b"/", b""
    return g[:i] or b"/", g[i + 1:]


class ZoneFS:
    """A zone's filesystem view: root directory plus binds; resolves guest paths to fds.

    ``root`` is opened once (O_PATH|O_DIRECTORY); ``binds`` are :class:`Bind`
    or ``(host, guest, readonly)`` tuples, validated by :class:`MountTable`
    (ZoneConfigError on a missing host path, a relative guest path...).
    ``fast=False`` forces the component walk (tests and benchmarks).
    """

    def __init__(self, root: str | bytes | os.PathLike, binds: Iterable[Bind | tuple] = (),
                 *, fast: bool = True) -> None:
        self.mounts = MountTable(root, binds)
        self.root_fd = self.mounts.root.fd
        self.has_binds = len(self.mounts.by_guest) > 1
        self._fast = fast

    def close(self) -> None:
        """Close the root and bind fds."""
        self.mounts.close()

    def __enter__(self) -> "ZoneFS":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    host_path_of = staticmethod(host_path_of)

    def to_guest(self, host: bytes) -> bytes | None:
        """Host path -> guest path (binds by longest host prefix, then the root); None if outside."""
        return self.mounts.to_guest(host)

    # -- entry point ---------------------------------------------------------------------------

    def resolve(self, path: bytes, *, cwd: bytes | int = b"/", dirfd: bytes | int | None = None,
                follow: bool = True, must_exist: bool = True, parent: bool = False,
                empty_path: bool = False) -> Resolved:
        """Resolve guest ``path`` to a :class:`Resolved` (see the module doc for how).

        Relative paths start at ``dirfd`` if given, else ``cwd``; either is a
        guest path (absolute) or a host fd of a directory the guest holds.  A
        host fd outside the zone is refused with EXDEV (never used as a base:
        ``..`` from it could climb the host).  ``follow=False`` leaves a
        symlink in the last position unfollowed.  ``parent=True`` is for
        calls that act on the directory entry (unlink, rmdir, rename, mkdir,
        symlink, link, O_CREAT): it keeps ``parent_fd`` and a trailing slash is
        only reported, whereas for lookups (``parent=False``) a trailing slash
        means "follow, and it must be a directory" (ENOTDIR otherwise).
        ``must_exist=False`` (implies ``parent``) returns ``fd=None`` when only
        the last component is missing.  An empty path is ENOENT unless
        ``empty_path`` (AT_EMPTY_PATH): then the base itself is the result.
        """
        path = os.fsencode(path)
        if isinstance(cwd, str):
            cwd = os.fsencode(cwd)
        if isinstance(dirfd, str):
            dirfd = os.fsencode(dirfd)
        if len(path) >= PATH_MAX:
            raise oserror(errno.ENAMETOOLONG, path)
        parent = parent or not must_exist
        base = cwd if dirfd is None else dirfd
        if not path:
            if not empty_path:
                raise oserror(errno.ENOENT, path)
            return self._resolve_base(base)
        trailing = path.endswith(b"/") and path.strip(b"/") != b""
        start_fd: int | None = None
        if path.startswith(b"/"):
            gpath = path
        elif isinstance(base, int):
            gbase, deleted = self._guest_of_fd(base, need_dir=True)
            gpath = gbase.rstrip(b"/") + b"/" + path
            if deleted:
                start_fd = base
        else:
            if not base.startswith(b"/"):
                raise ValueError(f"cwd/dirfd guest path must be absolute, got {base!r}")
            gpath = base.rstrip(b"/") + b"/" + path
        if self._fast and start_fd is None and len(gpath) < PATH_MAX:
            r = self._fast_resolve(gpath, follow, must_exist, parent, trailing)
            if r is not None:
                return r
        if start_fd is not None:
            return walk(self, path, gbase, start_fd, follow, must_exist, parent, trailing)
        return walk(self, gpath, b"/", None, follow, must_exist, parent, trailing)

    def _guest_of_fd(self, fd: int, need_dir: bool) -> tuple[bytes, bool]:
        """(guest path, deleted?) of a host fd the guest holds; EXDEV if outside the zone."""
        host = host_path_of(fd)
        st = os.fstat(fd)
        deleted = host.endswith(b" (deleted)") and st.st_nlink == 0
        if deleted:
            host = host[:-len(b" (deleted)")]
        guest = self.to_guest(host) if host.startswith(b"/") else None
        if guest is None:
            raise oserror(errno.EXDEV, host)
        if need_dir and not stat.S_ISDIR(st.st_mode):
            raise oserror(errno.ENOTDIR, host)
        return guest, deleted

    def _resolve_base(self, base: bytes | int) -> Resolved:
        """AT_EMPTY_PATH: the base itself (any file type for an fd)."""
        if isinstance(base, int):
            guest, _ = self._guest_of_fd(base, need_dir=False)
            return Resolved(self, os.dup(base), None, None, False, guest)
        return self.resolve(base)

    # -- fast path -----------------------------------------------------------------------------

    def _lexical(self, gpath: bytes) -> bytes | None:
        """``gpath`` folded lexically, or None if any step of it lands on a bind's guest path."""
        tops = self.mounts.tops
        parts: list[bytes] = []
        for c in gpath.split(b"/"):
            if not c or c == b".":
                continue
            if c == b"..":
                if parts:
                    parts.pop()
                continue
            if not parts and c not in tops and b"/.." not in gpath:
                # first step avoids every bind and the path never climbs back: clear
                return b"/" + b"/".join(p for p in gpath.split(b"/") if p and p != b".")
            parts.append(c)
            if b"/" + b"/".join(parts) in self.mounts.by_guest:
                return None
        return b"/" + b"/".join(parts)

    def _fast_resolve(self, gpath: bytes, follow: bool, must_exist: bool, parent: bool,
                      trailing: bool) -> Resolved | None:
        """One-openat2 resolution when it is exact (module doc); None: take the walk."""
        guest = None
        if self.has_binds:
            guest = self._lexical(gpath)
            if guest is None:
                return None
            how = _IN_ROOT_PLAIN
        else:
            how = _IN_ROOT
        root = self.root_fd
        try:
            if not parent:
                fd = openat2(root, gpath, O_PATH_FLAGS if follow else _OBJ, how)
                return Resolved(self, fd, None, None, trailing, guest)
            head, name = _split_last(gpath)
            if name in (b"", b".", b".."):
                fd = openat2(root, gpath, O_PATH_FLAGS, how)
                return Resolved(self, fd, None, name, trailing, guest)
            pfd = openat2(root, head, O_PATH_FLAGS | abi.O_DIRECTORY, how)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EXDEV) or (e.errno == errno.ELOOP and self.has_binds):
                # EAGAIN/EXDEV: a rename raced the kernel's in-root checks; ELOOP: a symlink
                return None
            raise
        try:
            fd = os.open(name, _OBJ, dir_fd=pfd)
        except FileNotFoundError:
            if must_exist:
                os.close(pfd)
                raise
            return Resolved(self, None, pfd, name, trailing, guest)
        except BaseException:
            os.close(pfd)
            raise
        if follow and stat.S_ISLNK(os.fstat(fd).st_mode):
            os.close(fd)
            os.close(pfd)
            return None       # following the last link for an entry operation: the walk knows how
        return Resolved(self, fd, pfd, name, trailing, guest)

    # -- entry helpers -------------------------------------------------------------------------

    def link(self, old: bytes, new: bytes, *, cwd: bytes | int = b"/", olddirfd: bytes | int | None = None,
             newdirfd: bytes | int | None = None, follow: bool = False) -> None:
        """linkat(2) inside the zone: both ends resolved in the zone, the link made from the fd.

        The source is linked through ``/proc/self/fd/N`` with AT_SYMLINK_FOLLOW
        (the kernel's own way to link an O_PATH fd, no capability needed), so the
        new name always points at the inode resolution found inside the zone.
        EEXIST, EXDEV across mounts (binds are separate mounts to the guest),
        EROFS in a read-only bind, EPERM for a directory, as Linux.
        """
        src = self.resolve(old, cwd=cwd, dirfd=olddirfd, follow=follow)
        try:
            dst = self.resolve(new, cwd=cwd, dirfd=newdirfd, follow=False, must_exist=False)
            with dst:
                if dst.exists or dst.parent_fd is None:
                    raise oserror(errno.EEXIST, new)
                if src.mount is not dst.mount:
                    raise oserror(errno.EXDEV, new)
                if dst.mount.readonly:
                    raise oserror(errno.EROFS, new)
                if stat.S_ISDIR(src.stat().st_mode):
                    raise oserror(errno.EPERM, old)
                os.link(b"/proc/self/fd/%d" % src.fd, dst.name, dst_dir_fd=dst.parent_fd,
                        follow_symlinks=True)
        finally:
            src.close()
