"""Exec through lx's loader: the exec hook that zones install.

Every guest execve/execveat stops at the anchor (SECCOMP_RET_TRACE).  At
that stop this hook reads the guest's path, argv and envp, checks the exec
as the kernel would (ENOENT, EACCES, ENOEXEC, E2BIG... are returned right
there, the call skipped) and rewrites the call into an execve of lx's stub.
When the exec has happened (PTRACE_EVENT_EXEC) it plans the real program
with lx.loader against the stub's fresh stack and writes the plan into the
stub's ``lx_plan`` buffer; the stub maps the program and its interpreter
and jumps.  The kernel never resolves PT_INTERP or #! itself.
"""
from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from elftools.elf.elffile import ELFFile

from lx.loader import ELFError, host_resolve, plan_exec, read_auxv
from lx.loader.wire import PlanTooLarge, encode
from lx.platform.call import Call
from lx.procstatus import ppid, tgid
from syscalls import abi
from syscalls._nr_x86_64 import NR
from syscalls.registry import LinuxError

STUB = Path(__file__).resolve().parent.parent / "native" / "lx-stub"
MAX_ARG_STRLEN = 32 * 4096     # include/uapi/linux/binfmts.h
MAX_ARGS = 0x7FFFFFFF          # fs/exec.c count(): MAX_ARG_STRINGS
_RED_ZONE = 128                # x86-64 ABI: below rsp, 128 bytes belong to the leaf function
_STACK_GAP = 64 * 1024         # the stub's own frames stay above the plan's stack
_BRK_RND_PAGES = 0x2000        # arch_randomize_brk(): 32 MiB on x86-64
_MMAP_RND_BITS = 28            # CONFIG_ARCH_MMAP_RND_BITS default


@cache
def stub_plan_address(stub: Path = STUB) -> int:
    """Address of the stub's lx_plan buffer (from its symbol table)."""
    with open(stub, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        for sym in symtab.iter_symbols() if symtab else ():
            if sym.name == "lx_plan":
                return sym["st_value"]
    raise RuntimeError(f"{stub}: no lx_plan symbol (rebuild lx)")


@dataclass
class _Pending:
    path: bytes
    argv: list[bytes]
    envp: list[bytes]
    resolve: Callable[[bytes], bytes]


class LoaderExec:
    """The exec hook (Supervisor(exec_hook=LoaderExec(resolve)))."""

    def __init__(self, resolve: Callable[[bytes], bytes] = host_resolve,
                 to_guest: Callable[[bytes], bytes | None] = lambda host: host) -> None:
        self.resolve = resolve          # guest path -> host path (a zone's resolver)
        self.to_guest = to_guest        # host path -> guest path (for cwd and dirfds)
        self.stub = os.fsencode(STUB)
        self.plan_addr = stub_plan_address()
        self.pending: dict[int, _Pending] = {}
        # The program each process runs (its /proc/PID/exe is the stub): by tgid.
        self.exe: dict[int, bytes] = {}

    def __call__(self, sup, msg, reply) -> None:
        from lx.platform.supervisor import lib
        if msg.kind == lib.LX_EXEC_ENTER:
            self.enter(sup, msg, reply, lib)
        else:
            self.done(sup, msg, reply, lib)

    # -- at the execve stop ---------------------------------------------
    def _read_vector(self, call: Call, addr: int) -> list[bytes]:
        out: list[bytes] = []
        if addr == 0:
            return out          # Linux accepts a NULL argv/envp as empty
        ptrs: list[int] = []
        at = addr
        while True:
            # the pointer array a page piece at a time (one read, not one per pointer)
            n = (4096 - (at & 4095)) // 8 or 1
            try:
                chunk = call.read(at, 8 * n)
            except LinuxError:
                chunk = call.read(at, 8)        # the array ends near unmapped memory
            words = struct.unpack(f"<{len(chunk) // 8}Q", chunk)
            if 0 in words:
                ptrs += words[:words.index(0)]
                break
            ptrs += words
            at += len(chunk)
            if len(ptrs) >= MAX_ARGS:
                raise LinuxError(abi.E2BIG)
        for ptr in ptrs:
            try:
                out.append(call.read_str(ptr, MAX_ARG_STRLEN))
            except LinuxError as e:
                raise LinuxError(abi.E2BIG if e.errno == abi.ENAMETOOLONG else e.errno) from None
        return out

    def _guest_path(self, call: Call, nr: int, args) -> bytes:
        if nr == NR["execve"]:
            path = call.read_str(args[0])
            dirfd = abi.AT_FDCWD
            flags = 0
        else:                   # execveat(dirfd, path, argv, envp, flags)
            dirfd = args[0] - (1 << 32) if args[0] & 0x8000_0000 else args[0] & 0xFFFF_FFFF
            path = call.read_str(args[1])
            flags = args[4] & 0xFFFF_FFFF
            if flags & ~(abi.AT_EMPTY_PATH | abi.AT_SYMLINK_NOFOLLOW):
                raise LinuxError(abi.EINVAL)
        if not path:
            if nr == NR["execveat"] and flags & abi.AT_EMPTY_PATH:
                return self._guest_link(f"/proc/{call.pid}/fd/{dirfd}")
            raise LinuxError(abi.ENOENT)
        if path.startswith(b"/"):
            return path
        what = "cwd" if dirfd == abi.AT_FDCWD else f"fd/{dirfd}"
        base = self._guest_link(f"/proc/{call.pid}/{what}")
        return base.rstrip(b"/") + b"/" + path

    def _guest_link(self, proc_link: str) -> bytes:
        """The guest path of a /proc/PID/{cwd,fd/N} link (EBADF/ENOENT as the kernel)."""
        try:
            host = os.fsencode(os.readlink(proc_link))
        except FileNotFoundError:
            raise LinuxError(abi.EBADF if "/fd/" in proc_link else abi.ENOENT) from None
        guest = self.to_guest(host)
        if guest is None:
            raise LinuxError(abi.ENOENT)    # outside the zone: nothing the guest can name
        return guest

    def _proc_exe(self, tid: int, path: bytes) -> bytes | None:
        """/proc/self/exe and /proc/PID/exe name the program, not the stub
        (busybox and others re-exec themselves through it)."""
        parts = path.split(b"/")
        if len(parts) != 4 or parts[3] != b"exe":
            return None
        who = parts[2]
        pid = tgid(tid) if who == b"self" else int(who) if who.isdigit() else None
        while pid and pid > 1:          # a forked child runs its parent's program
            if pid in self.exe:
                return self.exe[pid]
            pid = ppid(pid)
        return None

    def _resolver(self, tid: int) -> Callable[[bytes], bytes]:
        """Guest path -> host path for one exec: /proc/self/exe (and /proc/PID/exe)
        is the caller's program, not lx's stub; AT_EXECFN keeps the path as given."""
        def resolve(path: bytes) -> bytes:
            if path.startswith(b"/proc/"):
                exe = self._proc_exe(tid, path)
                if exe is not None:
                    path = exe
            return self.resolve(path)
        return resolve

    def program_of(self, pid: int) -> bytes | None:
        """The guest path of the program process ``pid`` runs (None: not known)."""
        return self._proc_exe(pid, f"/proc/{pid}/exe".encode())

    def enter(self, sup, msg, reply, lib) -> None:
        args = tuple(msg.args)
        call = Call(sup, 0, msg.pid, msg.nr, args)
        if msg.nr == NR["chdir"]:
            return self._chdir(call, msg, reply, lib)
        argv_at, envp_at = (args[1], args[2]) if msg.nr == NR["execve"] else (args[2], args[3])
        try:
            path = self._guest_path(call, msg.nr, args)
            argv = self._read_vector(call, argv_at)
            envp = self._read_vector(call, envp_at)
            plan_exec(path, argv, envp, resolve=self._resolver(msg.pid), uid=os.getuid(), gid=os.getgid(),
                      groups=os.getgroups())
        except LinuxError as e:
            if isinstance(e, ELFError) and "not supported yet" in str(e.args[1] if len(e.args) > 1 else e):
                # an ELF for another machine: say so once, as well as ENOEXEC
                print(f"lx: {os.fsdecode(path)}: {e.args[1]}", file=sup.log)
            reply.action, reply.err = lib.LX_EXEC_FAIL, e.errno
            return
        except OSError as e:
            reply.action, reply.err = lib.LX_EXEC_FAIL, abi.linux_errno(e)
            return
        # execve(stub, [stub], []): strings below the red zone of this thread's
        # stack, which is dead space for it (and for a vfork parent, whose
        # frames are all above).
        blob = self.stub + b"\0"
        strings = (msg.rsp - _RED_ZONE - 64 - len(blob)) & ~15
        vec = strings - 32
        call.write(strings, blob)
        call.write(vec, struct.pack("<QQQQ", strings, 0, 0, 0))
        self.pending[msg.pid] = _Pending(path, argv, envp, self._resolver(msg.pid))
        reply.action, reply.nr = lib.LX_EXEC_REWRITE, NR["execve"]
        reply.args = [strings, vec, vec + 16]

    def _chdir(self, call: Call, msg, reply, lib) -> None:
        """A zone's chdir: resolve in the zone, then let the guest's own
        chdir run on the resolved host directory (its kernel cwd stays real,
        so relative paths and fork inherit it as on Linux)."""
        from syscalls.path import chdir_target
        try:
            host = chdir_target(call, msg.args[0])
        except LinuxError as e:
            reply.action, reply.err = lib.LX_EXEC_FAIL, e.errno
            return
        except OSError as e:
            reply.action, reply.err = lib.LX_EXEC_FAIL, abi.linux_errno(e)
            return
        blob = host + b"\0"
        at = (msg.rsp - _RED_ZONE - 64 - len(blob)) & ~15
        call.write(at, blob)
        reply.action, reply.nr = lib.LX_EXEC_REWRITE, NR["chdir"]
        reply.args = [at, 0, 0]

    # -- after the exec of the stub -------------------------------------
    def done(self, sup, msg, reply, lib) -> None:
        p = self.pending.pop(msg.former_tid, None)
        if p is None:
            return              # not ours (cannot happen: every exec stops at enter)
        auxv = dict(read_auxv(f"/proc/{msg.pid}/auxv"))
        top = (msg.rsp - _STACK_GAP) & ~0xFFF
        try:
            plan = plan_exec(p.path, p.argv, p.envp, resolve=p.resolve, uid=os.getuid(), gid=os.getgid(),
                             groups=os.getgroups(), stack_top=top, vdso_base=auxv.get(abi.AT_SYSINFO_EHDR),
                             pie_rnd=secrets.randbits(_MMAP_RND_BITS) << 12,
                             brk_rnd=secrets.randbelow(_BRK_RND_PAGES) << 12)
            data = encode(plan, lambda im: self.to_guest(im.host_path) or im.path)
        except (LinuxError, OSError, PlanTooLarge) as e:
            # The file changed between the two looks: the old image is gone
            # already, so the process dies as a failed late exec does (SIGKILL... as
            # the kernel's "point of no return" failures).
            print(f"lx: exec of {os.fsdecode(p.path)} failed after the point of no return: {e}",
                  file=sup.log)
            reply.action = lib.LX_EXEC_KILL
            return
        Call(sup, 0, msg.pid, 0, ()).write(self.plan_addr, data)
        # /proc/PID/exe names the file itself (symlinks resolved), as the kernel's does.
        self.exe[msg.pid] = self.to_guest(plan.program.host_path) or plan.program.path
