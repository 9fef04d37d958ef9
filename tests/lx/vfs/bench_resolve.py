"""Micro-benchmark of ZoneFS.resolve (a script, not a test): ``python tests/lx/vfs/bench_resolve.py``.

Prints microseconds per call for the fast path (no binds; binds but a
bind-free path) and the component walk, on a Debian-shaped tree (usr-merge
symlinks), next to a plain ``os.stat`` and one raw ``openat2``.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[3]))

from lx.vfs import ZoneFS  # noqa: E402
from lx.vfs._sys import O_PATH_FLAGS, openat2  # noqa: E402
from syscalls import abi  # noqa: E402


def build(base: Path) -> Path:
    root = base / "root"
    for d in ("usr/bin", "usr/lib/x86_64-linux-gnu", "usr/share/doc/pkg", "etc", "run", "dev", "proc"):
        (root / d).mkdir(parents=True)
    for f in ("usr/bin/ls", "usr/lib/x86_64-linux-gnu/libc.so.6", "usr/share/doc/pkg/copyright", "etc/passwd"):
        (root / f).write_bytes(b"")
    os.symlink("usr/bin", root / "bin")
    os.symlink("usr/lib", root / "lib")
    (base / "hostrun").mkdir()
    (base / "hostrun/x").write_bytes(b"")
    return root


def per_call(fn, n: int = 20000) -> float:
    best = min(timeit.repeat(fn, number=n, repeat=3))
    return best / n * 1e6


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="lx-vfs-bench-"))
    try:
        root = build(base)
        binds = [(os.fsencode(base / "hostrun"), b"/run", False), (b"/dev", b"/dev", False),
                 (b"/proc", b"/proc", False)]
        deep = b"/usr/share/doc/pkg/copyright"
        rfd = os.open(root, os.O_PATH | os.O_DIRECTORY)
        host_deep = os.fsencode(root) + deep
        rows = [("os.stat(host path), reference", lambda: os.stat(host_deep)),
                ("raw openat2 IN_ROOT + close", lambda: os.close(openat2(
                    rfd, deep, O_PATH_FLAGS, abi.RESOLVE_IN_ROOT | abi.RESOLVE_NO_MAGICLINKS)))]
        zones = {"no binds": ZoneFS(root), "3 binds": ZoneFS(root, binds),
                 "walk (forced)": ZoneFS(root, binds, fast=False)}
        for label, z in zones.items():
            for path in (deep, b"/bin/ls", b"/lib/x86_64-linux-gnu/libc.so.6", b"/run/x"):
                if label == "no binds" and path == b"/run/x":
                    continue
                rows.append((f"{label:14} {path.decode()}", lambda z=z, p=path: z.resolve(p).close()))
            rows.append((f"{label:14} {deep.decode()} parent=True",
                         lambda z=z: z.resolve(deep, parent=True, follow=False).close()))
        for label, fn in rows:
            print(f"{per_call(fn):7.2f} us  {label}")
        for z in zones.values():
            z.close()
        os.close(rfd)
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
