"""lx.vfs confinement: no guest path, symlink, race, base fd or hard link reaches the host.

Zone files contain b"zone"; host decoys b"host".  Every escape attempt must
either fail or land on a zone file, for the fast path and for the walk.
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from lx.vfs import ZoneFS, host_path_of
from syscalls import abi
from vfs_trees import IS_ROOT, bind_list, build_zone

MODES = pytest.mark.parametrize("fast", [True, False], ids=["fast", "walk"])
ESCAPES = [(b"/rel_up", b"/"), (b"/abs_pw", b"/"), (b"/d/sub/up3/etc/passwd", b"/"),
           (b"/../../../../etc/passwd", b"/"), (b"/abs_dotdot/passwd", b"/"),
           (b"/to_root/etc/passwd", b"/"), (b"/dotdot/../../etc/passwd", b"/"),
           (b"../../../../../../../../etc/passwd", b"/d/sub"), (b"/d/up/etc/passwd", b"/"),
           (b"/run/up/etc/passwd", b"/"), (b"/run/abs", b"/"), (b"/run/inner/../../etc/passwd", b"/")]


def _inside(z: ZoneFS, host: bytes) -> bool:
    return z.to_guest(host) is not None


def _read(r) -> bytes:
    fd = r.open(os.O_RDONLY)
    try:
        return os.read(fd, 100)
    finally:
        os.close(fd)


@MODES
def test_symlinks_and_dotdot_stay_inside(bind_tree, fast: bool) -> None:
    root, hosts = bind_tree
    for binds in ([], bind_list(hosts)):
        with ZoneFS(root, binds, fast=fast) as z:
            for path, cwd in ESCAPES:
                if not binds and path.startswith(b"/run/"):
                    continue
                with z.resolve(path, cwd=cwd) as r:
                    assert r.host == os.fsencode(root / "etc/passwd"), path
                    assert _read(r) == b"zone"


@MODES
def test_dotdot_out_of_a_bind_is_the_guest_parent(bind_tree, fast: bool) -> None:
    root, hosts = bind_tree     # hosts["secret"] sits next to the bind's host directory
    with ZoneFS(root, bind_list(hosts), fast=fast) as z:
        for path in (b"/run/../secret", b"/run/host_sibling", b"/run/inner/../../secret",
                     b"/var/run/../../secret"):
            with pytest.raises(FileNotFoundError):
                z.resolve(path)


def test_swapped_symlink_and_the_fd_contract(zone_tree: Path) -> None:
    """What was resolved is an fd: swapping the path afterwards changes nothing for it."""
    with ZoneFS(zone_tree) as z:
        first = z.resolve(b"/swap")
        os.unlink(zone_tree / "swap")
        os.symlink("../../../../../etc/passwd", zone_tree / "swap")
        with first, z.resolve(b"/swap") as second:
            assert os.fstat(first.fd).st_ino == (zone_tree / "d/file").stat().st_ino
            assert second.host == os.fsencode(zone_tree / "etc/passwd")
        # the string is a window, the fd is not: replace the file by a link to the host's
        r = z.resolve(b"/d/file")
        host = r.host                                    # a string taken at resolution time
        os.rename(zone_tree / "d/file", zone_tree / "d/file.old")
        os.symlink("/etc/passwd", zone_tree / "d/file")
        with r:
            assert _read(r) == b"zone"               # the resolved inode, not the new link
            assert r.host.endswith(b"/d/file.old")     # the fd follows its inode
            with open(host, "rb") as f:              # what a caller keeping the string would get
                assert f.read(4) != b"zone"


@MODES
def test_flipping_symlink_race(zone_tree: Path, tmp_path: Path, fast: bool) -> None:
    """A host thread flips a symlink between in-zone and escaping targets during resolution."""
    (tmp_path / "etc").mkdir(exist_ok=True)
    (tmp_path / "etc/passwd").write_bytes(b"host")
    targets = ["d", "../../../../../..", "/", os.fspath(tmp_path), "/etc", "../.."]
    link, tmp = zone_tree / "flip", zone_tree / "flip.tmp"
    os.symlink("d", link)
    stop = threading.Event()

    def flipper() -> None:
        i = 0
        while not stop.is_set():
            os.symlink(targets[i % len(targets)], tmp)
            os.rename(tmp, link)
            i += 1

    t = threading.Thread(target=flipper)
    t.start()
    seen = 0
    try:
        with ZoneFS(zone_tree, fast=fast) as z:
            deadline = time.monotonic() + 0.4
            while time.monotonic() < deadline:
                for path in (b"/flip/etc/passwd", b"/flip/../etc/passwd", b"/flip/passwd"):
                    try:
                        with z.resolve(path) as r:
                            assert _inside(z, r.host), r.host
                            assert _read(r) == b"zone"
                            seen += 1
                    except (FileNotFoundError, NotADirectoryError):
                        pass
    finally:
        stop.set()
        t.join()
    assert seen > 0


@MODES
def test_rename_out_of_root_race(zone_tree: Path, tmp_path: Path, fast: bool) -> None:
    """A directory being walked is moved outside the root: '..' must not follow it out."""
    outside = tmp_path / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "etc/passwd").write_bytes(b"host")
    (zone_tree / "d/sub/deeper").mkdir()
    stop = threading.Event()

    def mover() -> None:
        while not stop.is_set():
            os.rename(zone_tree / "d/sub", outside / "sub")
            os.rename(outside / "sub", zone_tree / "d/sub")

    t = threading.Thread(target=mover)
    t.start()
    try:
        with ZoneFS(zone_tree, fast=fast) as z:
            deadline = time.monotonic() + 0.4
            while time.monotonic() < deadline:
                try:
                    with z.resolve(b"/d/sub/deeper/../../../etc/passwd") as r:
                        assert _read(r) == b"zone", r.host
                except (FileNotFoundError, NotADirectoryError):
                    pass
    finally:
        stop.set()
        t.join()


@MODES
def test_base_fd_outside_the_zone_is_refused(zone_tree: Path, tmp_path: Path, fast: bool) -> None:
    """Decision: a base directory outside the zone is never used (EXDEV), for any relative path."""
    with ZoneFS(zone_tree, fast=fast) as z:
        for where in (tmp_path, Path("/etc"), zone_tree.parent):
            fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for path, kw in ((b"passwd", {}), (b"..", {}), (b"", {"empty_path": True})):
                    with pytest.raises(OSError) as e:
                        z.resolve(path, dirfd=fd, **kw)
                    assert e.value.errno == errno.EXDEV
                with z.resolve(b"/etc/passwd", dirfd=fd) as r:   # absolute paths ignore dirfd
                    assert r.host == os.fsencode(zone_tree / "etc/passwd")
            finally:
                os.close(fd)


@MODES
def test_hard_links_stay_inside(bind_tree, fast: bool) -> None:
    root, hosts = bind_tree
    host_pw = os.stat("/etc/passwd")
    zone_pw = (root / "etc/passwd").stat().st_ino
    with ZoneFS(root, bind_list(hosts), fast=fast) as z:
        z.link(b"/abs_pw", b"/tmp/h1", follow=True)
        z.link(b"../../../../../etc/passwd", b"h2", cwd=b"/d/sub", newdirfd=b"/tmp")
        z.link(b"/rel_up", b"/tmp/h3")                   # follow=False: the symlink itself
        assert (root / "tmp/h1").stat().st_ino == zone_pw == (root / "tmp/h2").stat().st_ino
        assert os.readlink(root / "tmp/h3") == "../../../../etc/passwd"
        for old, new, code in ((b"/abs_pw", b"/tmp/h1", errno.EEXIST),
                               (b"/etc/passwd", b"/run/pw", errno.EXDEV),
                               (b"/run/x", b"/tmp/x", errno.EXDEV),
                               (b"/mnt/a/shown", b"/mnt/a/shown2", errno.EROFS),
                               (b"/d", b"/tmp/dirlink", errno.EPERM),
                               (b"/nx", b"/tmp/nx", errno.ENOENT)):
            with pytest.raises(OSError) as e:
                z.link(old, new, follow=True)
            assert e.value.errno == code, (old, new)
        z.link(b"/run/x", b"/run/inner/../x2")           # same mount, through a nested one's '..'
        assert (hosts["run"] / "x2").stat().st_ino == (hosts["run"] / "x").stat().st_ino
    after = os.stat("/etc/passwd")
    assert (after.st_ino, after.st_nlink) == (host_pw.st_ino, host_pw.st_nlink)


@MODES
def test_proc_bind_magic_links_refused(zone_tree: Path, fast: bool) -> None:
    """With the host's /proc bound in, magic links fail with ELOOP (RESOLVE_NO_MAGICLINKS)."""
    fd = os.open("/etc/passwd", os.O_RDONLY)
    try:
        with ZoneFS(zone_tree, [(b"/proc", b"/proc", True)], fast=fast) as z:
            for path in (b"/proc/self/root", b"/proc/self/root/etc/passwd", b"/proc/self/cwd/x",
                         b"/proc/self/exe", b"/proc/self/fd/%d" % fd, b"/proc/1/root/etc",
                         b"/proc_root", b"/proc_root/etc/passwd", b"/proc/thread-self/root"):
                with pytest.raises(OSError) as e:
                    z.resolve(path)
                # another process's links may fail the kernel's ptrace check first (EACCES)
                ok = (errno.ELOOP, errno.EACCES) if path.startswith(b"/proc/1/") else (errno.ELOOP,)
                assert e.value.errno in ok, path
            with z.resolve(b"/proc/self/root", follow=False) as r:   # lstat sees the link itself
                with pytest.raises(OSError) as e:
                    r.open(os.O_RDONLY)
                assert e.value.errno == errno.ELOOP
            with z.resolve(b"/proc/self/status") as r:              # /proc/self is a plain symlink
                assert r.host == b"/proc/%d/status" % os.getpid()
    finally:
        os.close(fd)


@pytest.mark.skipif(not IS_ROOT, reason="mounts a procfs inside the root: needs root")
def test_procfs_mounted_inside_the_root() -> None:
    """No binds: the one-openat2 fast path; the kernel's RESOLVE_NO_MAGICLINKS refuses."""
    base = Path(tempfile.mkdtemp(prefix="lx-vfs-proc-"))
    root = build_zone(base / "root")
    (root / "proc").mkdir()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.close(r)
            if ctypes.CDLL(None, use_errno=True).unshare(abi.CLONE_NEWNS) != 0:
                os._exit(98)
            subprocess.run(["mount", "--make-rprivate", "/"], check=True)
            subprocess.run(["mount", "-t", "proc", "proc", os.fspath(root / "proc")], check=True)
            out = []
            for fast in (True, False):
                with ZoneFS(root, fast=fast) as z:
                    for path in (b"/proc/self/root/etc/passwd", b"/proc_root", b"/proc/self/cwd"):
                        try:
                            z.resolve(path).close()
                            out.append("ok")
                        except OSError as e:
                            out.append(errno.errorcode[e.errno])
                    with z.resolve(b"/proc/self/stat") as res:
                        out.append("stat" if host_path_of(res.fd).endswith(b"/stat") else "?")
            os.write(w, " ".join(out).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    got = os.read(r, 1000).decode().split()
    os.close(r)
    _, status = os.waitpid(pid, 0)
    shutil.rmtree(base, ignore_errors=True)
    assert os.waitstatus_to_exitcode(status) == 0
    assert got == ["ELOOP", "ELOOP", "ELOOP", "stat"] * 2


@pytest.mark.skipif(not IS_ROOT, reason="switches to an unprivileged uid: needs root")
def test_ordinary_user_search_permission() -> None:
    """As an ordinary user the kernel enforces search permission (EACCES) in both paths."""
    base = Path(tempfile.mkdtemp(prefix="lx-vfs-user-"))
    os.chmod(base, 0o755)
    root = build_zone(base / "root")
    (root / "locked").mkdir(mode=0o700)
    (root / "locked/x").write_bytes(b"zone")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            out = []
            for fast in (True, False):
                with ZoneFS(root, [(os.fsencode(root / "d"), b"/run", False)], fast=fast) as z:
                    for path in (b"/locked/x", b"/etc/passwd", b"/rel_up", b"/run/sub/f", b"/locked"):
                        try:
                            z.resolve(path).close()
                            out.append("ok")
                        except OSError as e:
                            out.append(errno.errorcode[e.errno])
            os.write(w, " ".join(out).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    got = os.read(r, 1000).decode().split()
    os.close(r)
    _, status = os.waitpid(pid, 0)
    shutil.rmtree(base, ignore_errors=True)
    assert os.waitstatus_to_exitcode(status) == 0
    assert got == ["EACCES", "ok", "ok", "ok", "ok"] * 2
