"""The default zone: a tiny root filesystem made from busybox-static, built on first use.

It lives at ``$LX_HOME/zones/default/root`` (see :func:`lx.zone.lx_home`) and
is built rootless: a copy of the host's static busybox at ``/bin/busybox``
(the zone is self-contained; host upgrades do not touch it), one absolute
symlink to it per applet ``busybox --list-full`` names, the directories a
Linux root has (``/tmp`` and ``/var/tmp`` 1777, ``/root`` 0700), mountpoints
for the default binds (empty files and directories under ``/dev``), and a
minimal ``/etc``: passwd and group (root, nobody/nogroup; no shadow file),
hosts, hostname, resolv.conf (the host's, if readable), os-release, shells
and profile.

Building is atomic and safe against concurrent callers: under an exclusive
``flock`` of ``zones/default/.lock`` the tree is built in a temporary
directory next to ``root`` and renamed to ``root`` last, so ``root`` either
does not exist or is complete.  A build killed half-way leaves only its
``.root.tmp-*`` directory; whoever next holds the lock removes it (a
temporary directory seen under the lock cannot belong to a live builder).
Once built the zone is never rebuilt behind the user's back (it may hold
their files); delete ``zones/default`` to rebuild it.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .zone import GUEST_PATH, ZoneError, default_hostname, zones_dir

BUSYBOX = "/bin/busybox"
TMP_PREFIX = ".root.tmp-"
_INSTALL = "run `make deps`, or `sudo apt-get install busybox-static`"
_DIRS = {"bin": 0o755, "sbin": 0o755, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755, "usr/local": 0o755,
         "usr/local/bin": 0o755, "etc": 0o755, "root": 0o700, "tmp": 0o1777, "var": 0o755,
         "var/tmp": 0o1777, "home": 0o755, "proc": 0o555, "dev": 0o755, "dev/pts": 0o755,
         "dev/shm": 0o1777, "sys": 0o555, "run": 0o755}
_DEV_FILES = ("null", "zero", "full", "random", "urandom", "tty", "ptmx")
_DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
              "stderr": "/proc/self/fd/2"}


def default_zone_path() -> Path:
    """``$LX_HOME/zones/default/root`` (whether or not it exists yet)."""
    return zones_dir() / "default" / "root"


def ensure_default_zone(busybox: str | os.PathLike = BUSYBOX) -> Path:
    """The default zone's root, built from ``busybox`` first if it does not exist; ZoneError if it cannot be."""
    root = default_zone_path()
    zdir = root.parent
    if root.is_dir():
        with _locked(zdir, wait=False) as got:
            if got:
                _remove_stale(zdir)
        return root
    version = check_busybox(busybox)
    try:
        zdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ZoneError(f"lx: cannot create {zdir}: {e.strerror} "
                        "(set LX_HOME to a writable directory)") from None
    with _locked(zdir, wait=True):
        _remove_stale(zdir)
        if root.is_dir():          # another process built it while we waited
            return root
        tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=zdir))
        try:
            build_tree(tmp, busybox, version, default_hostname(root))
            os.rename(tmp, root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return root


def check_busybox(busybox: str | os.PathLike) -> str:
    """Busybox's version (``1.35.0``); ZoneError if ``busybox`` is missing or not static."""
    from elftools.elf.elffile import ELFFile
    from elftools.common.exceptions import ELFError

    try:
        with open(busybox, "rb") as f:
            interp = any(s["p_type"] == "PT_INTERP" for s in ELFFile(f).iter_segments())
    except FileNotFoundError:
        raise ZoneError(f"lx: the default zone is built from busybox-static, and {os.fsdecode(busybox)} "
                        f"does not exist ({_INSTALL})") from None
    except (OSError, ELFError) as e:
        raise ZoneError(f"lx: {os.fsdecode(busybox)} is not a usable busybox ({e}; {_INSTALL})") from None
    if interp:
        raise ZoneError(f"lx: {os.fsdecode(busybox)} is dynamically linked; the default zone needs "
                        f"busybox-static ({_INSTALL})")
    out = subprocess.run([busybox, "--help"], capture_output=True, text=True).stdout
    m = re.search(r"BusyBox v([0-9][^\s]*)", out)
    return m.group(1) if m else "unknown"


def build_tree(root: Path, busybox: str | os.PathLike, version: str, hostname: str) -> None:
    """Fill the (empty, existing) directory ``root`` with the default zone."""
    os.chmod(root, 0o755)
    for d, mode in _DIRS.items():
        (root / d).mkdir(exist_ok=True)
        os.chmod(root / d, mode)
    bb = root / "bin" / "busybox"
    shutil.copyfile(busybox, bb)
    os.chmod(bb, 0o755)
    listed = subprocess.run([bb, "--list-full"], capture_output=True, text=True, check=True).stdout
    applets = {a.strip("/") for a in listed.split() if "/" in a.strip("/")} | {"bin/sh"}
    for a in sorted(applets - {"bin/busybox"}):
        link = root / a
        link.parent.mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(link):
            os.symlink("/bin/busybox", link)
    for name in _DEV_FILES:               # mountpoints for the default binds
        (root / "dev" / name).touch()
        os.chmod(root / "dev" / name, 0o666)
    for name, target in _DEV_LINKS.items():
        os.symlink(target, root / "dev" / name)
    _write_etc(root / "etc", version, hostname)


def _write_etc(etc: Path, version: str, hostname: str) -> None:
    files = {
        "passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        "group": "root:x:0:\nnogroup:x:65534:\n",
        "hosts": f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n",
        "hostname": f"{hostname}\n",
        "shells": "/bin/sh\n/bin/ash\n",
        "os-release": (f'NAME="lx default zone"\nPRETTY_NAME="lx default zone (BusyBox {version})"\n'
                       f"ID=lx-busybox\nVERSION_ID={version}\n"),
        "profile": (f"export PATH={GUEST_PATH}\numask 022\n"
                    "if [ \"$(id -u)\" -eq 0 ]; then PS1='\\u@\\h:\\w# '; else PS1='\\u@\\h:\\w$ '; fi\n"
                    "export PS1\n"),
    }
    try:
        files["resolv.conf"] = Path("/etc/resolv.conf").read_text()
    except (OSError, UnicodeDecodeError):
        pass
    for name, text in files.items():
        (etc / name).write_text(text)
        os.chmod(etc / name, 0o644)


def _remove_stale(zdir: Path) -> None:
    """Remove builds killed half-way (call with the lock held: no live builder owns them)."""
    for p in zdir.glob(TMP_PREFIX + "*"):
        shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def _locked(zdir: Path, wait: bool) -> Iterator[bool]:
    """Hold ``zdir/.lock`` exclusively; yields False (without waiting) when ``wait`` is off and it is taken."""
    try:
        fd = os.open(zdir / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        if not wait:
            yield False
            return
        raise ZoneError(f"lx: cannot lock {zdir}: {e.strerror} (set LX_HOME to a writable directory)") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN) or wait:
                raise
            yield False
            return
        yield True
    finally:
        os.close(fd)
