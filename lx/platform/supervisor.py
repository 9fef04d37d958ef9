"""The supervisor: spawns a guest under the table's seccomp filter and
answers its user notifications until the guest tree has ended.

The C side (native/lxfast.c) forks the anchor and the guest and runs the
notification loop; entries with a C fast handler never enter Python.  This
module builds the filter and the loop's action table from the syscall
table, and is the single place where a Python handler's result or error
becomes the reply: LinuxError and host OSError are converted here only.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
import threading
from collections.abc import Callable
from typing import TextIO

from lx.faults import Fault
from lx import procstatus
from lx.identity import Identity
from lx.platform import seccomp
from lx.platform.call import Call
from syscalls import abi
from syscalls.args import decode
from syscalls.registry import CONTINUE, REPLIED, Entry, LinuxError, Support
from syscalls.table import TABLE

try:
    from lx.native._lxfast import ffi, lib
except ImportError as exc:  # pragma: no cover - a broken install
    raise ImportError(f"lx's native module is not built ({exc}); run `make` or `pip install -e .`") from exc

ExecHook = Callable[["Supervisor", object, object], None]
EXEC_CALLS = ("execve", "execveat")

# C fast handlers by the name an entry gives in ``fast=``.
FAST_ACTIONS = {"uname": lib.LX_ACT_UNAME}


class SpawnError(OSError):
    """The guest could not be started (exec or setup failed)."""


@dataclass
class Report:
    """What a finished run tells: status and what the guest asked lx for."""

    status: int = 0                   # wait status of the guest's first process
    exec_errno: int = 0
    counts: dict[str, int] = field(default_factory=dict)   # notifications by name
    unsupported: dict[str, int] = field(default_factory=dict)
    internal_error: str = ""
    fault: Fault | None = None        # why the first process died, if of a fault
    execs: int = 0                    # execve/execveat calls seen by the exec service

    @property
    def returncode(self) -> int:
        """subprocess's convention: exit code, or -N when killed by signal N."""
        if os.WIFSIGNALED(self.status):
            return -os.WTERMSIG(self.status)
        return os.WEXITSTATUS(self.status)


_current: "Supervisor | None" = None


@ffi.def_extern(onerror=lambda *exc: None)
def lx_py_handle(req, resp) -> int:  # noqa: D401 - called by the C loop
    sup = _current
    if sup is None:
        resp.error = -abi.ENOSYS
        return 1
    return sup._dispatch(req, resp)


class Supervisor:
    """One guest tree under one seccomp listener."""

    native = (ffi, lib)

    def __init__(self, table: dict[int, Entry] = TABLE, identity: Identity | None = None,
                 verbose: bool = False, strict: bool = False, log: TextIO | None = None,
                 trace_all: bool | None = None, exec_hook: ExecHook | None = None,
                 zonefs=None, landlock_fd: int = -1) -> None:
        self.table = table
        self.identity = identity or Identity.host()
        self.verbose = verbose
        self.strict = strict
        self.log = log or sys.stderr
        # ptrace every guest process (zones need it for exec); LX_TRACE_ALL=1
        # turns it on for a host-root run, to test the tracer on its own.
        self.trace_all = os.environ.get("LX_TRACE_ALL") == "1" if trace_all is None else trace_all
        # execve/execveat stop at the anchor (SECCOMP_RET_TRACE), which asks
        # exec_hook what to do: the zones' loader lives there.
        self.exec_hook = exec_hook
        # The zone's filesystem: its path calls are translated (zone=True
        # handlers); without one they pass through to the host.
        self.zonefs = zonefs
        self.landlock_fd = landlock_fd    # a ruleset every guest process is confined by
        if exec_hook is not None:
            self.trace_all = True
        self.report = Report()
        self.listener = -1
        self._loop = ffi.new("struct lx_loop *")
        self._reported: set[tuple[int, int]] = set()
        self._spawn = None
        self.identity.on_change = self._sync_identity
        self._sync_identity(self.identity)

    # -- the filter and the loop's action table -------------------------
    def filter_actions(self) -> dict[int, int]:
        """nr -> SECCOMP_RET_* action for every number in the table."""
        acts = {nr: (seccomp.ALLOW if self._passes(e) else seccomp.NOTIFY) for nr, e in self.table.items()}
        if self.exec_hook is not None:
            for nr, e in self.table.items():
                if e.name in EXEC_CALLS or (e.trace and self.zonefs is not None):
                    acts[nr] = seccomp.TRACE
        for name in seccomp.BOOTSTRAP:
            nr = next(n for n, e in self.table.items() if e.name == name)
            if acts[nr] != seccomp.ALLOW:
                raise RuntimeError(f"{name} must be PASSTHROUGH: the guest bootstrap needs it")
        return acts

    def _passes(self, e: Entry) -> bool:
        """Runs on the host unchanged: PASSTHROUGH, or a zone handler with no zone."""
        return e.support is Support.PASSTHROUGH or (e.zone and self.zonefs is None)

    def _loop_actions(self) -> None:
        for nr, e in self.table.items():
            if nr >= lib.LX_NR_MAX:
                continue
            if e.fast:
                act = FAST_ACTIONS[e.fast]
            elif self._passes(e):
                act = lib.LX_ACT_CONTINUE    # never notified; safe if it is
            else:
                act = lib.LX_ACT_PYTHON
            self._loop.actions[nr] = act

    def _sync_identity(self, ident: Identity) -> None:
        data = ident.utsname()
        ffi.memmove(self._loop.utsname, data, len(data))

    # -- running ---------------------------------------------------------
    def spawn(self, path: str, argv: list[str], envp: list[str] | None, stdio: tuple[int, int, int] = (-1, -1, -1),
              cwd: str | None = None, close_fds: bool = True, ignored: tuple[int, ...] = ()) -> int:
        """Start the guest; returns its pid.  Raises SpawnError.

        ``envp`` None passes the supervisor's own environment.
        ``ignored``: signals the guest starts with ignored (those the
        caller's own environment ignored, as `nohup` does); every other
        disposition the supervisor changed is reset to default."""
        prog = seccomp.pack(seccomp.build(self.filter_actions()))
        keep = [ffi.new("char[]", os.fsencode(a)) for a in argv]
        # envp None: the process's real environ (as execve from C would see
        # it), which os.environ only snapshots.
        env = [ffi.new("char[]", os.fsencode(e)) for e in envp or ()]
        c_argv = ffi.new("char *[]", keep + [ffi.NULL])
        c_envp = ffi.new("char *[]", env + [ffi.NULL]) if envp is not None else ffi.NULL
        c_path = ffi.new("char[]", os.fsencode(path))
        c_cwd = ffi.new("char[]", os.fsencode(cwd)) if cwd else ffi.NULL
        c_prog = ffi.new("char[]", prog)
        s = ffi.new("struct lx_spawn *")
        s.path, s.argv, s.envp, s.cwd = c_path, c_argv, c_envp, c_cwd
        s.filter, s.filter_len = c_prog, len(prog) // 8
        s.filter_flags = abi.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        s.stdio = list(stdio)
        s.close_fds = int(close_fds)
        s.ign_mask = sum(1 << sig for sig in ignored)
        s.trace_all = int(self.trace_all)
        s.landlock_fd = self.landlock_fd
        self._spawn = (s, keep, env, c_argv, c_envp, c_path, c_cwd, c_prog)
        if lib.lx_spawn(s) != 0:
            if s.status_fd >= 0:
                self._drain_records(s.status_fd)
                self._finish(s)
            step = ffi.string(s.err_step).decode() if s.err_step else "spawn"
            err = s.err or self.report.exec_errno or abi.EIO
            raise SpawnError(err, f"{step}: {os.strerror(err)}")
        self.listener = s.listener
        if s.exec_fd >= 0:
            self._exec_thread = threading.Thread(target=self._exec_service, args=(s.exec_fd,),
                                                 name="lx-exec", daemon=True)
            self._exec_thread.start()
        self._loop.listener = s.listener
        self._loop.status_fd = s.status_fd
        self._loop_actions()
        return s.guest_pid

    def serve(self) -> Report:
        """Answer notifications until the guest tree ends; returns the report."""
        global _current
        s = self._spawn[0]
        if _current is not None:
            raise RuntimeError("one supervisor loop per process at a time")
        _current = self
        try:
            while True:
                r = lib.lx_loop_run(self._loop)
                if r < 0:
                    raise OSError(-r, f"lx notification loop: {os.strerror(-r)}")
                if self._drain_records(s.status_fd, once=True) is None:
                    break
        finally:
            _current = None
            self._finish(s)
        self._collect_counts()
        return self.report

    def kill(self) -> None:
        """End the whole guest tree now (the anchor does it when we let go)."""
        s = self._spawn[0] if self._spawn else None
        if s is not None and s.life_fd >= 0:
            os.close(s.life_fd)
            s.life_fd = -1

    def _drain_records(self, fd: int, once: bool = False) -> bool | None:
        """Read anchor records; None at EOF (the anchor has finished)."""
        rec = ffi.new("struct lx_record *")
        while True:
            if not lib.lx_read_status(fd, rec):
                return None
            if rec.kind == lib.LX_REC_GUEST_STATUS:
                self.report.status = rec.value
            elif rec.kind in (lib.LX_REC_EXEC_ERRNO, lib.LX_REC_SETUP_ERRNO):
                self.report.exec_errno = rec.value
            elif rec.kind == lib.LX_REC_FAULT:
                exe = ffi.string(rec.exe)
                program_of = getattr(self.exec_hook, "program_of", None)
                if program_of is not None:      # /proc/PID/exe is lx's stub there
                    exe = program_of(rec.pid) or exe
                self.report.fault = Fault(
                    pid=rec.pid, signal=rec.value, code=rec.code, addr=rec.addr, sender=rec.sender,
                    ip=rec.ip, insn=bytes(ffi.buffer(rec.insn, rec.insn_len)), exe=os.fsdecode(exe))
            if once:
                return True

    def _finish(self, s) -> None:
        status = ffi.new("int *")
        if s.anchor_pid > 0:
            lib.lx_wait_anchor(s.anchor_pid, status)
            s.anchor_pid = -1
        if getattr(self, "_exec_thread", None) is not None:
            self._exec_thread.join()      # it ends at the anchor's EOF
            self._exec_thread = None
        for name in ("listener", "status_fd", "life_fd", "exec_fd"):
            fd = getattr(s, name)
            if fd >= 0:
                os.close(fd)
                setattr(s, name, -1)

    def _collect_counts(self) -> None:
        for nr, e in self.table.items():
            if nr < lib.LX_NR_MAX and self._loop.counts[nr]:
                self.report.counts[e.name] = self._loop.counts[nr]

    # -- the exec service (a thread: the C loop keeps serving meanwhile) --
    def _exec_service(self, fd: int) -> None:
        """Answer the anchor's exec questions until it closes the channel."""
        size = ffi.sizeof("struct lx_exec_msg")
        while True:
            data = _read_exact(fd, size)
            if data is None:
                return
            msg = ffi.new("struct lx_exec_msg *")
            ffi.memmove(msg, data, size)
            reply = ffi.new("struct lx_exec_reply *")
            if msg.kind == lib.LX_EXEC_ENTER:
                self.report.execs += 1
            try:
                if self.exec_hook is not None:
                    self.exec_hook(self, msg, reply)
            except Exception as e:  # a bug in lx: that guest process cannot go on
                self.report.internal_error = f"internal error in exec (pid {msg.pid}): {type(e).__name__}: {e}"
                print(f"lx: {self.report.internal_error}; killing that process", file=self.log)
                reply.action = lib.LX_EXEC_KILL
            try:
                os.write(fd, bytes(ffi.buffer(reply)))
            except OSError:
                return

    # -- the Python dispatcher ------------------------------------------
    def _dispatch(self, req, resp) -> int:
        nr = req.data.nr
        entry = self.table.get(nr)
        raw = tuple(req.data.args)
        if entry is None or entry.handler is None:
            self._unsupported(req.pid, nr, entry)
            resp.error = -abi.ENOSYS
            return 0
        call = Call(self, req.id, req.pid, nr, raw)
        try:
            ret = entry.handler(call, *decode(entry.codes, raw))
        except LinuxError as e:
            ret = -e.errno
        except OSError as e:
            ret = -abi.linux_errno(e)
        except Exception as e:  # a bug in lx: this guest cannot go on
            self.report.internal_error = (f"internal error in {entry.name} handler "
                                          f"(pid {req.pid}): {type(e).__name__}: {e}")
            print(f"lx: {self.report.internal_error}; stopping the guest", file=self.log)
            self.kill()
            resp.error = -abi.ENOSYS
            return 1
        if ret == REPLIED:
            return lib.LX_PY_REPLIED
        if ret == CONTINUE:
            resp.flags = abi.SECCOMP_USER_NOTIF_FLAG_CONTINUE
        elif ret < 0:
            resp.error = ret
        else:
            resp.val = ret
        return 0

    def _unsupported(self, tid: int, nr: int, entry: Entry | None) -> None:
        name = entry.name if entry else f"syscall_{nr}"
        self.report.unsupported[name] = self.report.unsupported.get(name, 0) + 1
        if not (self.verbose or self.strict):
            return
        tgid = procstatus.tgid(tid)
        if (tgid, nr) in self._reported:
            return
        self._reported.add((tgid, nr))
        why = f" ({entry.reason.value}: {entry.note})" if entry and entry.reason else " (not in the table)"
        print(f"lx: pid {tgid}: {name} ({nr}) is not supported{why}; returned ENOSYS", file=self.log)


def _read_exact(fd: int, size: int) -> bytes | None:
    buf = b""
    while len(buf) < size:
        try:
            chunk = os.read(fd, size - len(buf))
        except InterruptedError:
            continue
        if not chunk:
            return None
        buf += chunk
    return buf
