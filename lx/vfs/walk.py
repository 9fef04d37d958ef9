"""The component walk: resolution when a zone's binds may be involved (see :mod:`.resolve`).

One name at a time (runs of plain names in one ``openat2`` with
RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), the mount table consulted before every
step, symlinks read with ``readlinkat`` and their text walked again -- the
kernel is never asked to follow a link, so no link, magic or not, leads out.
``..`` pops a stack of the directories actually passed through: from a bind's
top it lands on the bind's guest parent, from ``/`` it stays, and a directory
moved elsewhere meanwhile cannot take the walk with it.
"""
from __future__ import annotations

import errno
import os
import stat
from typing import TYPE_CHECKING

from syscalls import abi

from . import _sys
from ._sys import MAXSYMLINKS, O_PATH_FLAGS, oserror, openat2
from .binds import MountTable
from .resolved import Resolved

if TYPE_CHECKING:
    from .resolve import ZoneFS

_DIR = O_PATH_FLAGS | abi.O_DIRECTORY | abi.O_NOFOLLOW
_OBJ = O_PATH_FLAGS | abi.O_NOFOLLOW
_IN_ROOT_PLAIN = abi.RESOLVE_IN_ROOT | abi.RESOLVE_NO_SYMLINKS
_BENEATH_PLAIN = abi.RESOLVE_BENEATH | abi.RESOLVE_NO_SYMLINKS
_DOTS = (b".", b"..")
# A batch stops with ELOOP at a symlink; EXDEV / EAGAIN are the kernel noticing a
# directory of the run being renamed meanwhile (it may now lie outside): go name by name.
_RETRY_SINGLY = (errno.ELOOP, errno.EXDEV, errno.EAGAIN)


def reopen(mounts: MountTable, g: bytes) -> int:
    """O_PATH fd of canonical guest directory ``g`` (symlink-free by construction)."""
    parts = g[1:].split(b"/") if g != b"/" else []
    m = mounts.mount_for(parts)
    rel = parts[len(m.parts):]
    if not rel:
        return m.fd
    try:
        return openat2(m.fd, b"/".join(rel), O_PATH_FLAGS | abi.O_DIRECTORY, _IN_ROOT_PLAIN)
    except OSError as e:
        if e.errno in (errno.EXDEV, errno.EAGAIN, errno.ELOOP):
            # renamed or replaced by a symlink since we passed: the name is gone
            raise oserror(errno.ENOENT, g) from None
        raise


def _push(fds: list[int | None], gs: list[bytes], names: list[bytes], fd: int, g: bytes,
          name: bytes) -> None:
    """Enter directory ``fd`` (guest path ``g``, reached by ``name``) on the walk's stack."""
    fds.append(fd)
    gs.append(g)
    names.append(name)


def walk(zone: "ZoneFS", path: bytes, start: bytes, start_fd: int | None, follow: bool,
          must_exist: bool, parent: bool, trailing: bool) -> Resolved:
    """Component-wise resolution of ``path`` from guest directory ``start`` (module doc)."""
    by_guest = zone.mounts.by_guest if zone.has_binds else None
    static = zone.mounts.static_fds
    # fds[i] / gs[i]: O_PATH fd (None until needed) and guest path of the i-th directory
    # on the way from / to the current one; names[i]: the component that entered it.
    if start_fd is None:
        fds: list[int | None] = [zone.root_fd]
        gs, names = [b"/"], [b""]
    else:
        parts = start[1:].split(b"/") if start != b"/" else []
        gs = [b"/"] + [b"/" + b"/".join(parts[:i + 1]) for i in range(len(parts))]
        names = [b""] + parts
        fds = [None] * len(parts) + [os.dup(start_fd)]
    todo = [c for c in path.split(b"/") if c]
    todo.reverse()
    force = trailing and not parent        # lookup with a trailing slash: follow, must be a dir
    links = 0
    slow = False                           # a batch met a symlink: one name at a time until read
    last_tok = b""
    final: tuple[int | None, bytes, bytes] | None = None   # (fd, name, guest); dir: fds[-1]
    try:
        while todo:
            c = todo.pop()
            last = not todo
            last_tok = c
            if c == b".":
                continue
            if c == b"..":
                if len(fds) > 1:
                    fd = fds.pop()
                    gs.pop()
                    names.pop()
                    if fd is not None and fd not in static:
                        os.close(fd)
                    if fds[-1] is None:
                        fds[-1] = reopen(zone.mounts, gs[-1])
                continue
            cur, g = fds[-1], gs[-1]
            gc = g + b"/" + c if len(g) > 1 else b"/" + c
            need_dir = not last or force
            m = by_guest.get(gc) if by_guest is not None else None
            if m is not None:                       # a bind's top: the mount hides the root
                if m.is_dir:
                    _push(fds, gs, names, m.fd, gc, c)
                    continue
                if need_dir:
                    raise oserror(errno.ENOTDIR, gc)
                final = (os.dup(m.fd), c, gc)
                break
            if not last and not slow and len(todo) > 1 and todo[-1] not in _DOTS:
                entered = _batch(c, gc, todo, fds, gs, names, by_guest)
                if entered:
                    continue
                slow = entered is False         # None: nothing to batch after all
            try:
                if need_dir:
                    try:
                        _push(fds, gs, names, os.open(c, _DIR, dir_fd=cur), gc, c)
                        continue
                    except NotADirectoryError:
                        pass                        # a file, or a symlink to follow
                fd = os.open(c, _OBJ, dir_fd=cur)
            except FileNotFoundError:
                if last and not must_exist:
                    final = (None, c, gc)
                    break
                raise
            if last and not need_dir and not follow:
                final = (fd, c, gc)            # lstat-like: whatever it is, it is the answer
                break
            st = os.fstat(fd)
            if stat.S_ISLNK(st.st_mode):
                try:
                    if _sys.on_procfs(fd, st.st_dev) and _sys.is_magic_link(cur, c):
                        raise oserror(errno.ELOOP, gc)
                    links += 1
                    if links > MAXSYMLINKS:
                        raise oserror(errno.ELOOP, gc)
                    body = os.readlink(b"", dir_fd=fd)
                finally:
                    os.close(fd)
                if not body:
                    raise oserror(errno.ENOENT, gc)
                slow = False
                if last and body.endswith(b"/"):    # the link's text ends the path now
                    trailing = True
                    force = force or not parent
                if body.startswith(b"/"):
                    for fd in fds:
                        if fd is not None and fd not in static:
                            os.close(fd)
                    fds, gs, names = [zone.root_fd], [b"/"], [b""]
                    last_tok = b""
                todo.extend(reversed([x for x in body.split(b"/") if x]))
                continue
            if stat.S_ISDIR(st.st_mode):
                _push(fds, gs, names, fd, gc, c)
                continue
            if need_dir:
                os.close(fd)
                raise oserror(errno.ENOTDIR, gc)
            final = (fd, c, gc)
            break
        try:
            return _result(zone, fds, gs, names, final, last_tok, parent, trailing)
        except BaseException:
            if final is not None and final[0] is not None:
                os.close(final[0])
            raise
    finally:
        for fd in fds:
            if fd is not None and fd not in static:
                os.close(fd)


def _batch(c: bytes, gc: bytes, todo: list[bytes], fds: list[int | None], gs: list[bytes],
           names: list[bytes], by_guest: dict | None) -> bool | None:
    """Enter ``c`` and the plain names after it in one openat2, if none is a symlink.

    Takes names off ``todo`` up to (not including) the last component, a
    ``.``/``..`` or a bind's top; RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS makes
    the kernel stop with ELOOP at a symlink (then the names go back on
    ``todo`` and False is returned; None if there was no run).  Other errors
    are final: with no symlink crossed they are what a name-by-name walk meets.
    Entered directories get no fd of their own (``..`` reopens them).
    """
    run, gl = [c], [gc]
    while len(todo) > 1:
        n = todo[-1]
        if n in _DOTS:
            break
        gn = gl[-1] + b"/" + n
        if by_guest is not None and gn in by_guest:
            break
        run.append(todo.pop())
        gl.append(gn)
    if len(run) == 1:
        return None
    try:
        fd = openat2(fds[-1], b"/".join(run), O_PATH_FLAGS | abi.O_DIRECTORY, _BENEATH_PLAIN)
    except OSError as e:
        if e.errno not in _RETRY_SINGLY:
            raise
        todo.extend(reversed(run[1:]))
        return False
    fds.extend([None] * (len(run) - 1))
    fds.append(fd)
    gs.extend(gl)
    names.extend(run)
    return True


def _result(zone: "ZoneFS", fds: list[int | None], gs: list[bytes], names: list[bytes],
            final: tuple[int | None, bytes, bytes] | None, last_tok: bytes,
            parent: bool, trailing: bool) -> Resolved:
    """Build the walk's Resolved, taking the fds it hands out off the stack."""
    static = zone.mounts.static_fds
    if final is not None:
        fd, name, g = final
        if parent or fd is None:
            return Resolved(zone, fd, _take(static, fds, -1), name, trailing, g)
        return Resolved(zone, fd, None, None, trailing, g)
    if last_tok in (b"", b".", b".."):
        name = last_tok if parent else None
        return Resolved(zone, _take(static, fds, -1), None, name, trailing, gs[-1])
    pfd = None
    if parent:
        if fds[-2] is None:
            fds[-2] = reopen(zone.mounts, gs[-2])
        pfd = _take(static, fds, -2)
    return Resolved(zone, _take(static, fds, -1), pfd, names[-1], trailing, gs[-1])


def _take(static: frozenset[int], fds: list[int | None], i: int) -> int:
    """``fds[i]`` for the caller to own: a mount's fd is dup'd, a walk fd leaves the stack."""
    fd = fds[i]
    assert fd is not None
    if fd in static:
        return os.dup(fd)
    fds[i] = None
    return fd
