"""Zone trees and the real-chroot oracle for the lx.vfs tests (fixtures: conftest.py).

``zone_tree``  a root directory full of the shapes resolution must get right
               (relative/absolute symlinks, chains, loops, ``..`` tricks) with
               zone files whose content is b"zone" and host decoys b"host".
``bind_tree``  (root, host dirs) for bind tests; the mountpoints exist in the
               root so a real ``mount --bind`` can build the same view.
``oracle``     ``oracle(root, queries, binds=())`` -> per query ``(st_dev,
               st_ino)`` or an errno, computed by the kernel itself in a forked
               child that bind-mounts (private mount namespace) and chroots.
               Needs root: tests using it are skipped otherwise.
"""
from __future__ import annotations

import ctypes
import os
import pickle
import subprocess
from pathlib import Path

import pytest

from syscalls import abi

IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="the chroot/mount oracle needs root")

CHAIN_OK = 40      # a chain of this many symlinks resolves ...
CHAIN_BAD = 41     # ... and this many is ELOOP


def _link(root: Path, name: str, target: str) -> None:
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, p)


def build_zone(root: Path) -> Path:
    """The no-bind zone used by the resolve and escape tests."""
    for d in ("etc", "usr/bin", "usr/lib", "d/sub", "tmp", "deep", "var"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "etc/passwd").write_bytes(b"zone")
    (root / "usr/bin/sh").write_bytes(b"zone")
    (root / "usr/lib/x").write_bytes(b"zone")
    (root / "d/file").write_bytes(b"zone")
    (root / "d/sub/f").write_bytes(b"zone")
    (root / "d/sub/fff").write_bytes(b"zone")
    (root / ("n" * 255)).write_bytes(b"zone")
    for name, target in {
        "bin": "usr/bin", "lib": "/usr/lib", "rel_up": "../../../../etc/passwd",
        "abs_pw": "/etc/passwd", "l1": "l2", "l2": "l3", "l3": "d",
        "loop_a": "loop_b", "loop_b": "loop_a", "self": "self", "dangling": "nowhere",
        "dir_link": "d/", "file_slash": "d/file/", "dotdot": "..", "d/up": "../..",
        "d/sub/up3": "../../../../../", "proc_root": "/proc/self/root",
        "to_root": "/", "swap": "d/file", "abs_dotdot": "/../../../etc",
        "d/sub/rel_abs": "/d/sub/../file",
    }.items():
        _link(root, name, target)
    for prefix, n in (("a", CHAIN_OK), ("b", CHAIN_BAD)):
        for i in range(n):
            _link(root, f"{prefix}{i}", f"{prefix}{i + 1}" if i + 1 < n else "d/file")
    return root


def build_binds(base: Path) -> tuple[Path, dict[str, Path]]:
    """Root plus host directories for binds; returns (root, {name: host path})."""
    root = build_zone(base / "root")
    h1 = base / "hostrun"            # bound at /run
    (h1 / "inner").mkdir(parents=True)
    (h1 / "x").write_bytes(b"bind")
    (h1 / "sub").mkdir()
    (h1 / "sub/y").write_bytes(b"bind")
    os.symlink("../..", h1 / "up")
    os.symlink("/etc/passwd", h1 / "abs")
    os.symlink("/mnt/a/shown", h1 / "to_mnt")
    os.symlink("../secret", h1 / "host_sibling")
    (base / "secret").write_bytes(b"host")      # next to h1 on the host: never reachable
    h2 = base / "hostinner"          # bound at /run/inner (nested)
    h2.mkdir()
    (h2 / "y").write_bytes(b"inner")
    os.symlink("..", h2 / "up1")
    h3 = base / "hostmnt"            # bound at /mnt/a, hiding root/mnt/a/hidden
    h3.mkdir()
    (h3 / "shown").write_bytes(b"bind")
    hf = base / "resolv.conf"        # file bind at /etc/resolv.conf
    hf.write_bytes(b"bindfile")
    (root / "run").mkdir()
    (root / "mnt/a").mkdir(parents=True)
    (root / "mnt/a/hidden").write_bytes(b"zone")
    (root / "etc/resolv.conf").write_bytes(b"zone")
    os.symlink("/run", root / "var/run")
    return root, {"run": h1, "inner": h2, "mnt": h3, "resolv": hf, "secret": base / "secret"}


def bind_list(hosts: dict[str, Path]) -> list[tuple[bytes, bytes, bool]]:
    """The binds of ``bind_tree`` in (host, guest, readonly) form, outer before nested."""
    return [(os.fsencode(hosts["run"]), b"/run", False),
            (os.fsencode(hosts["inner"]), b"/run/inner", False),
            (os.fsencode(hosts["mnt"]), b"/mnt/a", True),
            (os.fsencode(hosts["resolv"]), b"/etc/resolv.conf", False)]


def _oracle_child(root: bytes, queries, binds, w: int) -> None:
    if binds:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(abi.CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
        subprocess.run(["mount", "--make-rprivate", "/"], check=True)
        for host, guest, ro in binds:   # outer binds first, so nested ones land on them
            subprocess.run(["mount", "--bind", host, root + guest], check=True)
    os.chroot(root)
    out = []
    for path, cwd, follow in queries:
        try:
            os.chdir(cwd)
            st = os.stat(path, follow_symlinks=follow)
            out.append((st.st_dev, st.st_ino))
        except OSError as e:
            out.append(e.errno)
    data = pickle.dumps(out)
    while data:
        data = data[os.write(w, data):]


def run_oracle(root, queries, binds=()) -> list:
    """The kernel's answer for each (path, cwd, follow) in a real chroot (see module doc)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:        # child: never return into pytest
        code = 1
        try:
            os.close(r)
            _oracle_child(os.fsencode(root), queries, binds, w)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 1 << 16):
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "oracle child failed"
    return pickle.loads(b"".join(chunks))


def answer(z, path: bytes, cwd: bytes, follow: bool):
    """What ZoneFS ``z`` says for the oracle's query: (st_dev, st_ino) or an errno."""
    try:
        with z.resolve(path, cwd=cwd, follow=follow) as r:
            st = os.fstat(r.fd)
            return (st.st_dev, st.st_ino)
    except OSError as e:
        return e.errno
