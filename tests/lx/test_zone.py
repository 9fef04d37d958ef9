"""lx.zone: validation with one-line errors, default binds, identity and environment."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from lx.identity import Identity
from lx.vfs.binds import Bind, ZoneConfigError
from lx.zone import (DEFAULT_BINDS, GUEST_PATH, Zone, ZoneError, default_hostname, lx_home,
                     zones_dir)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A small root: /bin/sh an absolute symlink to /usr/bin/dash through a /bin -> usr/bin link."""
    r = tmp_path / "root"
    (r / "usr" / "bin").mkdir(parents=True)
    (r / "etc").mkdir()
    (r / "work").mkdir()
    (r / "dev").mkdir()                  # binds need their parent directories, as mounts do
    dash = r / "usr" / "bin" / "dash"
    dash.write_bytes(b"\x7fELF")
    dash.chmod(0o755)
    os.symlink("usr/bin", r / "bin")
    os.symlink("/usr/bin/dash", r / "usr" / "bin" / "sh")
    return r


def error_of(**kw) -> str:
    with pytest.raises(ZoneError) as ei:
        Zone.from_root(**kw)
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith("lx: "), msg
    return msg


# -- validation ---------------------------------------------------------------------------------

def test_missing_root_says_to_create_it(tmp_path):
    msg = error_of(root=tmp_path / "nope")
    assert f"--root {tmp_path / 'nope'}: no such directory" in msg and "lx zone create" in msg


def test_root_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert f"--root {f}: not a directory" in error_of(root=f)


def test_bind_with_missing_host_path_names_it(root, tmp_path):
    msg = error_of(root=root, binds=[f"{tmp_path}/gone:/mnt"])
    assert f"{tmp_path}/gone does not exist on the host" in msg and "bind" in msg


def test_bind_with_relative_guest_path(root, tmp_path):
    assert "guest path must be absolute" in error_of(root=root, binds=[f"{tmp_path}:mnt"])
    assert "'..'" in error_of(root=root, binds=[f"{tmp_path}:/mnt/../etc"])


def test_bind_at_root_and_duplicate_binds(root, tmp_path):
    assert "cannot replace the zone's /" in error_of(root=root, binds=[f"{tmp_path}:/"])
    assert "two binds at /mnt" in error_of(root=root, binds=[f"{tmp_path}:/mnt", f"{tmp_path}:/mnt/"])
    assert "expected HOST:GUEST" in error_of(root=root, binds=["a:b:c:d"])


def test_require_shell(root, tmp_path):
    Zone.from_root(root, require_shell=True)          # /bin/sh found through two in-zone links
    empty = tmp_path / "empty"
    empty.mkdir()
    Zone.from_root(empty)                             # a command was given: no shell needed
    msg = error_of(root=empty, require_shell=True)
    assert "no shell at /bin/sh" in msg and "root filesystem" in msg
    # a /bin/sh link pointing at the host's shell does not count: resolved inside the zone
    (empty / "bin").mkdir()
    os.symlink("/usr/bin/dash", empty / "bin" / "sh")
    error_of(root=empty, require_shell=True)


def test_workdir(root):
    assert Zone.from_root(root).workdir == b"/"
    assert Zone.from_root(root, workdir="/work").workdir == b"/work"
    assert Zone.from_root(root, workdir=b"/bin").workdir == b"/bin"   # a link to a directory
    assert "absolute" in error_of(root=root, workdir="work")
    assert "no such directory in the zone" in error_of(root=root, workdir="/nope")
    assert "no such directory in the zone" in error_of(root=root, workdir="/usr/bin/dash")


def test_uts_fields_are_checked(root):
    assert "--hostname" in error_of(root=root, hostname="x" * 65)
    assert "--kernel-release" in error_of(root=root, kernel_release="")


def test_zone_error_is_a_config_error():
    assert issubclass(ZoneError, ZoneConfigError) and issubclass(ZoneError, Exception)


# -- binds --------------------------------------------------------------------------------------

def host_has(p: bytes) -> bool:
    return os.path.exists(p)


def test_default_binds_present_when_the_host_has_them(root):
    z = Zone.from_root(root)
    got = {b.guest: b for b in z.all_binds()}
    for d in DEFAULT_BINDS:
        assert (d.guest in got) == host_has(d.host)
    if b"/sys" in got:
        assert got[b"/sys"].readonly
    with z.fs() as fs:
        assert fs.has_binds
        if host_has(b"/dev/null"):
            with fs.resolve(b"/dev/null") as r:
                assert r.host == b"/dev/null"


def test_default_binds_off(root, tmp_path):
    z = Zone.from_root(root, binds=[f"{tmp_path}:/mnt:ro"], default_binds=False)
    assert z.all_binds() == (Bind(os.fsencode(tmp_path), b"/mnt", True),)
    with z.fs() as fs:
        assert set(fs.mounts.by_guest) == {b"/", b"/mnt"}


def test_user_bind_overrides_default(root, tmp_path):
    shm = tmp_path / "shm"
    shm.mkdir()
    z = Zone.from_root(root, binds=[Bind(str(shm), "/dev/shm/")])
    at = [b for b in z.all_binds() if b.guest == b"/dev/shm"]
    assert at == [Bind(os.fsencode(shm), b"/dev/shm", False)]
    assert z.binds == (at[0],)
    # a user bind above default binds replaces all of them
    dev = tmp_path / "dev"
    dev.mkdir()
    z = Zone.from_root(root, binds=[f"{dev}:/dev"])
    guests = [b.guest for b in z.all_binds()]
    assert not any(g.startswith(b"/dev/") for g in guests)
    assert (b"/proc" in guests) == host_has(b"/proc")
    with z.fs() as fs:
        with fs.resolve(b"/dev") as r:
            assert r.host == os.fsencode(dev)


def test_host_path(root, tmp_path):
    z = Zone.from_root(root, binds=[f"{tmp_path}:/mnt"], workdir="/usr")
    assert z.host_path(b"/bin/sh") == os.fsencode(root / "usr" / "bin" / "dash")
    assert z.host_path("bin/dash") == os.fsencode(root / "usr" / "bin" / "dash")   # from workdir
    assert z.host_path(b"/mnt") == os.fsencode(tmp_path)
    with pytest.raises(FileNotFoundError):
        z.host_path(b"/nope")


# -- identity and environment -------------------------------------------------------------------

def test_identity_defaults(root):
    z = Zone.from_root(root)
    u = os.uname()
    assert z.hostname == u.nodename and z.kernel_release == u.release
    ident = z.identity()
    assert isinstance(ident, Identity)
    assert ident.nodename == u.nodename.encode() and ident.release == u.release.encode()
    assert ident.sysname == b"Linux" and ident.machine == u.machine.encode()


def test_identity_overrides(root):
    ident = Zone.from_root(root, hostname="box", kernel_release="5.10.0-lx").identity()
    assert ident.nodename == b"box" and ident.release == b"5.10.0-lx"


def test_hostname_of_zones_under_the_zones_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LX_HOME", str(tmp_path / "home"))
    r = zones_dir() / "My_Zone.1" / "root"
    r.mkdir(parents=True)
    assert Zone.from_root(r).hostname == "lx-my-zone-1"
    assert default_hostname(zones_dir() / "x" / "other") == os.uname().nodename
    assert default_hostname(tmp_path) == os.uname().nodename
    assert Zone.from_root(r, hostname="h").hostname == "h"


def test_lx_home(monkeypatch, tmp_path):
    monkeypatch.setenv("LX_HOME", str(tmp_path / "a"))
    assert lx_home() == tmp_path / "a"
    monkeypatch.delenv("LX_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert lx_home() == tmp_path / "xdg" / "lx" and zones_dir() == tmp_path / "xdg" / "lx" / "zones"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert lx_home() == tmp_path / "h" / ".local" / "share" / "lx"


def test_env(root, monkeypatch):
    monkeypatch.setenv("TERM", "screen-256color")
    monkeypatch.setenv("SECRET", "host only")
    z = Zone.from_root(root, hostname="box")
    assert z.env == {"PATH": GUEST_PATH, "HOME": "/root", "HOSTNAME": "box",
                     "TERM": "screen-256color", "container": "lx"}
    env = z.guest_env({"TERM": "dumb", "FOO": "1"})
    assert env["TERM"] == "dumb" and env["FOO"] == "1" and "SECRET" not in env
    assert z.env["TERM"] == "screen-256color"          # guest_env does not change the zone
    monkeypatch.delenv("TERM")
    assert Zone.from_root(root).env["TERM"] == "xterm"  # podman's default
    assert Zone.from_root(root, env={"LANG": "C.UTF-8"}).guest_env()["LANG"] == "C.UTF-8"
