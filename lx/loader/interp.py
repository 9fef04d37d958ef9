"""``#!`` scripts and the file checks of execve, done as the kernel does them.

The kernel must never resolve ``#!`` on the host (the interpreter path is a
guest path), so the supervisor does binfmt_script's work: read the first
BINPRM_BUF_SIZE bytes, split the ``#!`` line into interpreter and at most one
argument, rewrite argv, and follow the interpreter, which may itself be a
script.  Each file on the way is opened like the kernel's open_exec(): it must
exist (ENOENT), be a regular file on an exec-allowed mount and carry an execute
bit for the caller (EACCES).

Kernel sources: fs/binfmt_script.c load_script(), fs/exec.c exec_binprm(),
remove_arg_zero(), do_execveat_common(), fs/namei.c generic_permission().
"""
from __future__ import annotations

import os
import stat as _stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from syscalls import abi
from syscalls.registry import LinuxError

from .elf import ExecError

__all__ = [
    "BINPRM_BUF_SIZE", "MAX_SCRIPT_DEPTH", "Shebang", "ExecTarget", "Resolve", "Access",
    "parse_shebang", "host_resolve", "check_exec_access", "open_exec", "resolve_exec",
]

BINPRM_BUF_SIZE = 256             # include/uapi/linux/binfmts.h: the kernel reads this much
# fs/exec.c exec_binprm(): "This allows 4 levels of binfmt rewrites before failing
# hard. ... if (depth > 5) return -ELOOP;" -- the handlers run for depth 0..5, so a
# chain of at most 5 scripts ending in an ELF file execs and a 6th script is ELOOP
# (checked against Linux 6.18 by tests/lx/loader/test_interp.py).
MAX_SCRIPT_DEPTH = 5

Resolve = Callable[[bytes], "str | bytes | os.PathLike[str]"]
"""Guest path -> host path.  Raises OSError (or ExecError) when the path does not resolve."""

_SPACETAB = b" \t"


@dataclass(frozen=True, slots=True)
class Shebang:
    """A parsed ``#!`` line: interpreter path and the optional single argument."""

    interpreter: bytes
    arg: bytes | None


def _next_non_spacetab(buf: bytes, first: int, last: int) -> int | None:
    for i in range(first, last + 1):
        if buf[i] not in _SPACETAB:
            return i
    return None


def _next_terminator(buf: bytes, first: int, last: int) -> int | None:
    for i in range(first, last + 1):
        if buf[i] in _SPACETAB or buf[i] == 0:
            return i
    return None


def _cstr(buf: bytes | bytearray, start: int) -> bytes:
    end = buf.find(b"\0", start)
    return bytes(buf[start:end if end >= 0 else len(buf)])


def parse_shebang(head: bytes) -> Shebang | None:
    """Split a ``#!`` line like load_script(); None if ``head`` does not start with ``#!``.

    ``head`` is the start of the file; only BINPRM_BUF_SIZE bytes count, padded
    with NULs as the kernel's zeroed buffer is.  The interpreter ends at the
    first space, tab or NUL; the rest of the line, leading and trailing blanks
    removed, is one argument (Linux does not split it further).  A line that
    does not fit in the buffer is fine as long as the interpreter path ends
    inside it (the argument is then cut, and the buffer's last byte is lost as
    the kernel's NUL terminator overwrites it).  Raises ExecError(ENOEXEC) when
    there is no interpreter name or it may be truncated.
    """
    buf = head[:BINPRM_BUF_SIZE].ljust(BINPRM_BUF_SIZE, b"\0")
    if buf[:2] != b"#!":
        return None
    buf_end = BINPRM_BUF_SIZE - 1
    i_end = buf.find(b"\n")
    if i_end < 0:
        first = _next_non_spacetab(buf, 2, buf_end)
        if first is None:
            raise ExecError(abi.ENOEXEC, "#! line holds only blanks")
        if _next_terminator(buf, first, buf_end) is None:
            raise ExecError(abi.ENOEXEC, "#! interpreter path longer than the 256-byte buffer")
        i_end = buf_end
    while buf[i_end - 1] in _SPACETAB:
        i_end -= 1
    i_name = _next_non_spacetab(buf, 2, i_end)
    if i_name is None or i_name == i_end:
        raise ExecError(abi.ENOEXEC, "#! line names no interpreter")
    i_arg = None
    i_sep = _next_terminator(buf, i_name, i_end)
    if i_sep is not None and buf[i_sep] != 0:
        i_arg = _next_non_spacetab(buf, i_sep, i_end)
    line = bytearray(buf)
    line[i_end] = 0
    if i_arg is not None:
        line[i_sep] = 0
    return Shebang(_cstr(line, i_name), _cstr(line, i_arg) if i_arg is not None else None)


def host_resolve(path: bytes) -> bytes:
    """The default resolver: the guest path is a host path."""
    return path


def check_exec_access(st: os.stat_result, uid: int, gid: int, groups: Iterable[int] = (),
                      *, capable: bool | None = None) -> None:
    """Raise ExecError(EACCES) unless ``uid``/``gid`` may execute a file with stat ``st``.

    may_open(): only regular files are executable.  generic_permission()/
    acl_permission_check(): the owner class is used if the uid owns the file,
    else the group class if gid or a supplementary group matches, else other --
    the first class that applies decides.  If that class lacks x, a caller with
    CAP_DAC_OVERRIDE (``capable``, default: uid 0) still passes when any x bit
    is set (capable_wrt_inode_uidgid branch: "if (!(mask & MAY_EXEC) ||
    (inode->i_mode & S_IXUGO))").  Read permission is not needed to exec.
    """
    if not _stat.S_ISREG(st.st_mode):
        raise ExecError(abi.EACCES, "not a regular file")
    mode = st.st_mode
    if st.st_uid == uid:
        bits = mode >> 6
    elif st.st_gid == gid or st.st_gid in set(groups):
        bits = mode >> 3
    else:
        bits = mode
    if bits & 0o1:
        return
    if (uid == 0 if capable is None else capable) and mode & 0o111:
        return
    raise ExecError(abi.EACCES, "permission denied (no execute bit for the caller)")


@dataclass(frozen=True)
class Access:
    """Who is exec'ing (credentials for the permission checks) and how their paths resolve."""

    uid: int
    gid: int
    groups: tuple[int, ...]
    resolve: Resolve
    stat: Callable[[str | bytes], os.stat_result]


def open_exec(path: bytes, acc: Access, *, from_user: bool = False) -> bytes:
    """fs/exec.c open_exec(): resolve ``path`` and check it can be executed; the host path.

    An empty name is ENOENT when it comes from the caller of execve (getname()
    refuses it) but, as a #! or PT_INTERP name the kernel looks up itself
    (getname_kernel() does not), it walks to the current directory: EACCES.
    """
    if not path:
        if from_user:
            raise ExecError(abi.ENOENT, "empty path")
        raise ExecError(abi.EACCES, "empty interpreter path (names the current directory)")
    try:
        host = os.fsencode(acc.resolve(path))
        st = acc.stat(host)
    except LinuxError as e:                 # ExecError, or the resolver's own LinuxError
        raise ExecError(e.errno, f"{os.fsdecode(path)}: {e}") from None
    except OSError as e:
        raise ExecError(abi.linux_errno(e), f"{os.fsdecode(path)}: {e.strerror}") from None
    try:
        check_exec_access(st, acc.uid, acc.gid, acc.groups)
        if _stat.S_ISREG(st.st_mode) and os.statvfs(host).f_flag & os.ST_NOEXEC:
            raise ExecError(abi.EACCES, "on a noexec mount")   # path_noexec() in may_open()
    except ExecError as e:
        raise ExecError(e.errno, f"{os.fsdecode(path)}: {e}") from None
    return host


def _read_head(host: bytes) -> bytes:
    try:
        fd = os.open(host, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return os.pread(fd, BINPRM_BUF_SIZE, 0)
        finally:
            os.close(fd)
    except OSError as e:
        raise ExecError(abi.linux_errno(e), f"{os.fsdecode(host)}: {e.strerror}") from None


@dataclass(frozen=True, slots=True)
class ExecTarget:
    """Where an execve ends up after ``#!`` processing: an ELF file and the argv it gets."""

    path: bytes                   # guest path of the ELF file (the last interpreter, or the file itself)
    host_path: bytes              # where it is on the host (from the resolver)
    argv: tuple[bytes, ...]       # argv after the rewrites
    scripts: tuple[bytes, ...]    # the scripts passed through, outermost first (guest paths)
    head: bytes                   # the ELF file's first BINPRM_BUF_SIZE bytes


def resolve_exec(path: str | bytes, argv: Sequence[str | bytes], *, resolve: Resolve = host_resolve,
                 uid: int = 0, gid: int = 0, groups: Iterable[int] = (),
                 stat: Callable[[str | bytes], os.stat_result] = os.stat) -> ExecTarget:
    """Follow ``path`` through ``#!`` scripts to an ELF file, rewriting argv like Linux.

    For each script, load_script() drops argv[0] (remove_arg_zero) and puts in
    front: the interpreter, its argument if any, and the script's path as the
    exec saw it (``path`` for the first, the previous ``#!`` interpreter string
    for nested ones).  An empty argv becomes ``[""]`` first (do_execveat_common,
    Linux >= 5.18).  Errors, as ExecError: ENOENT/ENOTDIR/... from ``resolve``,
    EACCES from the access checks, ENOEXEC for a file that is neither ELF nor
    ``#!``, ELOOP past MAX_SCRIPT_DEPTH scripts.
    """
    acc = Access(uid, gid, tuple(groups), resolve, stat)
    cur = os.fsencode(path)
    args = [os.fsencode(a) for a in argv] or [b""]
    scripts: list[bytes] = []
    host = open_exec(cur, acc, from_user=True)
    for depth in range(MAX_SCRIPT_DEPTH + 2):
        if depth > MAX_SCRIPT_DEPTH:
            raise ExecError(abi.ELOOP, f"{os.fsdecode(path)}: more than {MAX_SCRIPT_DEPTH} nested #! scripts")
        head = _read_head(host)
        if head[:4] == b"\x7fELF":
            return ExecTarget(cur, host, tuple(args), tuple(scripts), head)
        try:
            bang = parse_shebang(head)
        except ExecError as e:
            raise ExecError(e.errno, f"{os.fsdecode(cur)}: {e}") from None
        if bang is None:
            raise ExecError(abi.ENOEXEC, f"{os.fsdecode(cur)}: not an ELF file or a #! script")
        args = [bang.interpreter, *([bang.arg] if bang.arg is not None else []), cur, *args[1:]]
        scripts.append(cur)
        cur = bang.interpreter
        host = open_exec(cur, acc)
    raise AssertionError("unreachable")
