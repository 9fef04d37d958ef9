"""``lx.run``: run a command under lx, mirroring ``subprocess.run``.

It resolves the program as execvp would (PATH from the guest's
environment), starts it under a Supervisor, serves it until the guest tree
has ended and returns a CompletedProcess.  The supervisor ignores the
terminal's SIGINT/SIGQUIT meanwhile: they are the guest's, as they are a
shell's child's.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence

from lx.identity import Identity
from lx.platform.supervisor import Report, Supervisor

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL


def which(cmd: str, env: Mapping[str, str]) -> str:
    """The path execvp would run for ``cmd``; FileNotFoundError/PermissionError as a shell."""
    if "/" in cmd:
        if not os.path.exists(cmd):
            raise FileNotFoundError(2, "No such file or directory", cmd)
        return cmd
    found = shutil.which(cmd, path=env.get("PATH", os.defpath))
    if found is None:
        raise FileNotFoundError(2, "No such file or directory", cmd)
    return found


# Signals whose disposition a guest inherits from lx's caller (SIGPIPE and
# SIGXFSZ are ignored by Python itself, so they are reset like subprocess does).
INHERITED = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM, signal.SIGCHLD,
             signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)


def ignored_by_caller() -> tuple[int, ...]:
    """The INHERITED signals lx's own caller left ignored (nohup, a shell's `trap '' INT`)."""
    return tuple(s for s in INHERITED if signal.getsignal(s) == signal.SIG_IGN)


@contextlib.contextmanager
def _terminal_signals_to_guest() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGQUIT)}
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def _stdio(spec, input_given: bool, which_fd: int):
    """(fd for the guest, our end to read/write or None, fds to close after spawn)."""
    if spec is None:
        if which_fd == 0 and input_given:
            spec = PIPE
        else:
            return -1, None, []
    if spec == PIPE:
        r, w = os.pipe()
        return (r, w, [r]) if which_fd == 0 else (w, r, [w])
    if spec == DEVNULL:
        fd = os.open(os.devnull, os.O_RDWR)
        return fd, None, [fd]
    if isinstance(spec, int):
        return spec, None, []
    return spec.fileno(), None, []


def run(args: Sequence[str], *, stdin=None, stdout=None, stderr=None, input: bytes | str | None = None,
        capture_output: bool = False, cwd: str | None = None, env: Mapping[str, str] | None = None,
        text: bool = False, check: bool = False, close_fds: bool = True, timeout: float | None = None,
        verbose: bool = False, strict: bool = False, identity: Identity | None = None,
        loader: bool | None = None, root: str | os.PathLike | None = None, binds=(),
        zone=None, table=None, log=None) -> subprocess.CompletedProcess:
    """Run ``args`` under lx and wait for it; see ``subprocess.run``.

    The CompletedProcess carries lx's Report as ``.lx`` (status, counts of
    notifications and of unsupported calls).  After ``timeout`` seconds the
    whole guest tree is killed and subprocess.TimeoutExpired is raised.
    With ``loader`` every exec goes through lx's loader (as in a zone);
    None takes LX_LOADER=1 from the environment (to run a suite that way).
    With ``zone`` (an lx.zone.Zone) or ``root`` (a directory, with ``binds``:
    "HOST:GUEST[:ro]" strings or lx.vfs Bind objects, plus the default binds)
    the command runs in a zone: ``args[0]`` and ``cwd`` are guest paths, the
    environment defaults to the zone's, the identity is the zone's, and
    every exec goes through the loader.  ``table`` replaces lx's syscall
    table (tests use it to switch one translation off)."""
    if capture_output:
        stdout = stderr = PIPE
    zonefs = None
    if zone is None and root is not None:
        from lx.zone import Zone
        zone = Zone.from_root(root, binds=binds)
    if zone is not None:
        zonefs = zone.fs()
        if env is None:
            env = zone.guest_env()
        if identity is None:
            identity = zone.identity()
        try:
            path, cwd = _zone_start(zonefs, args[0], env, cwd or os.fsdecode(zone.workdir))
        except BaseException:
            zonefs.close()
            raise
        loader = True
    else:
        path = which(args[0], os.environ if env is None else env)
    exec_hook = None
    if loader is None:
        loader = os.environ.get("LX_LOADER") == "1"
    if loader:
        from lx.platform.execsvc import LoaderExec
        exec_hook = LoaderExec() if zonefs is None else \
            LoaderExec(resolve=lambda p: _zone_host(zonefs, p), to_guest=zonefs.to_guest)
    landlock_fd = _landlock_for(zone) if zone is not None else -1
    extra = {} if table is None else {"table": table}
    sup = Supervisor(identity=identity, verbose=verbose, strict=strict, log=log, exec_hook=exec_hook,
                     zonefs=zonefs, landlock_fd=landlock_fd, **extra)
    ends = [_stdio(stdin, input is not None, 0), _stdio(stdout, False, 1), _stdio(stderr, False, 2)]
    data = input.encode() if isinstance(input, str) else input
    out: dict[int, bytes] = {}
    threads = []
    ignored = ignored_by_caller()
    with _terminal_signals_to_guest():
        try:
            sup_env = None if env is None else [f"{k}={v}" for k, v in env.items()]
            sup.spawn(path, list(args), sup_env, stdio=tuple(e[0] for e in ends), cwd=cwd,
                      close_fds=close_fds, ignored=ignored)
        except BaseException:
            _close_zone(zonefs, landlock_fd)
            raise
        finally:
            for _, _, close in ends:
                for fd in close:
                    os.close(fd)
        if ends[0][1] is not None:
            threads.append(threading.Thread(target=_feed, args=(ends[0][1], data or b""), daemon=True))
        for i in (1, 2):
            if ends[i][1] is not None:
                threads.append(threading.Thread(target=_drain, args=(ends[i][1], out, i), daemon=True))
        for t in threads:
            t.start()
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            sup.kill()
        timer = threading.Timer(timeout, expire) if timeout is not None else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            report = sup.serve()
        finally:
            if timer:
                timer.cancel()
            _close_zone(zonefs, landlock_fd)
        for t in threads:
            t.join()
    stdout_b, stderr_b = out.get(1), out.get(2)
    if expired.is_set():
        raise subprocess.TimeoutExpired(list(args), timeout, stdout_b, stderr_b)
    if text:
        stdout_b = stdout_b.decode() if stdout_b is not None else None
        stderr_b = stderr_b.decode() if stderr_b is not None else None
    cp = subprocess.CompletedProcess(list(args), report.returncode, stdout_b, stderr_b)
    cp.lx = report  # type: ignore[attr-defined]
    if check:
        cp.check_returncode()
    return cp


def _close_zone(zonefs, landlock_fd: int) -> None:
    if landlock_fd >= 0:
        os.close(landlock_fd)
    if zonefs is not None:
        zonefs.close()


def _landlock_for(zone) -> int:
    """The zone's Landlock ruleset (the second wall): its root and binds, and
    lx's loader stub; -1 where the kernel has no Landlock (said once)."""
    from lx.platform import landlock
    from lx.platform.execsvc import STUB
    if landlock.abi_version() == 0:
        global _warned_landlock
        if not _warned_landlock:
            _warned_landlock = True
            import sys
            print("lx: this kernel has no Landlock: zones run behind path translation only",
                  file=sys.stderr)
        return -1
    binds = zone.all_binds()
    return landlock.build_ruleset([zone.root, *(b.host for b in binds if not b.readonly)],
                                  [b.host for b in binds if b.readonly], [STUB])


_warned_landlock = False


def _zone_host(zonefs, guest: bytes) -> bytes:
    """A guest path's host path (for the loader, which opens the files it maps)."""
    with zonefs.resolve(guest) as r:
        return r.host


def _zone_start(zonefs, cmd: str, env: Mapping[str, str], cwd: str | None) -> tuple[str, str]:
    """The guest path to exec first (PATH searched inside the zone) and the
    host directory to start in."""
    import errno
    if "/" in cmd:
        candidates = [os.fsencode(cmd)]
    else:
        candidates = [os.fsencode(d) + b"/" + os.fsencode(cmd)
                      for d in env.get("PATH", os.defpath).split(":") if d.startswith("/")]
    path = None
    for c in candidates:
        try:
            with zonefs.resolve(c) as r:
                if os.path.isfile(b"/proc/self/fd/%d" % r.fd):
                    path = c
                    break
        except OSError:
            continue
    if path is None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", cmd)
    with zonefs.resolve(os.fsencode(cwd or "/")) as r:
        start = os.fsdecode(r.host)
    return os.fsdecode(path), start


def _feed(fd: int, data: bytes) -> None:
    try:
        with open(fd, "wb", closefd=True) as f:
            f.write(data)
    except BrokenPipeError:
        pass


def _drain(fd: int, out: dict[int, bytes], which_fd: int) -> None:
    with open(fd, "rb", closefd=True) as f:
        out[which_fd] = f.read()


def shell_status(report: Report) -> int:
    """The exit status a shell would report: the code, or 128+N for signal N."""
    rc = report.returncode
    return 128 - rc if rc < 0 else rc
