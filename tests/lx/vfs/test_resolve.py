"""lx.vfs resolution semantics: a real chroot (and real bind mounts) is the oracle.

Every table is answered three ways -- the kernel in a chroot, ZoneFS's fast
path, ZoneFS's component walk -- and all three must agree on the inode or the
errno.  Semantics the oracle cannot judge (parent/name results, AT_EMPTY_PATH,
the mount table, to_guest) are tested directly.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from lx.vfs import Bind, ZoneConfigError, ZoneFS, host_path_of, normalize_guest, parse_bind
from syscalls import abi
from vfs_trees import CHAIN_BAD, CHAIN_OK, answer, bind_list

LONG_OK = b"/" + b"./" * 2042 + b"etc/passwd"          # 4095 bytes: the longest path Linux takes
LONG_BAD = b"/" + b"./" * 2042 + b"/etc/passwd"        # 4096 bytes: ENAMETOOLONG
REL_LONG = b"./" * 2046 + b"fff"                       # 4095 bytes, but over 4095 once joined to cwd
assert (len(LONG_OK), len(LONG_BAD), len(REL_LONG)) == (4095, 4096, 4095)

PATHS = [
    b"/", b"", b".", b"..", b"/etc/passwd", b"//etc//passwd", b"/./etc/./passwd", b"/etc/passwd/",
    b"/bin/sh", b"/bin", b"/bin/", b"/lib/x", b"/lib/../etc/passwd", b"/rel_up", b"/abs_pw",
    b"/l1", b"/l1/sub/f", b"/l1/..", b"/loop_a", b"/self", b"/dangling", b"/dangling/",
    b"/dir_link", b"/dir_link/", b"/file_slash", b"/d/file/", b"/d/file/.", b"/d/file/..",
    b"/d/nx/..", b"/..", b"/../..", b"/../etc/passwd", b"/d/sub/up3/etc/passwd", b"/d/up",
    b"/d/up/etc", b"/dotdot/etc/passwd", b"/to_root/etc/passwd", b"/abs_dotdot/passwd",
    b"/d/sub/rel_abs", b"/proc_root", b"/proc_root/etc/passwd", b"/a0", b"/b0",
    b"/a1", b"/b1", b"/" + b"n" * 255, b"/" + b"n" * 256, b"/nx/" + b"n" * 256,
    b"/d/" + b"n" * 256 + b"/x", LONG_OK, LONG_BAD, b"/nx", b"/nx/", b"/d/file/x",
]
REL = [  # (path, cwd)
    (b"f", b"/d/sub"), (b"../file", b"/d/sub"), (b"../../../../etc/passwd", b"/d/sub"),
    (b"..", b"/"), (b"up3/etc", b"/d/sub"), (b"./sub/../file", b"/d"), (REL_LONG, b"/d/sub"),
    (b"rel_abs", b"/d/sub"), (b"", b"/d"),
]
BIND_PATHS = [
    b"/run", b"/run/", b"/run/x", b"/var/run/x", b"/var/run/sub/y", b"/run/..", b"/run/../etc/passwd",
    b"/run/inner", b"/run/inner/y", b"/run/inner/..", b"/run/inner/../x", b"/run/inner/up1/x",
    b"/var/run/inner/../x", b"/run/up", b"/run/up/etc/passwd", b"/run/abs", b"/run/to_mnt",
    b"/run/host_sibling", b"/etc/resolv.conf", b"/etc/resolv.conf/", b"/etc/resolv.conf/x",
    b"/mnt/a", b"/mnt/a/hidden", b"/mnt/a/shown", b"/mnt/a/..", b"/mnt/a/../a/shown",
    b"/run/sub/../../run/x", b"/etc/passwd", b"/bin/sh", b"/run/nx",
]
BIND_REL = [(b"../x", b"/run/inner"), (b"../../etc/passwd", b"/run/inner"), (b"y", b"/run/inner"),
            (b"up1/sub/y", b"/run/inner"), (b"../shown", b"/mnt/a")]


def _queries(paths, rel):
    qs = [(p, b"/", f) for p in paths for f in (True, False)]
    return qs + [(p, c, f) for p, c in rel for f in (True, False)]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "walk"])
def test_matches_chroot(zone_tree: Path, oracle, fast: bool) -> None:
    queries = _queries(PATHS, REL)
    truth = oracle(zone_tree, queries)
    with ZoneFS(zone_tree, fast=fast) as z:
        got = [answer(z, p, c, f) for p, c, f in queries]
    bad = [(q, t, g) for q, t, g in zip(queries, truth, got) if t != g]
    assert not bad, "\n".join(f"{q[0][:60]!r} cwd={q[1]!r} follow={q[2]}: chroot {t} lx {g}"
                              for q, t, g in bad)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "walk"])
def test_matches_bind_mounts(bind_tree, oracle, fast: bool) -> None:
    root, hosts = bind_tree
    binds = bind_list(hosts)
    queries = _queries(BIND_PATHS + PATHS, BIND_REL + REL)
    truth = oracle(root, queries, binds=[(h, g, ro) for h, g, ro in binds])
    with ZoneFS(root, binds, fast=fast) as z:
        got = [answer(z, p, c, f) for p, c, f in queries]
    bad = [(q, t, g) for q, t, g in zip(queries, truth, got) if t != g]
    assert not bad, "\n".join(f"{q[0][:60]!r} cwd={q[1]!r} follow={q[2]}: mount+chroot {t} lx {g}"
                              for q, t, g in bad)


def test_chain_limit(zone_tree: Path) -> None:
    """Linux follows at most 40 symlinks per lookup (the oracle table checks the kernel agrees)."""
    for fast in (True, False):
        with ZoneFS(zone_tree, fast=fast) as z:
            with z.resolve(b"/a0") as r:
                assert os.fstat(r.fd).st_ino == os.stat(zone_tree / "d/file").st_ino
            with pytest.raises(OSError) as e:
                z.resolve(b"/b0")
            assert e.value.errno == errno.ELOOP
    assert (CHAIN_OK, CHAIN_BAD) == (40, 41)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "walk"])
def test_errnos(zone_tree: Path, fast: bool) -> None:
    z = ZoneFS(zone_tree, fast=fast)
    cases = {b"/nx": errno.ENOENT, b"/d/file/x": errno.ENOTDIR, b"/d/file/": errno.ENOTDIR,
             b"/loop_a": errno.ELOOP, b"/self/x": errno.ELOOP, b"": errno.ENOENT,
             LONG_BAD: errno.ENAMETOOLONG, b"/" + b"n" * 256: errno.ENAMETOOLONG,
             b"/nx/" + b"n" * 256: errno.ENOENT, b"/dangling": errno.ENOENT}
    for path, code in cases.items():
        with pytest.raises(OSError) as e:
            z.resolve(path)
        assert e.value.errno == code, path[:40]
    z.resolve(b"/" + b"n" * 255).close()
    z.resolve(LONG_OK).close()
    z.close()


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "walk"])
def test_nofollow_and_parent(zone_tree: Path, fast: bool) -> None:
    with ZoneFS(zone_tree, fast=fast) as z:
        with z.resolve(b"/bin", follow=False) as r:            # lstat: the link itself
            assert os.readlink(b"", dir_fd=r.fd) == b"usr/bin"
            assert r.guest == b"/bin" and r.parent_fd is None
        with z.resolve(b"/d/sub/../file", follow=False, parent=True) as r:
            assert r.name == b"file" and host_path_of(r.parent_fd) == os.fsencode(zone_tree / "d")
            assert r.guest == b"/d/file" and r.mount.is_root
        with z.resolve(b"/dangling", follow=False, parent=True) as r:    # unlink of a dangling link
            assert r.exists and r.name == b"dangling"
        with z.resolve(b"/dangling", must_exist=False) as r:  # open(O_CREAT) creates the link's target
            assert not r.exists and r.name == b"nowhere" and r.guest == b"/nowhere"
        with z.resolve(b"/d/new/", must_exist=False) as r:    # mkdir("new/")
            assert not r.exists and r.trailing_slash and r.name == b"new"
        with z.resolve(b"/dir_link/", follow=False, parent=True) as r:   # rmdir("link/"): not followed
            assert r.name == b"dir_link"
        with z.resolve(b"/d/.", parent=True) as r:
            assert r.name == b"." and r.parent_fd is None
        with z.resolve(b"/", parent=True) as r:
            assert r.name == b"" and r.is_mountpoint
        with pytest.raises(FileNotFoundError):
            z.resolve(b"/nx/new", must_exist=False)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "walk"])
def test_base_dirs(zone_tree: Path, fast: bool) -> None:
    with ZoneFS(zone_tree, fast=fast) as z:
        dfd = os.open(zone_tree / "d", os.O_RDONLY | os.O_DIRECTORY)
        try:
            with z.resolve(b"sub/../file", dirfd=dfd) as r:
                assert r.guest == b"/d/file"
            with z.resolve(b"../../../etc/passwd", cwd=dfd) as r:
                assert r.guest == b"/etc/passwd"
            with z.resolve(b"", dirfd=dfd, empty_path=True) as r:      # AT_EMPTY_PATH
                assert r.guest == b"/d"
            with z.resolve(b"sub", dirfd=b"/d", cwd=b"/etc") as r:     # dirfd beats cwd
                assert r.guest == b"/d/sub"
            with z.resolve(b"", dirfd=b"/l1", empty_path=True) as r:
                assert r.guest == b"/d"
        finally:
            os.close(dfd)
        ffd = os.open(zone_tree / "d/file", os.O_RDONLY)
        try:
            with z.resolve(b"", dirfd=ffd, empty_path=True) as r:      # fstatat(fd, "", AT_EMPTY_PATH)
                assert r.guest == b"/d/file"
            with pytest.raises(NotADirectoryError):
                z.resolve(b"x", dirfd=ffd)
        finally:
            os.close(ffd)


def test_deleted_cwd(zone_tree: Path) -> None:
    (zone_tree / "gone").mkdir()
    fd = os.open(zone_tree / "gone", os.O_RDONLY | os.O_DIRECTORY)
    os.rmdir(zone_tree / "gone")
    try:
        with ZoneFS(zone_tree) as z:
            with pytest.raises(FileNotFoundError):
                z.resolve(b"x", cwd=fd)
            with z.resolve(b"../etc/passwd", cwd=fd) as r:
                assert r.guest == b"/etc/passwd"
    finally:
        os.close(fd)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "walk"])
def test_binds_view(bind_tree, fast: bool) -> None:
    root, hosts = bind_tree
    with ZoneFS(root, bind_list(hosts), fast=fast) as z:
        with z.resolve(b"/var/run/x") as r:                   # absolute symlink into a bind
            assert r.guest == b"/run/x" and r.mount.guest == b"/run"
            assert os.read(fd := r.open(os.O_RDONLY), 10) == b"bind"
            os.close(fd)
        with z.resolve(b"/run/inner/..") as r:                # '..' from a nested bind's top
            assert r.guest == b"/run" and host_path_of(r.fd) == os.fsencode(hosts["run"])
        with z.resolve(b"/run/..") as r:                      # '..' out of a bind: the guest parent
            assert r.guest == b"/" and r.fd is not None and r.host == os.fsencode(root)
        with z.resolve(b"/etc/resolv.conf") as r:             # file bind
            assert r.is_mountpoint and r.host == os.fsencode(hosts["resolv"])
        with z.resolve(b"/run", parent=True, follow=False) as r:
            assert r.is_mountpoint and r.name == b"run" and r.host == os.fsencode(hosts["run"])
            assert host_path_of(r.parent_fd) == os.fsencode(root)
        with pytest.raises(FileNotFoundError):
            z.resolve(b"/mnt/a/hidden")                       # the bind hides the root's files
        with z.resolve(b"/mnt/a/new", must_exist=False) as r:
            assert r.mount.readonly
            with pytest.raises(OSError) as e:
                r.open(os.O_CREAT | os.O_WRONLY)
            assert e.value.errno == errno.EROFS
        with z.resolve(b"/run/new", must_exist=False) as r:
            os.close(r.open(os.O_CREAT | os.O_WRONLY, 0o644))
        assert (hosts["run"] / "new").exists() and not (root / "run/new").exists()


def test_to_guest(bind_tree) -> None:
    root, hosts = bind_tree
    with ZoneFS(root, bind_list(hosts)) as z:
        r = os.fsencode(root)
        assert z.to_guest(r) == b"/"
        assert z.to_guest(r + b"/etc/passwd") == b"/etc/passwd"
        assert z.to_guest(os.fsencode(hosts["run"] / "sub/y")) == b"/run/sub/y"
        assert z.to_guest(os.fsencode(hosts["inner"] / "y")) == b"/run/inner/y"
        assert z.to_guest(os.fsencode(hosts["resolv"])) == b"/etc/resolv.conf"
        assert z.to_guest(r + b"x") is None                   # a sibling sharing the prefix
        assert z.to_guest(os.fsencode(hosts["secret"])) is None
        assert z.to_guest(b"/etc/passwd") is None
        with z.resolve(b"/run/inner/y") as res:
            assert z.to_guest(z.host_path_of(res.fd)) == b"/run/inner/y"


def test_bind_validation(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "h").mkdir()
    (tmp_path / "f").write_bytes(b"")
    h, f = os.fsencode(tmp_path / "h"), os.fsencode(tmp_path / "f")
    bad = [[(b"/no/such/dir", b"/x", False)], [(h, b"rel", False)], [(h, b"/a/../b", False)],
           [(h, b"/", False)], [(h, b"/x", False), (h, b"/x/", False)],
           [(f, b"/file", False), (h, b"/file/sub", False)]]
    for binds in bad:
        with pytest.raises(ZoneConfigError):
            ZoneFS(root, binds)
    with pytest.raises(ZoneConfigError):
        ZoneFS(tmp_path / "missing-root")
    with pytest.raises(ZoneConfigError):
        ZoneFS(tmp_path / "f")
    with ZoneFS(root, [Bind(h, b"//x/./y/", True)]) as z:
        assert list(z.mounts.by_guest) == [b"/", b"/x/y"]
    assert normalize_guest("/a//b/./") == b"/a/b"
    assert parse_bind("/h:/g:ro") == Bind(b"/h", b"/g", True)
    assert parse_bind("/h") == Bind(b"/h", b"/h", False)


def test_no_fd_leaks(bind_tree) -> None:
    root, hosts = bind_tree
    before = set(os.listdir("/proc/self/fd"))
    for fast in (True, False):
        with ZoneFS(root, bind_list(hosts), fast=fast) as z:
            for p in BIND_PATHS + PATHS:
                for kw in ({}, {"follow": False}, {"parent": True}, {"must_exist": False}):
                    try:
                        z.resolve(p, **kw).close()
                    except OSError:
                        pass
    assert set(os.listdir("/proc/self/fd")) == before


def test_resolved_open(zone_tree: Path) -> None:
    with ZoneFS(zone_tree) as z:
        with z.resolve(b"/rel_up") as r:
            fd = r.open(os.O_RDONLY)
            assert os.read(fd, 10) == b"zone" and os.get_inheritable(fd) is False
            os.close(fd)
            with pytest.raises(FileExistsError):
                r.open(os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        with z.resolve(b"/bin", follow=False) as r:
            with pytest.raises(OSError) as e:
                r.open(os.O_RDONLY)
            assert e.value.errno == errno.ELOOP
        with z.resolve(b"/tmp/new", must_exist=False) as r:
            fd = r.open(os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        assert (zone_tree / "tmp/new").stat().st_mode & 0o777 == 0o600
        with z.resolve(b"/d", follow=False) as r:
            fd = r.open(os.O_RDONLY | abi.O_DIRECTORY)
            assert sorted(os.listdir(fd)) == ["file", "sub", "up"]
            os.close(fd)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "walk"])
def test_dev_and_proc_binds(zone_tree: Path, fast: bool) -> None:
    """Binds over /dev and /proc: device nodes are the host's; fd magic links stay refused."""
    (zone_tree / "dev").mkdir()
    (zone_tree / "dev/null").write_bytes(b"zone")        # hidden by the bind
    binds = [(b"/dev", b"/dev", False), (b"/proc", b"/proc", True)]
    with ZoneFS(zone_tree, binds, fast=fast) as z:
        with z.resolve(b"/dev/null") as r:
            assert stat.S_ISCHR(r.stat().st_mode) and r.host == b"/dev/null"
        with z.resolve(b"/dev/../etc/passwd") as r:
            assert r.host == os.fsencode(zone_tree / "etc/passwd")
        with z.resolve(b"/proc/self/status") as r:
            assert r.mount.guest == b"/proc" and r.mount.readonly
        with pytest.raises(OSError) as e:                   # /dev/stdin -> /proc/self/fd/0
            z.resolve(b"/dev/stdin")
        assert e.value.errno == errno.ELOOP


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "walk"])
def test_create_through_symlink_with_trailing_slash(zone_tree: Path, fast: bool) -> None:
    """open(link, O_CREAT) with link -> "new/": Linux says EISDIR, and creates nothing."""
    os.symlink("d/newdir/", zone_tree / "to_new_dir")
    with ZoneFS(zone_tree, fast=fast) as z:
        with z.resolve(b"/to_new_dir", must_exist=False) as r:
            assert not r.exists and r.trailing_slash and r.name == b"newdir"
            with pytest.raises(IsADirectoryError):
                r.open(os.O_CREAT | os.O_WRONLY)
    assert not (zone_tree / "d/newdir").exists()
    with pytest.raises(IsADirectoryError):                  # the kernel agrees
        os.open(zone_tree / "to_new_dir", os.O_CREAT | os.O_WRONLY)
