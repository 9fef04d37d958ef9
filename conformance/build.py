"""Build small C programs (probes, bench loops) with gcc, cached by content.

``build_c(src)`` compiles one C file into a per-user cache directory and
returns the executable's path; the name carries a hash of the source, the
headers beside it and the flags, so an edit rebuilds and an unchanged file is reused across runs.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    d = Path(base) / "lx" / "cbuild"
    d.mkdir(parents=True, exist_ok=True)
    return d


def build_c(src: str | os.PathLike, *, flags: tuple[str, ...] = (), libs: tuple[str, ...] = ("-pthread",),
            out_dir: Path | None = None) -> Path:
    """Compile ``src`` (one C file) and return the executable's path."""
    src = Path(src)
    h = hashlib.sha256(src.read_bytes() + repr((CFLAGS, flags, libs)).encode())
    for header in sorted(src.parent.glob("*.h")):   # the headers it may include
        h.update(header.name.encode() + b"\0" + header.read_bytes())
    key = h.hexdigest()[:16]
    out = (out_dir or cache_dir()) / f"{src.stem}-{key}"
    if out.exists():
        return out
    with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{src.stem}-", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        r = subprocess.run(["gcc", *CFLAGS, *flags, "-o", str(tmp_path), str(src), *libs],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"gcc failed for {src.name}:\n{r.stderr}")
        os.chmod(tmp_path, 0o755)
        os.replace(tmp_path, out)   # atomic: concurrent builders agree
    finally:
        tmp_path.unlink(missing_ok=True)
    return out
