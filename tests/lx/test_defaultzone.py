"""lx.defaultzone: the busybox zone is built once, atomically, and works as a root filesystem."""
from __future__ import annotations

import fcntl
import multiprocessing
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lx import defaultzone
from lx.defaultzone import BUSYBOX, TMP_PREFIX, default_zone_path, ensure_default_zone
from lx.zone import GUEST_PATH, Zone, ZoneError

pytestmark = pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="needs busybox-static (make deps)")


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    h = tmp_path / "lxhome"
    monkeypatch.setenv("LX_HOME", str(h))
    return h


def applets() -> list[str]:
    out = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True, check=True).stdout
    return [a for a in out.split() if "/" in a and a != "bin/busybox"]


def leftovers(zdir: Path) -> list[str]:
    return [p.name for p in zdir.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_path_follows_lx_home(home):
    assert default_zone_path() == home / "zones" / "default" / "root"


def test_tree(home):
    root = ensure_default_zone()
    assert root == home / "zones" / "default" / "root"
    bb = root / "bin" / "busybox"
    assert stat.S_ISREG(bb.lstat().st_mode) and bb.lstat().st_mode & 0o111
    assert bb.read_bytes() == Path(BUSYBOX).read_bytes() and bb.stat().st_ino != os.stat(BUSYBOX).st_ino
    names = applets()
    assert "bin/sh" in names and len(names) > 100
    for a in names:
        assert os.readlink(root / a) == "/bin/busybox", a
    for d, mode in {"tmp": 0o1777, "var/tmp": 0o1777, "root": 0o700, "dev/shm": 0o1777}.items():
        assert stat.S_IMODE((root / d).stat().st_mode) == mode, d
    for d in ("sbin", "usr/bin", "usr/sbin", "etc", "home", "proc", "dev", "sys", "run"):
        assert (root / d).is_dir(), d
    etc = root / "etc"
    assert (etc / "passwd").read_text().startswith("root:x:0:0:root:/root:/bin/sh\n")
    assert "nobody:" in (etc / "passwd").read_text() and (etc / "group").read_text().startswith("root:x:0:")
    assert not (etc / "shadow").exists()
    assert (etc / "hostname").read_text() == "lx-default\n"
    hosts = (etc / "hosts").read_text()
    assert "127.0.0.1\tlocalhost" in hosts and "lx-default" in hosts
    osr = (etc / "os-release").read_text()
    assert 'NAME="lx default zone"' in osr and "ID=lx-busybox" in osr
    assert f"VERSION_ID={defaultzone.check_busybox(BUSYBOX)}" in osr and "VERSION_ID=unknown" not in osr
    assert f"PATH={GUEST_PATH}" in (etc / "profile").read_text() and "PS1=" in (etc / "profile").read_text()
    try:
        assert (etc / "resolv.conf").read_text() == Path("/etc/resolv.conf").read_text()
    except OSError:
        assert not (etc / "resolv.conf").exists()
    assert os.readlink(root / "dev" / "fd") == "/proc/self/fd" and (root / "dev" / "null").is_file()
    assert leftovers(root.parent) == []
    # a usable zone: the shell is found inside it, and the zone is named after its directory
    z = Zone.from_root(root, require_shell=True)
    assert z.hostname == "lx-default" and z.host_path(b"/bin/sh") == os.fsencode(bb)


def test_idempotent_and_fast(home):
    root = ensure_default_zone()
    ino = root.stat().st_ino
    (root / "root" / "mine").write_text("kept")
    t = time.perf_counter()
    assert ensure_default_zone() == root
    assert time.perf_counter() - t < 0.1
    assert root.stat().st_ino == ino and (root / "root" / "mine").read_text() == "kept"


def test_missing_busybox(home, tmp_path):
    with pytest.raises(ZoneError) as ei:
        ensure_default_zone(busybox=tmp_path / "no-busybox")
    msg = str(ei.value)
    assert "\n" not in msg and "make deps" in msg and "apt-get install busybox-static" in msg
    assert str(tmp_path / "no-busybox") in msg
    assert not home.exists()


def test_dynamic_busybox_is_refused(home):
    dynamic = sys.executable if os.path.exists(sys.executable) else "/bin/ls"
    with pytest.raises(ZoneError, match="dynamically linked.*busybox-static"):
        ensure_default_zone(busybox=os.path.realpath(dynamic))


def _racer(barrier, q):
    barrier.wait()
    q.put(str(ensure_default_zone()))


def test_concurrent_creation(home):
    ctx = multiprocessing.get_context("fork")
    n = 4
    barrier, q = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(barrier, q)) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    results = {q.get(timeout=5) for _ in range(n)}
    root = default_zone_path()
    assert results == {str(root)}
    assert sorted(p.name for p in root.parent.iterdir()) == [".lock", "root"]
    assert all(os.readlink(root / a) == "/bin/busybox" for a in applets())


def test_stale_temp_dir_is_cleaned_up(home):
    zdir = default_zone_path().parent
    stale = zdir / f"{TMP_PREFIX}dead"
    (stale / "bin").mkdir(parents=True)
    (stale / "bin" / "busybox").write_text("half")
    ensure_default_zone()
    assert leftovers(zdir) == []
    # also when the zone already exists (a builder died while another one finished)
    stale.mkdir()
    ensure_default_zone()
    assert leftovers(zdir) == []


def test_live_builders_temp_dir_is_left_alone(home):
    root = ensure_default_zone()
    busy = root.parent / f"{TMP_PREFIX}busy"
    busy.mkdir()
    fd = os.open(root.parent / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)       # as a builder holds it
        assert ensure_default_zone() == root
        assert busy.exists()
    finally:
        os.close(fd)
    ensure_default_zone()
    assert not busy.exists()


def test_killed_build_leaves_only_a_temp_dir(home):
    code = ("import os, signal\n"
            "from lx import defaultzone\n"
            "def die(*a, **k): os.kill(os.getpid(), signal.SIGKILL)\n"
            "defaultzone._write_etc = die\n"
            "defaultzone.ensure_default_zone()\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], timeout=30)
    assert r.returncode == -9
    zdir = default_zone_path().parent
    assert not default_zone_path().exists() and len(leftovers(zdir)) == 1
    root = ensure_default_zone()
    assert leftovers(zdir) == [] and (root / "etc" / "passwd").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_runs_natively_in_a_chroot(home):
    root = ensure_default_zone()

    def enter():
        os.chroot(root)
        os.chdir("/")

    r = subprocess.run(["/bin/sh", "-c", "echo hi; ls /bin | head -3; id -un; . /etc/profile; echo $PATH"],
                       preexec_fn=enter, env={"PATH": "/bin"}, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    first = sorted(os.listdir(root / "bin"))[:3]
    assert r.stdout.splitlines() == ["hi", *first, "root", GUEST_PATH]
