"""Run part of the suite as an ordinary user: lx must need no privilege.

CI runs as root.  ``rootless_pytest`` creates an unprivileged user,
installs lx (non-editable: this also proves ``pip install .``) into a venv
of Debian's /usr/bin/python3 that the user can read, and runs the given
test files as that user.  No user namespaces are involved.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USER = "lxrootless"
SYSTEM_PYTHON = "/usr/bin/python3"
# One directory per test run (concurrent runs must not remove each other's
# venv); LX_KEEP_ROOTLESS_VENV=1 keeps a fixed one between runs instead.
BASE = Path("/var/tmp/lx-rootless") if os.environ.get("LX_KEEP_ROOTLESS_VENV") \
    else Path(f"/var/tmp/lx-rootless-{os.getpid()}")


def _source_key() -> str:
    h = hashlib.sha256()
    for top in ("lx", "syscalls", "native", "conformance"):
        for p in sorted((REPO / top).rglob("*")):
            if p.is_file() and p.suffix in (".py", ".c", ".h", ".pyx", ".tbl", ".tsv"):
                h.update(str(p.relative_to(REPO)).encode() + p.read_bytes())
    for name in ("pyproject.toml", "setup.py"):
        h.update((REPO / name).read_bytes())
    return h.hexdigest()[:16]


def ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
        return pwd.getpwnam(USER)


def ensure_venv() -> Path:
    """A venv with lx installed from this tree, readable by everyone (removed
    by the caller when the run is over: the suite leaves nothing behind)."""
    venv = BASE / f"venv-{_source_key()}"
    if (venv / ".complete").exists():
        return venv
    BASE.mkdir(mode=0o755, parents=True, exist_ok=True)
    for old in BASE.glob("venv-*"):
        shutil.rmtree(old, ignore_errors=True)
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        # Build from a copy so that nothing is written into the work tree.
        src = Path(tmp) / "src"
        shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "*.so", "lx-stub", "__pycache__", ".pytest_cache"))
        r = subprocess.run([str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check",
                            f"{src}[test]"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pip install of lx into {venv} failed:\n{r.stderr[-3000:]}")
    os.chmod(BASE, 0o755)
    (venv / ".complete").touch()
    return venv


def rootless_pytest(test_paths: list[str], timeout: int = 600) -> subprocess.CompletedProcess:
    """Run pytest on ``test_paths`` as the unprivileged user; returns its result."""
    user = ensure_user()
    venv = ensure_venv()
    work = Path(tempfile.mkdtemp(prefix="lx-rootless-run-"))
    os.chown(work, user.pw_uid, user.pw_gid)
    env = {"HOME": user.pw_dir, "USER": USER, "LOGNAME": USER, "PATH": f"{venv}/bin:/usr/bin:/bin",
           "LANG": "C.UTF-8"}
    try:
        return subprocess.run(
            [shutil.which("runuser") or "/usr/sbin/runuser", "-u", USER, "--", f"{venv}/bin/python", "-m", "pytest", "-q",
             "-p", "no:cacheprovider", f"--basetemp={work}/t", *test_paths],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not os.environ.get("LX_KEEP_ROOTLESS_VENV"):
            shutil.rmtree(BASE, ignore_errors=True)
