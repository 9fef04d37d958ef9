"""Path-taking calls: open, create, link, rename, remove, chdir, readlink...

In a zone every guest path is resolved inside the zone (lx.vfs) and the
supervisor performs the call on the resolved object itself -- an fd it
opened is installed in the guest (SECCOMP_IOCTL_NOTIF_ADDFD), so no host
path is ever handed back for the kernel to look up again.  On the host's
own root (no zone) these calls pass through unchanged (zone=True).
"""
from __future__ import annotations

import os
import stat as st
from typing import TYPE_CHECKING

from lx.vfs.guest import at, check_writable, fd_link, proc_self, raw, read_path, umask_of

from . import abi
from .args import Fd, Int, Mode, Ptr, SizeT, UInt, Uid
from .registry import CONTINUE, REPLIED, LinuxError, Support, syscall

if TYPE_CHECKING:
    from lx.platform.call import Call

_ZONE = dict(zone=True)


# -- open -------------------------------------------------------------------------------------

def _open(call: Call, dirfd: int, path_ptr: int, flags: int, mode: int) -> int:
    path = read_path(call, path_ptr)
    link = fd_link(call, proc_self(call, path)) if path.startswith((b"/dev/", b"/proc/")) else None
    if link is not None:                 # /dev/stdin, /dev/fd/N, /proc/self/fd/N: reopen the fd
        try:
            fd = os.open(link, (flags & ~(abi.O_CLOEXEC | abi.O_CREAT | abi.O_EXCL)) | abi.O_CLOEXEC)
        except FileNotFoundError:
            raise LinuxError(abi.ENOENT) from None
        try:
            call.install_fd(fd, bool(flags & abi.O_CLOEXEC))
        finally:
            os.close(fd)
        return REPLIED
    if path.startswith(b"/proc/"):
        text = _proc_text(call, proc_self(call, path))
        if text is not None:
            return _install_text(call, text, flags)
    creating = bool(flags & abi.O_CREAT)
    tmpfile = flags & abi.O_TMPFILE == abi.O_TMPFILE
    if creating and flags & abi.O_DIRECTORY:
        return -abi.EINVAL              # fs/open.c build_open_flags (6.4+), before any lookup
    # O_CREAT|O_EXCL never follows the last component (build_open_flags sets O_NOFOLLOW)
    follow = not flags & abi.O_NOFOLLOW and not (creating and flags & abi.O_EXCL)
    with at(call, dirfd, path, follow=follow, must_exist=not creating, parent=creating) as r:
        if creating and r.trailing_slash and not tmpfile:
            return -abi.EISDIR          # fs/namei.c open_last_lookups: O_CREAT and a trailing slash
        if tmpfile:
            check_writable(r)
            with umask_of(call):
                fd = os.open(b"/proc/self/fd/%d" % r.fd, flags & ~abi.O_CLOEXEC | abi.O_CLOEXEC, mode)
        else:
            if creating and r.exists and flags & abi.O_EXCL:
                raise LinuxError(abi.EEXIST)
            if r.exists and not flags & abi.O_PATH and not flags & abi.O_NONBLOCK \
                    and st.S_ISFIFO(r.stat().st_mode):
                return _open_fifo_later(call, r, flags)
            if creating and not r.exists:
                with umask_of(call):        # reading it costs ~15 us: only when creating
                    fd = r.open(flags & ~abi.O_CLOEXEC, mode)
            else:
                fd = r.open(flags & ~abi.O_CLOEXEC, mode)
    try:
        call.install_fd(fd, bool(flags & abi.O_CLOEXEC))
    finally:
        os.close(fd)
    return REPLIED


def _proc_text(call: Call, path: bytes) -> bytes | None:
    from lx.platform.execsvc import STUB
    from lx.vfs.proc import render
    return render(call.zone, path, os.fsencode(STUB), call.identity)


def _install_text(call: Call, text: bytes, flags: int) -> int:
    """A rendered /proc file, installed as a sealed read-only memfd at offset 0."""
    if flags & abi.O_ACCMODE != abi.O_RDONLY:
        return -abi.EACCES
    fd = os.memfd_create("lx-proc", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.write(fd, text)
        os.lseek(fd, 0, os.SEEK_SET)
        import fcntl
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK
                    | fcntl.F_SEAL_SEAL)
        call.install_fd(fd, bool(flags & abi.O_CLOEXEC))
    finally:
        os.close(fd)
    return REPLIED


def _open_fifo_later(call: Call, r, flags: int) -> int:
    """Opening a FIFO waits for the other end: do it in a thread, never in the loop."""
    import threading
    fd_path = os.dup(r.fd)

    def work() -> None:
        try:
            fd = os.open(b"/proc/self/fd/%d" % fd_path, (flags & ~abi.O_CLOEXEC) | abi.O_CLOEXEC)
        except OSError as e:
            call.reply_error(abi.linux_errno(e))
            return
        finally:
            os.close(fd_path)
        try:
            call.install_fd(fd, bool(flags & abi.O_CLOEXEC))
        except LinuxError as e:
            call.reply_error(e.errno)
        finally:
            os.close(fd)
    threading.Thread(target=work, name="lx-fifo-open", daemon=True).start()
    return REPLIED


@syscall("open", note="Zones: resolved in the zone; the supervisor opens, the fd is installed.", **_ZONE)
def sys_open(call: Call, path: Ptr, flags: Int, mode: Mode) -> int:
    """Implements open(2) in a zone."""
    return _open(call, abi.AT_FDCWD, path, flags, mode)


@syscall("openat", note="Zones: resolved in the zone; the supervisor opens, the fd is installed.", **_ZONE)
def sys_openat(call: Call, dirfd: Fd, path: Ptr, flags: Int, mode: Mode) -> int:
    """Implements openat(2) in a zone."""
    return _open(call, dirfd, path, flags, mode)


@syscall("creat", **_ZONE)
def sys_creat(call: Call, path: Ptr, mode: Mode) -> int:
    """Implements creat(2): open(O_CREAT|O_WRONLY|O_TRUNC)."""
    return _open(call, abi.AT_FDCWD, path, abi.O_CREAT | abi.O_WRONLY | abi.O_TRUNC, mode)


@syscall("openat2", support=Support.PARTIAL, **_ZONE,
         note="Zones: open_how.resolve must be 0 (else ENOSYS, so callers fall back to openat).")
def sys_openat2(call: Call, dirfd: Fd, how: Ptr, size: SizeT) -> int:
    """Implements openat2(2) without RESOLVE_* flags."""
    if size < 24:
        return -abi.EINVAL
    h = abi.open_how.unpack(call.read(how, 24))
    if h["resolve"]:
        return -abi.ENOSYS
    if h["flags"] >> 32 or h["mode"] & ~0o7777 or (h["mode"] and not h["flags"] & abi.O_CREAT):
        return -abi.EINVAL
    return _open(call, dirfd, call.raw[1], h["flags"], h["mode"])


# -- directories and names --------------------------------------------------------------------

def _mkdir(call: Call, dirfd: int, path: int, mode: int) -> int:
    with at(call, dirfd, read_path(call, path), must_exist=False, follow=False) as r:
        if r.exists:
            return -abi.EEXIST
        check_writable(r)
        with umask_of(call):
            os.mkdir(r.name, mode, dir_fd=r.parent_fd)
    return 0


@syscall("mkdir", **_ZONE)
def sys_mkdir(call: Call, path: Ptr, mode: Mode) -> int:
    """Implements mkdir(2) in a zone."""
    return _mkdir(call, abi.AT_FDCWD, path, mode)


@syscall("mkdirat", **_ZONE)
def sys_mkdirat(call: Call, dirfd: Fd, path: Ptr, mode: Mode) -> int:
    """Implements mkdirat(2) in a zone."""
    return _mkdir(call, dirfd, path, mode)


def _mknod(call: Call, dirfd: int, path: int, mode: int, dev: int) -> int:
    with at(call, dirfd, read_path(call, path), must_exist=False, follow=False) as r:
        if r.exists:
            return -abi.EEXIST
        if r.trailing_slash:
            return -abi.ENOENT          # filename_create: a non-directory name cannot end in /
        check_writable(r)
        with umask_of(call):
            os.mknod(r.name, mode, dev, dir_fd=r.parent_fd)
    return 0


@syscall("mknod", support=Support.PARTIAL, note="Zones: device nodes need real privilege (EPERM).", **_ZONE)
def sys_mknod(call: Call, path: Ptr, mode: Mode, dev: UInt) -> int:
    """Implements mknod(2) in a zone (files, FIFOs, sockets)."""
    return _mknod(call, abi.AT_FDCWD, path, mode, dev)


@syscall("mknodat", support=Support.PARTIAL, note="Zones: device nodes need real privilege (EPERM).", **_ZONE)
def sys_mknodat(call: Call, dirfd: Fd, path: Ptr, mode: Mode, dev: UInt) -> int:
    """Implements mknodat(2) in a zone (files, FIFOs, sockets)."""
    return _mknod(call, dirfd, path, mode, dev)


def _unlink(call: Call, dirfd: int, path: int, flags: int) -> int:
    if flags & ~abi.AT_REMOVEDIR:
        return -abi.EINVAL
    with at(call, dirfd, read_path(call, path), parent=True, follow=False) as r:
        check_writable(r)
        if flags & abi.AT_REMOVEDIR:
            if r.name == b".":
                return -abi.EINVAL
            if r.name == b".." or r.is_mountpoint:
                return -abi.ENOTEMPTY if r.name == b".." else -abi.EBUSY
            os.rmdir(r.name, dir_fd=r.parent_fd)
        else:
            if r.parent_fd is None or r.name in (b"", b".", b".."):
                return -abi.EISDIR      # do_unlinkat: not a plain last component
            if r.is_mountpoint:
                return -abi.EBUSY
            if r.trailing_slash:        # do_unlinkat: "slashes": a name ending in / is a directory
                return -abi.EISDIR if r.exists and st.S_ISDIR(r.stat().st_mode) else -abi.ENOTDIR
            os.unlink(r.name, dir_fd=r.parent_fd)
    return 0


@syscall("unlink", **_ZONE)
def sys_unlink(call: Call, path: Ptr) -> int:
    """Implements unlink(2) in a zone."""
    return _unlink(call, abi.AT_FDCWD, path, 0)


@syscall("unlinkat", **_ZONE)
def sys_unlinkat(call: Call, dirfd: Fd, path: Ptr, flags: Int) -> int:
    """Implements unlinkat(2) in a zone."""
    return _unlink(call, dirfd, path, flags)


@syscall("rmdir", **_ZONE)
def sys_rmdir(call: Call, path: Ptr) -> int:
    """Implements rmdir(2) in a zone."""
    return _unlink(call, abi.AT_FDCWD, path, abi.AT_REMOVEDIR)


def _rename(call: Call, olddirfd: int, old: int, newdirfd: int, new: int, flags: int) -> int:
    if flags & ~7 or (flags & 5 and flags & 2):   # RENAME_{NOREPLACE,EXCHANGE,WHITEOUT} rules
        return -abi.EINVAL
    old_p, new_p = read_path(call, old), read_path(call, new)   # both names before any lookup
    with at(call, olddirfd, old_p, parent=True, follow=False) as a, \
            at(call, newdirfd, new_p, parent=True, follow=False, must_exist=False) as b:
        if a.parent_fd is None or b.parent_fd is None or a.name in (b".", b"..") or b.name in (b".", b".."):
            return -abi.EEXIST if flags & 1 else -abi.EBUSY     # RENAME_NOREPLACE: EEXIST
        # fs/namei.c do_renameat2: NOREPLACE onto an existing name, then the slashes rule
        if flags & 1 and b.exists:
            return -abi.EEXIST
        if not st.S_ISDIR(a.stat().st_mode) and (a.trailing_slash or (b.trailing_slash and not flags & 2)):
            return -abi.ENOTDIR
        check_writable(a)
        check_writable(b)
        if a.mount is not b.mount:
            return -abi.EXDEV
        if a.is_mountpoint or b.is_mountpoint:
            return -abi.EBUSY
        raw("renameat2", a.parent_fd, a.name, b.parent_fd, b.name, flags)
    return 0


@syscall("rename", **_ZONE)
def sys_rename(call: Call, old: Ptr, new: Ptr) -> int:
    """Implements rename(2) in a zone."""
    return _rename(call, abi.AT_FDCWD, old, abi.AT_FDCWD, new, 0)


@syscall("renameat", **_ZONE)
def sys_renameat(call: Call, olddirfd: Fd, old: Ptr, newdirfd: Fd, new: Ptr) -> int:
    """Implements renameat(2) in a zone."""
    return _rename(call, olddirfd, old, newdirfd, new, 0)


@syscall("renameat2", **_ZONE)
def sys_renameat2(call: Call, olddirfd: Fd, old: Ptr, newdirfd: Fd, new: Ptr, flags: UInt) -> int:
    """Implements renameat2(2) in a zone."""
    return _rename(call, olddirfd, old, newdirfd, new, flags)


def _link(call: Call, olddirfd: int, old: int, newdirfd: int, new: int, flags: int) -> int:
    if flags & ~(abi.AT_SYMLINK_FOLLOW | abi.AT_EMPTY_PATH):
        return -abi.EINVAL
    follow = bool(flags & abi.AT_SYMLINK_FOLLOW)
    with at(call, olddirfd, read_path(call, old), follow=follow,
            empty_path=bool(flags & abi.AT_EMPTY_PATH)) as a, \
            at(call, newdirfd, read_path(call, new), must_exist=False, follow=False) as b:
        if b.exists:
            return -abi.EEXIST
        if b.trailing_slash:
            return -abi.ENOENT
        check_writable(b)
        if a.mount is not b.mount:
            return -abi.EXDEV
        raw("linkat", a.fd, b"", b.parent_fd, b.name, abi.AT_EMPTY_PATH)
    return 0


@syscall("link", **_ZONE)
def sys_link(call: Call, old: Ptr, new: Ptr) -> int:
    """Implements link(2) in a zone."""
    return _link(call, abi.AT_FDCWD, old, abi.AT_FDCWD, new, 0)


@syscall("linkat", **_ZONE)
def sys_linkat(call: Call, olddirfd: Fd, old: Ptr, newdirfd: Fd, new: Ptr, flags: Int) -> int:
    """Implements linkat(2) in a zone."""
    return _link(call, olddirfd, old, newdirfd, new, flags)


def _symlink(call: Call, target: int, dirfd: int, path: int) -> int:
    text = read_path(call, target)
    if not text:
        return -abi.ENOENT
    with at(call, dirfd, read_path(call, path), must_exist=False, follow=False) as r:
        if r.exists:
            return -abi.EEXIST
        if r.trailing_slash:
            return -abi.ENOENT
        check_writable(r)
        os.symlink(text, r.name, dir_fd=r.parent_fd)
    return 0


@syscall("symlink", **_ZONE)
def sys_symlink(call: Call, target: Ptr, path: Ptr) -> int:
    """Implements symlink(2) in a zone (the target text is stored as given)."""
    return _symlink(call, target, abi.AT_FDCWD, path)


@syscall("symlinkat", **_ZONE)
def sys_symlinkat(call: Call, target: Ptr, dirfd: Fd, path: Ptr) -> int:
    """Implements symlinkat(2) in a zone."""
    return _symlink(call, target, dirfd, path)


# -- the cwd ------------------------------------------------------------------------------------

def chdir_target(call: Call, path_ptr: int) -> bytes:
    """The host path a zone's chdir(path) turns into (the anchor makes the
    guest's own chdir go there); LinuxError as chdir would fail."""
    with at(call, abi.AT_FDCWD, read_path(call, path_ptr)) as r:
        if not st.S_ISDIR(r.stat().st_mode):
            raise LinuxError(abi.ENOTDIR)
        raw("faccessat2", r.fd, b"", 1, abi.AT_EMPTY_PATH)     # search permission (X_OK)
        return r.host


@syscall("chdir", trace=True, **_ZONE,
         note="Zones: resolved in the zone at a ptrace stop, then the guest's own chdir "
              "runs on the resolved directory.")
def sys_chdir(call: Call, path: Ptr) -> int:
    """chdir(2) in a zone is done at the anchor's stop (lx.platform.execsvc), never notified."""
    return -abi.ENOSYS


# -- reading names back ---------------------------------------------------------------------------

def _proc_link(call: Call, path: bytes) -> bytes | None:
    """readlink of /proc/{self,PID,thread-self}/{exe,cwd,root,fd/N} as the guest sees them."""
    parts = path.split(b"/")
    if len(parts) < 4 or parts[:2] != [b"", b"proc"]:
        return None
    who, what = parts[2], parts[3:]
    if who == b"self" or who == b"thread-self":
        pid = call.pid
    elif who.isdigit():
        pid = int(who)
    else:
        return None
    if what == [b"exe"]:
        program_of = getattr(call.sup.exec_hook, "program_of", None)
        return program_of(pid) if program_of else None
    if what == [b"root"]:
        return b"/"
    if what == [b"cwd"] or (len(what) == 2 and what[0] == b"fd" and what[1].isdigit()):
        try:
            host = os.fsencode(os.readlink(f"/proc/{pid}/" + b"/".join(what).decode()))
        except FileNotFoundError:
            raise LinuxError(abi.ENOENT) from None
        if not host.startswith(b"/"):
            return host                      # pipe:[123], socket:[..], anon_inode:...
        guest = call.zone.to_guest(host)
        return guest if guest is not None else host
    return None


def _readlink(call: Call, dirfd: int, path: int, buf: int, size: int) -> int:
    if size <= 0:
        return -abi.EINVAL
    p = read_path(call, path)
    if p.startswith(b"/proc/"):
        p = proc_self(call, p)
    text = _proc_link(call, p) if p.startswith(b"/proc/") else None
    if text is None:
        with at(call, dirfd, p, follow=False, empty_path=True) as r:
            try:
                text = _readlinkat(r.fd)
            except OSError as e:
                if e.errno == abi.ENOENT:    # do_readlinkat: empty ? -ENOENT : -EINVAL
                    raise LinuxError(abi.ENOENT if not p else abi.EINVAL) from None
                raise
    out = text[:size]
    call.write(buf, out)
    return len(out)


def _readlinkat(fd: int) -> bytes:
    import ctypes
    buf = ctypes.create_string_buffer(4096)
    n = raw("readlinkat", fd, b"", buf, 4096)
    return buf.raw[:n]


@syscall("readlink", note="Zones: /proc/self/{exe,cwd,fd/N} name guest paths.", **_ZONE)
def sys_readlink(call: Call, path: Ptr, buf: Ptr, size: Int) -> int:
    """Implements readlink(2) in a zone."""
    return _readlink(call, abi.AT_FDCWD, path, buf, size)


@syscall("readlinkat", note="Zones: /proc/self/{exe,cwd,fd/N} name guest paths.", **_ZONE)
def sys_readlinkat(call: Call, dirfd: Fd, path: Ptr, buf: Ptr, size: Int) -> int:
    """Implements readlinkat(2) in a zone."""
    return _readlink(call, dirfd, path, buf, size)


@syscall("getcwd", note="Zones: the guest path of the cwd; \"(unreachable)\" outside the zone.", **_ZONE)
def sys_getcwd(call: Call, buf: Ptr, size: SizeT) -> int:
    """Implements getcwd(2) in a zone."""
    host = os.fsencode(os.readlink(f"/proc/{call.pid}/cwd"))
    if os.stat(f"/proc/{call.pid}/cwd").st_nlink == 0:
        return -abi.ENOENT              # fs/d_path.c getcwd: d_unlinked
    guest = call.zone.to_guest(host)
    text = (guest if guest is not None else b"(unreachable)" + host) + b"\0"
    if len(text) > size:
        return -abi.ERANGE
    call.write(buf, text)
    return len(text)


# -- attributes -------------------------------------------------------------------------------

def _access(call: Call, dirfd: int, path: int, mode: int, flags: int) -> int:
    if mode & ~7 or flags & ~(abi.AT_EACCESS | abi.AT_SYMLINK_NOFOLLOW | abi.AT_EMPTY_PATH):
        return -abi.EINVAL
    with at(call, dirfd, read_path(call, path), follow=not flags & abi.AT_SYMLINK_NOFOLLOW,
            empty_path=bool(flags & abi.AT_EMPTY_PATH)) as r:
        if mode & 2 and r.mount.readonly:
            return -abi.EROFS
        raw("faccessat2", r.fd, b"", mode, (flags & abi.AT_EACCESS) | abi.AT_EMPTY_PATH)
    return 0


@syscall("access", **_ZONE)
def sys_access(call: Call, path: Ptr, mode: Int) -> int:
    """Implements access(2) in a zone (checked with the invoking user's credentials)."""
    return _access(call, abi.AT_FDCWD, path, mode, 0)


@syscall("faccessat", **_ZONE)
def sys_faccessat(call: Call, dirfd: Fd, path: Ptr, mode: Int) -> int:
    """Implements faccessat(2) (no flags argument) in a zone."""
    return _access(call, dirfd, path, mode, 0)


@syscall("faccessat2", **_ZONE)
def sys_faccessat2(call: Call, dirfd: Fd, path: Ptr, mode: Int, flags: Int) -> int:
    """Implements faccessat2(2) in a zone."""
    return _access(call, dirfd, path, mode, flags)


def _chmod(call: Call, dirfd: int, path: int, mode: int, flags: int) -> int:
    if flags & ~(abi.AT_SYMLINK_NOFOLLOW | abi.AT_EMPTY_PATH):
        return -abi.EINVAL
    with at(call, dirfd, read_path(call, path), follow=not flags & abi.AT_SYMLINK_NOFOLLOW,
            empty_path=bool(flags & abi.AT_EMPTY_PATH)) as r:
        check_writable(r)
        if st.S_ISLNK(r.stat().st_mode):
            return -abi.EOPNOTSUPP
        os.chmod(b"/proc/self/fd/%d" % r.fd, mode & 0o7777)
    return 0


@syscall("chmod", **_ZONE)
def sys_chmod(call: Call, path: Ptr, mode: Mode) -> int:
    """Implements chmod(2) in a zone."""
    return _chmod(call, abi.AT_FDCWD, path, mode, 0)


@syscall("fchmodat", **_ZONE)
def sys_fchmodat(call: Call, dirfd: Fd, path: Ptr, mode: Mode) -> int:
    """Implements fchmodat(2) in a zone."""
    return _chmod(call, dirfd, path, mode, 0)


@syscall("fchmodat2", **_ZONE)
def sys_fchmodat2(call: Call, dirfd: Fd, path: Ptr, mode: Mode, flags: Int) -> int:
    """Implements fchmodat2(2) in a zone."""
    return _chmod(call, dirfd, path, mode, flags)


def _chown(call: Call, dirfd: int, path: int, uid: int, gid: int, flags: int) -> int:
    if flags & ~(abi.AT_SYMLINK_NOFOLLOW | abi.AT_EMPTY_PATH):
        return -abi.EINVAL
    with at(call, dirfd, read_path(call, path), follow=not flags & abi.AT_SYMLINK_NOFOLLOW,
            empty_path=bool(flags & abi.AT_EMPTY_PATH)) as r:
        check_writable(r)
        raw("fchownat", r.fd, b"", uid, gid, abi.AT_EMPTY_PATH)
    return 0


_OWN = "Zones: the invoking user's real permission (fake ownership arrives with the identity issue)."


@syscall("chown", support=Support.PARTIAL, note=_OWN, **_ZONE)
def sys_chown(call: Call, path: Ptr, uid: Uid, gid: Uid) -> int:
    """Implements chown(2) in a zone."""
    return _chown(call, abi.AT_FDCWD, path, uid, gid, 0)


@syscall("lchown", support=Support.PARTIAL, note=_OWN, **_ZONE)
def sys_lchown(call: Call, path: Ptr, uid: Uid, gid: Uid) -> int:
    """Implements lchown(2) in a zone."""
    return _chown(call, abi.AT_FDCWD, path, uid, gid, abi.AT_SYMLINK_NOFOLLOW)


@syscall("fchownat", support=Support.PARTIAL, note=_OWN, **_ZONE)
def sys_fchownat(call: Call, dirfd: Fd, path: Ptr, uid: Uid, gid: Uid, flags: Int) -> int:
    """Implements fchownat(2) in a zone."""
    return _chown(call, dirfd, path, uid, gid, flags)


def _utimens(call: Call, dirfd: int, path: int, times: bytes | None, flags: int) -> int:
    if flags & ~(abi.AT_SYMLINK_NOFOLLOW | abi.AT_EMPTY_PATH):
        return -abi.EINVAL
    nofollow = bool(flags & abi.AT_SYMLINK_NOFOLLOW)
    with at(call, dirfd, read_path(call, path), follow=not nofollow, parent=nofollow,
            empty_path=bool(flags & abi.AT_EMPTY_PATH)) as r:
        check_writable(r)
        if st.S_ISLNK(r.stat().st_mode):
            # the symlink's own times: its entry in the held parent directory
            if r.parent_fd is None:
                return -abi.ENOENT
            raw("utimensat", r.parent_fd, r.name, times, abi.AT_SYMLINK_NOFOLLOW)
        else:
            raw("utimensat", abi.AT_FDCWD, b"/proc/self/fd/%d" % r.fd, times, 0)
    return 0


@syscall("utimensat", support=Support.PARTIAL, **_ZONE,
         note="Zones: a NULL path (futimens) runs on the guest's fd unchanged.")
def sys_utimensat(call: Call, dirfd: Fd, path: Ptr, times: Ptr, flags: Int) -> int:
    """Implements utimensat(2) in a zone."""
    if path == 0:
        return CONTINUE            # futimens(fd): no path is looked up
    return _utimens(call, dirfd, path, call.read(times, 32) if times else None, flags)


def _timeval_pair(call: Call, ptr: int) -> bytes | None:
    """struct timeval[2] -> struct timespec[2] (usec -> nsec), EINVAL if out of range."""
    if not ptr:
        return None
    import struct
    a, au, b, bu = struct.unpack("<qqqq", call.read(ptr, 32))
    if not (0 <= au < 1_000_000 and 0 <= bu < 1_000_000):
        raise LinuxError(abi.EINVAL)
    return struct.pack("<qqqq", a, au * 1000, b, bu * 1000)


@syscall("utimes", **_ZONE)
def sys_utimes(call: Call, path: Ptr, times: Ptr) -> int:
    """Implements utimes(2) in a zone."""
    return _utimens(call, abi.AT_FDCWD, path, _timeval_pair(call, times), 0)


@syscall("futimesat", **_ZONE)
def sys_futimesat(call: Call, dirfd: Fd, path: Ptr, times: Ptr) -> int:
    """Implements futimesat(2) in a zone."""
    return _utimens(call, dirfd, path, _timeval_pair(call, times), 0)


@syscall("utime", **_ZONE)
def sys_utime(call: Call, path: Ptr, times: Ptr) -> int:
    """Implements utime(2) in a zone (struct utimbuf: whole seconds)."""
    import struct
    ts = None
    if times:
        a, m = struct.unpack("<qq", call.read(times, 16))
        ts = struct.pack("<qqqq", a, 0, m, 0)
    return _utimens(call, abi.AT_FDCWD, path, ts, 0)


@syscall("truncate", **_ZONE)
def sys_truncate(call: Call, path: Ptr, length: SizeT) -> int:
    """Implements truncate(2) in a zone."""
    if length >> 63:
        return -abi.EINVAL
    with at(call, abi.AT_FDCWD, read_path(call, path)) as r:
        check_writable(r)
        if st.S_ISDIR(r.stat().st_mode):
            return -abi.EISDIR
        fd = r.open(abi.O_WRONLY)
        try:
            os.ftruncate(fd, length)
        finally:
            os.close(fd)
    return 0


@syscall("statfs", **_ZONE)
def sys_statfs(call: Call, path: Ptr, buf: Ptr) -> int:
    """Implements statfs(2) in a zone (the filesystem holding the resolved object)."""
    import ctypes
    out = ctypes.create_string_buffer(120)
    with at(call, abi.AT_FDCWD, read_path(call, path)) as r:
        raw("fstatfs", r.fd, out)
    call.write(buf, out.raw)
    return 0


def _answer_in_zones(names: tuple[str, ...], err: int, note: str) -> None:
    """Register zone handlers that answer ``-err`` (calls not translated yet)."""
    for name in names:
        def handler(call: Call) -> int:
            return -err
        handler.__name__ = handler.__qualname__ = f"sys_{name}"
        syscall(name, support=Support.PARTIAL, note=note, **_ZONE)(handler)


_answer_in_zones(("inotify_add_watch", "fanotify_mark", "chroot", "name_to_handle_at", "open_by_handle_at",
                  "file_getattr", "file_setattr"), abi.ENOSYS,
                 "Zones: ENOSYS for now (a path handler is not written yet); host root: passes through.")
_answer_in_zones(("setxattr", "lsetxattr", "getxattr", "lgetxattr", "listxattr", "llistxattr", "removexattr",
                  "lremovexattr", "setxattrat", "getxattrat", "listxattrat", "removexattrat"), abi.EOPNOTSUPP,
                 "Zones: EOPNOTSUPP, as on a filesystem without extended attributes; host root: passes through.")
