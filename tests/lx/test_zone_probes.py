"""Zone probes: path-taking calls in a zone, compared with a real chroot.

Each probe (conformance/probes/zone_*.c, built static) runs in one zone tree
-- the busybox default zone plus the fixtures below -- twice over:

* natively, in a chroot of the tree (``unshare --mount --pid --fork
  --mount-proc=ROOT/proc chroot ROOT /probes/NAME``: a private procfs in a
  new pid namespace, so the chrooted probe has a /proc whose pid 1 is
  itself and never sees the host's processes), three times: a probe whose
  native transcript varies is a bug in the probe;
* under lx, with the tree as the zone's root (``lx.run(root=ROOT)``; the
  default binds give it the host's /proc and /dev nodes).

The transcripts are cut into sections ("== NAME" lines) and compared
section by section, so that a known lx bug (a strict xfail in KNOWN_BUGS,
citing what Linux does) leaves the other sections checked.

The chroot oracle needs root (CI runs as root) and a working unshare(1);
without them only the lx side runs, and must finish without an lx error.
"""
from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxzones import new_default_zone

import lx
from conformance.build import build_c

PROBES = Path(__file__).resolve().parents[2] / "conformance" / "probes"
IS_ROOT = os.geteuid() == 0
ENV = {"PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "HOME": "/root", "LC_ALL": "C"}
UNSHARE = shutil.which("unshare")
CHROOT = "/usr/sbin/chroot" if os.path.exists("/usr/sbin/chroot") else shutil.which("chroot")

_NO_ORACLE = "the chroot oracle needs root, unshare(1) with mount and pid namespaces, and chroot(1)"


def _oracle_works() -> bool:
    """Root, with unshare and chroot that work here (a container may refuse namespaces)."""
    if not (IS_ROOT and UNSHARE and CHROOT):
        return False
    r = subprocess.run([UNSHARE, "--mount", "--pid", "--fork", "true"], capture_output=True, timeout=30)
    return r.returncode == 0


# What the zone's fixtures hold (the zone_escape probe knows these texts).
ZONE_HOSTNAME = "zone-probe-hostname\n"
INSIDE = "zone-probe-inside\n"

# The sections each probe prints, in order (a probe printing others is a test failure).
SECTIONS = {
    "zone_open": ["create", "excl", "trunc", "directory", "nofollow", "o_path", "tmpfile", "tmpfile_proc",
                  "trailing_slash", "dirfd", "bad_args", "long_paths", "umask", "creat", "legacy_open",
                  "dotdot_after_symlink", "excl_symlink", "directory_creat", "creat_trailing_slash"],
    "zone_stat": ["files", "dirs", "symlinks", "root_dots", "fstatat", "statx", "null_path", "null_path_empty",
                  "errors"],
    "zone_names": ["mkdir", "rmdir", "unlink", "rename", "renameat2", "link", "symlink", "readlink", "chmod",
                   "truncate", "utimensat", "access", "cwd", "mknod", "create_over_dangling_symlink",
                   "trailing_slash", "dot_names", "names_read_first", "readlink_empty", "empty_path_bad_dirfd",
                   "utimensat_nofollow", "cwd_removed"],
    "zone_escape": ["dotdot", "symlinks", "dirfds", "moved_cwd", "proc", "races"],
}

# (probe, section) -> why lx's transcript differs from Linux's: strict xfails, each
# one root cause, with what the kernel does (fs/namei.c, fs/open.c, ... as of 6.18).
KNOWN_BUGS: dict[tuple[str, str], str] = {
    ("zone_open", "o_path"): (
        "every open(O_PATH) fails with EBADF in a zone: the supervisor opens the O_PATH fd and installs "
        "it with SECCOMP_IOCTL_NOTIF_ADDFD, whose fget() (kernel/seccomp.c seccomp_notify_addfd) refuses "
        "FMODE_PATH files; also open(O_PATH|O_CREAT) of a missing name gives EINVAL (O_CREAT is passed "
        "on to openat2, which rejects it) where open(2) ignores every flag but O_CLOEXEC, O_DIRECTORY "
        "and O_NOFOLLOW with O_PATH (ENOENT)"),
    ("zone_open", "tmpfile_proc"): (
        "linkat(AT_FDCWD, \"/proc/self/fd/N\", ..., AT_SYMLINK_FOLLOW) -- open(2)'s documented way to "
        "name an O_TMPFILE file without CAP_DAC_READ_SEARCH -- fails with ELOOP: the zone resolver "
        "refuses procfs magic links, and only open() special-cases /proc/self/fd/N"),
}

# Sections whose native answer depends on the kernel: (major, minor) they need.
NEEDS_KERNEL = {("zone_open", "directory_creat"): (6, 4)}


def _kernel() -> tuple[int, int]:
    import re
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _diff(a: str, b: str, names=("native", "lx")) -> str:
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), *names))


def sections(text: str) -> dict[str, str]:
    """A transcript cut at its "== NAME" lines: {NAME: text}; lines before the first under ""."""
    out: dict[str, list[str]] = {"": []}
    cur = ""
    for line in text.splitlines(True):
        if line.startswith("== "):
            cur = line[3:].strip()
            out[cur] = []
        else:
            out[cur].append(line)
    return {k: "".join(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    """The busybox default zone (in a private LX_HOME) with the probes' fixtures."""
    root = new_default_zone(tmp_path_factory)
    (root / "etc" / "hostname").write_text(ZONE_HOSTNAME)
    data = root / "data"
    data.mkdir()
    (data / "inside.txt").write_text(INSIDE)
    (data / "link-out").symlink_to("../../../../../../etc/hostname")
    (data / "abs-root").symlink_to("/")
    (data / "proc-root").symlink_to("/proc/self/root")
    (root / "probes").mkdir()
    return root


@pytest.fixture(scope="module")
def transcripts(zone):
    """name -> (native runs, lx run): each probe built, copied into the zone, run once per side."""
    cache: dict[str, tuple[list[subprocess.CompletedProcess] | None, subprocess.CompletedProcess]] = {}
    oracle = _oracle_works()

    def get(name: str):
        if name not in cache:
            exe = build_c(PROBES / f"{name}.c", flags=("-static",))
            shutil.copyfile(exe, zone / "probes" / name)
            os.chmod(zone / "probes" / name, 0o755)
            guest = f"/probes/{name}"
            native = None
            if oracle:
                native = [subprocess.run([UNSHARE, "--mount", "--pid", "--fork", f"--mount-proc={zone}/proc",
                                          CHROOT, str(zone), guest], capture_output=True, text=True, env=ENV,
                                         timeout=60) for _ in range(3)]
            cp = lx.run([guest], root=zone, capture_output=True, text=True, env=ENV, timeout=60)
            cache[name] = (native, cp)
        return cache[name]
    return get


def _params():
    for name, secs in SECTIONS.items():
        for sec in secs:
            marks = []
            if (name, sec) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name, sec]))
            if (name, sec) in NEEDS_KERNEL:
                need = NEEDS_KERNEL[name, sec]
                marks.append(pytest.mark.skipif(_kernel() < need, reason=f"needs Linux {need[0]}.{need[1]}+"))
            yield pytest.param(name, sec, marks=marks, id=f"{name}:{sec}")


def _native_or_skip(native):
    if native is None:
        pytest.skip(_NO_ORACLE)
    return native


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_probe_runs_the_same_way(name, transcripts):
    """Exit status, stderr and the list of sections: natively stable, the same under lx."""
    native, cp = transcripts(name)
    assert cp.lx.internal_error == "", cp.lx.internal_error
    first = _native_or_skip(native)[0]
    assert first.returncode == 0 and first.stderr == "", f"native run failed: {first.stderr}"
    for i, r in enumerate(native[1:], 2):
        assert (r.stdout, r.returncode) == (first.stdout, first.returncode), \
            "the probe is flaky natively:\n" + _diff(first.stdout, r.stdout, ("native run 1", f"native run {i}"))
    assert list(sections(first.stdout)) == ["", *SECTIONS[name]]
    assert sections(first.stdout)[""] == ""
    assert list(sections(cp.stdout)) == list(sections(first.stdout)), cp.stdout
    assert (cp.returncode, cp.stderr) == (first.returncode, first.stderr)


@pytest.mark.parametrize("name,section", list(_params()))
def test_section_matches_chroot(name, section, transcripts):
    native, cp = transcripts(name)
    first = _native_or_skip(native)[0]
    want = sections(first.stdout).get(section)
    assert want is not None, f"the native transcript has no section {section!r}"
    got = sections(cp.stdout).get(section, "(section missing)\n")
    assert got == want, "transcripts differ:\n" + _diff(want, got)


def test_utimensat_nofollow_stays_in_the_zone(zone, tmp_path, monkeypatch):
    """A guest's utimensat(AT_SYMLINK_NOFOLLOW) on its own symlink must not
    touch a host file that happens to have the same name in lx's cwd."""
    victim = tmp_path / "lx-victim"
    victim.write_text("host\n")
    os.utime(victim, (1_000_000_000, 1_000_000_000))
    monkeypatch.chdir(tmp_path)          # the supervisor runs in this process: its cwd
    r = lx.run(["/bin/sh", "-c", "cd /tmp && ln -sf nowhere lx-victim && touch -h -d '2001-02-03 04:05:06' "
                "lx-victim; rm -f lx-victim"], root=zone, capture_output=True, text=True, env=ENV, timeout=60)
    assert r.lx.internal_error == "", r.lx.internal_error
    assert victim.stat().st_mtime == 1_000_000_000, "the guest changed a host file's times"
