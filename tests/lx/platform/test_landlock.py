"""The second wall: a forked child enters a zone's Landlock domain and probes it.

Each probe records "ok" or the errno name, so a failure shows exactly which
operation the kernel let through or refused.  Files outside the zone are
owned by the probing uid, so every refusal is Landlock's, never DAC's.  The
"nobody" variants (run when the suite is root) show Landlock needs no privilege.
"""
from __future__ import annotations

import ctypes
import encodings.idna  # noqa: F401 -- the confined child cannot import it later
import errno
import fcntl
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import termios
import traceback

import pytest

from lx.platform import landlock as ll

ABI = ll.abi_version()
pytestmark = pytest.mark.skipif(ABI == 0, reason="this kernel has no Landlock (abi_version() == 0)")
NOBODY = 65534
_libc = ctypes.CDLL(None, use_errno=True)


def confined(body, *, uid=None, rw=(), ro=(), exe=(), before=None, **scopes) -> dict[str, str]:
    """Fork; in the child become ``uid``, run ``before()``, enter the domain, run ``body(probe, ctx)``."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        status, out = 1, {}
        try:
            os.close(r)

            def probe(name, fn):
                try:
                    fn()
                    out[name] = "ok"
                except OSError as e:
                    out[name] = errno.errorcode.get(e.errno, str(e.errno))
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            ctx = before() if before else None
            fd = ll.build_ruleset(rw, ro, exe, **scopes)
            ll.restrict_self(fd)
            os.close(fd)
            body(probe, ctx)
            status = 0
        except BaseException:
            out = {"__error__": traceback.format_exc()}
        finally:
            os.write(w, json.dumps(out).encode())
            _reap_children()  # pid 1 may not reap orphans
            os._exit(status)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = json.loads(f.read() or b"{}")
    _, st = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(st) == 0, data.get("__error__", data)
    return data


@pytest.fixture(params=["caller", "nobody"])
def world(request):
    """A zone, a ro bind, lx's loader files and an outside dir, all owned by the probing uid."""
    uid = None
    if request.param == "nobody":
        if os.getuid() != 0:
            pytest.skip("needs root to become nobody (the caller variant is already unprivileged)")
        uid = NOBODY
    base = tempfile.mkdtemp(prefix="lx-landlock-")
    os.chmod(base, 0o755)
    for d in ("zone", "ro", "lx", "out/dir"):
        os.makedirs(f"{base}/{d}")
    for f in ("zone/a", "ro/r", "out/o", "out/dir/x"):
        with open(f"{base}/{f}", "w") as fh:
            fh.write("hi\n")
    for d in ("zone", "ro", "lx"):
        shutil.copy("/bin/true", f"{base}/{d}/true")
    shutil.copy("/bin/true", f"{base}/lx/other")
    os.symlink("/etc/passwd", f"{base}/out/link")
    if uid is not None:
        for root, dirs, files in os.walk(base):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, uid, uid)
    yield base, uid
    shutil.rmtree(base)


def _loader_files() -> list[str]:
    """/bin/true's ELF interpreter and libraries (real paths): exec paths, as lx's stub would be."""
    try:
        out = subprocess.run(["ldd", "/bin/true"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("ldd cannot list /bin/true's libraries")
    return sorted({os.path.realpath(w) for w in out.split() if w.startswith("/")})


def _spawn(path):
    pid = os.posix_spawn(path, [path], {})
    st = os.waitpid(pid, 0)[1]
    if os.waitstatus_to_exitcode(st) != 0:
        raise OSError(errno.ECHILD, "child failed")


def test_abi_version_and_the_constants_the_kernel_accepts():
    assert ABI >= 1
    known = {1: 1 << 12, 2: ll.LANDLOCK_ACCESS_FS_REFER, 3: ll.LANDLOCK_ACCESS_FS_TRUNCATE,
             5: ll.LANDLOCK_ACCESS_FS_IOCTL_DEV}

    def create(fs=0, net=0, scoped=0):
        attr = ctypes.create_string_buffer(struct.pack("<QQQ", fs, net, scoped), 24)
        fd = _libc.syscall(ll.NR_LANDLOCK_CREATE_RULESET, attr, 24, 0)
        if fd < 0:
            return ctypes.get_errno()
        os.close(fd)
        return 0
    for need, bit in known.items():
        assert create(fs=bit) == (0 if ABI >= need else errno.EINVAL), hex(bit)
    if ABI >= 4:
        assert create(fs=1, net=ll.LANDLOCK_ACCESS_NET_BIND_TCP | ll.LANDLOCK_ACCESS_NET_CONNECT_TCP) == 0
    if ABI >= 6:
        assert create(scoped=ll.LANDLOCK_SCOPE_SIGNAL | ll.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET) == 0
    if ABI <= 7:  # nothing beyond what this module names exists yet
        assert create(fs=ll.handled_fs() << 1 & ~ll.handled_fs()) == errno.EINVAL
        if ABI >= 6:
            assert create(scoped=1 << 2) == errno.EINVAL
    assert ll.handled_fs(1) == (1 << 13) - 1 and ll.handled_fs(0) == 0


def test_ruleset_fd_is_close_on_exec_and_missing_binds_raise(tmp_path):
    fd = ll.build_ruleset([tmp_path])
    try:
        assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
    finally:
        os.close(fd)
    with pytest.raises(FileNotFoundError):
        ll.build_ruleset([tmp_path / "missing"])


def test_files_inside_yes_outside_no(world):
    b, uid = world

    def body(probe, _):
        probe("read zone", lambda: open(f"{b}/zone/a").read())
        probe("write zone", lambda: open(f"{b}/zone/a", "a").write("x"))
        probe("create zone", lambda: open(f"{b}/zone/new", "w").close())
        probe("mkdir+rename zone", lambda: (os.mkdir(f"{b}/zone/d"), os.rename(f"{b}/zone/new", f"{b}/zone/d/n")))
        probe("read ro", lambda: (open(f"{b}/ro/r").read(), os.listdir(f"{b}/ro")))
        probe("write ro", lambda: open(f"{b}/ro/r", "a"))
        probe("create ro", lambda: open(f"{b}/ro/n", "w"))
        probe("read /etc/passwd", lambda: open("/etc/passwd").read())
        probe("read out", lambda: open(f"{b}/out/o").read())
        probe("write out", lambda: open(f"{b}/out/o", "a"))
        probe("create out", lambda: open(f"{b}/out/n", "w"))
        probe("mkdir out", lambda: os.mkdir(f"{b}/out/nd"))
        probe("unlink out", lambda: os.unlink(f"{b}/out/dir/x"))
        probe("truncate out", lambda: os.truncate(f"{b}/out/o", 0))
        probe("list out", lambda: os.listdir(f"{b}/out"))
        probe("list /", lambda: os.listdir("/"))
        probe("bind unix socket out", lambda: socket.socket(socket.AF_UNIX).bind(f"{b}/out/s"))
        probe("rename zone->out", lambda: os.rename(f"{b}/zone/a", f"{b}/out/a"))
        probe("link zone->out", lambda: os.link(f"{b}/zone/a", f"{b}/out/a"))
        probe("rename out->zone", lambda: os.rename(f"{b}/out/o", f"{b}/zone/o"))
        probe("link out->zone", lambda: os.link(f"{b}/out/o", f"{b}/zone/o"))
    got = confined(body, uid=uid, rw=[f"{b}/zone"], ro=[f"{b}/ro"])
    ok = {"read zone", "write zone", "create zone", "mkdir+rename zone", "read ro"}
    for name, res in got.items():
        if name in ok:
            assert res == "ok", name
        elif name.startswith(("rename", "link")):
            # EACCES when the outside side lacks the right (create there, remove from
            # there); EXDEV when only REFER forbids it (a host file linked into the zone).
            assert res in ("EACCES", "EXDEV"), name
        else:
            assert res == "EACCES", name
    assert got["link out->zone"] == "EXDEV" and got["rename zone->out"] == "EACCES"
    assert sorted(os.listdir(f"{b}/out")) == ["dir", "link", "o"] and os.path.exists(f"{b}/out/dir/x")


def test_exec_only_inside_and_the_loader_files(world):
    b, uid = world

    def body(probe, _):
        probe("exec /bin/true", lambda: _spawn("/bin/true"))
        probe("exec zone/true", lambda: _spawn(f"{b}/zone/true"))
        probe("exec ro/true", lambda: _spawn(f"{b}/ro/true"))
        probe("exec stub", lambda: _spawn(f"{b}/lx/true"))
        probe("exec stub sibling", lambda: _spawn(f"{b}/lx/other"))
        probe("write stub", lambda: open(f"{b}/lx/true", "ab"))
    got = confined(body, uid=uid, rw=[f"{b}/zone"], ro=[f"{b}/ro"], exe=[f"{b}/lx/true", *_loader_files()])
    assert got == {"exec /bin/true": "EACCES", "exec zone/true": "ok", "exec ro/true": "ok",
                   "exec stub": "ok", "exec stub sibling": "EACCES", "write stub": "EACCES"}


@pytest.mark.skipif(ABI < 6, reason="signal and abstract-socket scoping need Landlock ABI 6")
@pytest.mark.parametrize("scoped", [True, False])
def test_signals_and_abstract_sockets_stay_in_the_domain(world, scoped):
    b, uid = world
    name = f"\0lx-landlock-{os.getpid()}-{scoped}"
    server = socket.socket(socket.AF_UNIX)
    server.bind(name)
    server.listen()

    def before():  # a process of the same uid, outside the domain
        return _idle_child()

    def body(probe, outside):
        probe("kill outside", lambda: os.kill(outside, 0))
        if uid is None:  # the test process: outside the domain, same uid
            probe("kill parent", lambda: os.kill(os.getppid(), 0))
        probe("ptrace outside", lambda: _ptrace_attach(outside))
        probe("connect abstract", lambda: socket.socket(socket.AF_UNIX).connect(name))
        inside = _idle_child()
        probe("kill inside", lambda: os.kill(inside, 0))
        r, w = os.pipe()
        if os.fork() == 0:  # a nested domain cannot signal the one around it
            fd = ll.build_ruleset([f"{b}/zone"])
            ll.restrict_self(fd)
            try:
                os.kill(inside, 0)
                os.write(w, b"ok")
            except OSError as e:
                os.write(w, errno.errorcode[e.errno].encode())
            os._exit(0)
        os.close(w)
        res = os.read(r, 16).decode()
        probe("nested kills outer", lambda: _raise_unless_ok(res))
    try:
        got = confined(body, uid=uid, rw=[f"{b}/zone"], before=before,
                       scope_signals=scoped, scope_abstract_unix=scoped)
    finally:
        server.close()
    wall = "EPERM" if scoped else "ok"
    assert got.pop("kill parent", wall) == wall
    assert got == {"kill outside": wall, "ptrace outside": "EPERM", "connect abstract": wall,
                   "kill inside": "ok", "nested kills outer": "EPERM"}


_idle_pipes: list[int] = []


def _idle_child() -> int:
    """A child that lives until _reap_children (it waits for EOF on a pipe only its parent holds)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.closerange(3, r)
        os.closerange(r + 1, 4096)
        os.read(r, 1)
        os._exit(0)
    os.close(r)
    _idle_pipes.append(w)
    return pid


def _reap_children() -> None:
    while _idle_pipes:
        os.close(_idle_pipes.pop())
    try:
        while True:
            os.waitpid(-1, 0)
    except ChildProcessError:
        pass


def _raise_unless_ok(res: str) -> None:
    if res != "ok":
        raise OSError(getattr(errno, res), res)


def _ptrace_attach(pid):
    if _libc.ptrace(16, pid, 0, 0) != 0:  # PTRACE_ATTACH
        raise OSError(ctypes.get_errno(), "ptrace")
    os.waitpid(pid, 0)                    # the attach stop, so that detach works
    _libc.ptrace(17, pid, 0, 0)           # PTRACE_DETACH


def test_devices_beneath_dev_binds_keep_their_ioctls(world):
    b, uid = world
    master, slave = os.openpty()
    tty = os.ttyname(slave)
    if uid is not None:
        os.chown(tty, uid, -1)

    def body(probe, _):
        probe("write /dev/null", lambda: open("/dev/null", "w").write("x"))
        probe("read /dev/zero", lambda: open("/dev/zero", "rb").read(1))
        probe("ioctl new pts fd", lambda: fcntl.ioctl(os.open(tty, os.O_RDWR), termios.TIOCGWINSZ, b"\0" * 8))
        probe("ioctl inherited tty", lambda: fcntl.ioctl(master, termios.TIOCGWINSZ, b"\0" * 8))
    try:
        got = confined(body, uid=uid, rw=[f"{b}/zone", "/dev/null", "/dev/pts"])
    finally:
        os.close(master)
        os.close(slave)
    assert got == {"write /dev/null": "ok", "read /dev/zero": "EACCES",
                   "ioctl new pts fd": "ok", "ioctl inherited tty": "ok"}


def test_what_the_wall_does_not_block(world):
    """Landlock's gaps, which the first wall must cover.  If this fails, a kernel closed a gap:
    update the module doc of lx.platform.landlock and the README."""
    b, uid = world
    server = socket.socket(socket.AF_UNIX)
    server.bind(f"{b}/out/sock")
    server.listen()
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    if uid is not None:
        os.chown(f"{b}/out/sock", uid, uid)

    def before():
        return os.open(f"{b}/out/dir", os.O_RDONLY | os.O_DIRECTORY)

    def body(probe, dirfd):
        o = f"{b}/out/o"
        probe("stat", lambda: os.stat(o))
        probe("access W_OK", lambda: _raise_unless_ok("ok" if os.access(o, os.W_OK) else "EACCES"))
        probe("readlink", lambda: os.readlink(f"{b}/out/link"))
        probe("chdir", lambda: (os.chdir(f"{b}/out"), os.chdir("/")))
        probe("O_PATH open", lambda: os.close(os.open(o, os.O_PATH)))
        probe("listxattr", lambda: os.listxattr(o))
        probe("chmod", lambda: os.chmod(o, 0o600))
        probe("utime", lambda: os.utime(o, (0, 0)))
        probe("setxattr", lambda: os.setxattr(o, "user.lx", b"1"))
        probe("connect pathname unix", lambda: socket.socket(socket.AF_UNIX).connect(f"{b}/out/sock"))
        probe("connect tcp", lambda: socket.socket().connect(tcp.getsockname()))
        probe("getdents inherited fd", lambda: os.listdir(dirfd))
        probe("openat inherited dirfd", lambda: os.open("x", os.O_RDONLY, dir_fd=dirfd))  # still checked
    try:
        got = confined(body, uid=uid, rw=[f"{b}/zone"], before=before)
    finally:
        server.close()
        tcp.close()
    assert got.pop("openat inherited dirfd") == "EACCES"
    assert got == {k: "ok" for k in got}, got
    assert os.stat(f"{b}/out/o").st_mode & 0o777 == 0o600
