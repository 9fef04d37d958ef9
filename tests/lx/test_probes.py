"""Differential tests: each probe (conformance/probes/NAME.c) prints a
transcript; it must be the same natively and under lx.

A probe takes part when its first line is a marker comment:

``/* differential */``      run natively as is (3 times: a probe whose
                            native transcript varies is a bug in the probe).
``/* differential-uts */``  it renames the host, so natively it runs only in
                            a private UTS namespace (``unshare --uts``, root);
                            under lx the names are the zone's.

The rest are checked against expectations below: ENOSYS entries, identity
overrides, sethostname under lx only, and the exit status mapping.
"""
from __future__ import annotations

import difflib
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from lx.identity import Identity

PROBES = Path(__file__).resolve().parents[2] / "conformance" / "probes"
_SCRIPT = Path(sys.executable).with_name("lx")
LX = [_SCRIPT] if _SCRIPT.exists() else [sys.executable, "-m", "lx"]   # the `lx` command


def _marker(path: Path) -> str | None:
    first = path.read_text().split("\n", 1)[0].strip()
    if first in ("/* differential */", "/* differential-uts */"):
        return first[3:-3]
    return None


DIFFERENTIAL = {p.stem: m for p in sorted(PROBES.glob("*.c")) if (m := _marker(p))}

# Known lx bugs, each visible as a strict xfail until fixed.
KNOWN_BUGS = {
    "uname_eintr": (
        "under lx uname(2) fails with EINTR when a signal whose handler lacks SA_RESTART arrives "
        "before the supervisor has received the notification: kernel/seccomp.c waits "
        "interruptibly until SECCOMP_IOCTL_NOTIF_RECV (WAIT_KILLABLE_RECV covers only the time "
        "after it) and returns -ERESTARTSYS; natively uname never sleeps, so never fails"),
}

# The probes need root natively: as another user Linux answers EPERM first.
NEEDS_ROOT = {"sethostname_errors"}


def _diff(a: str, b: str, what: str, names=("native", "lx")) -> str:
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                        f"{names[0]} {what}", f"{names[1]} {what}"))


def _params():
    for name, mode in DIFFERENTIAL.items():
        marks = []
        if name in KNOWN_BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]))
        if name in NEEDS_ROOT or mode == "differential-uts":
            marks.append(pytest.mark.skipif(os.geteuid() != 0, reason="needs root natively"))
        if mode == "differential-uts":
            marks.append(pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)"))
        yield pytest.param(name, mode, marks=marks, id=name)


def test_probe_set_is_complete():
    expected = {"uname_basic", "uname_efault", "sethostname_errors", "fork_wait", "vfork_exec",
                "threads_uname", "signals", "pipes_exec", "bad_pointers", "sethostname_ns",
                "sethostname_nul", "uname_eintr", "uname_restart", "inherited"}
    assert expected <= set(DIFFERENTIAL)


@pytest.mark.parametrize("name,mode", list(_params()))
def test_probe_matches_native(name, mode, probe, run_native, run_lx):
    exe = probe(name)
    host = socket.gethostname()
    # The same explicit environment for both: what env=None inherits is
    # test_default_environment_is_the_process_environment's business.
    env = dict(os.environ)
    native_argv = [exe] if mode == "differential" else ["unshare", "--uts", exe]
    runs = [run_native(native_argv, env=env) for _ in range(3)]
    assert socket.gethostname() == host, "a native probe run renamed the host"
    first = runs[0]
    assert first.returncode == 0 and first.stderr == "", f"native run failed: {first.stderr}"
    for i, r in enumerate(runs[1:], 2):
        assert (r.stdout, r.returncode) == (first.stdout, first.returncode), "the probe is flaky natively:\n" + \
            _diff(first.stdout, r.stdout, "stdout", ("native run 1", f"native run {i}"))

    cp = run_lx([exe], env=env)
    assert socket.gethostname() == host, "the probe under lx renamed the host"
    assert cp.lx.internal_error == "", cp.lx.internal_error
    assert cp.stdout == first.stdout, "transcripts differ:\n" + _diff(first.stdout, cp.stdout, "stdout")
    assert cp.returncode == first.returncode
    assert cp.stderr == first.stderr


def test_default_environment_is_the_process_environment(probe, run_native, run_lx):
    """env=None passes the process's real environment, as subprocess does:
    changes made with os.putenv or by C code (not in os.environ) included."""
    exe = probe("inherited")
    os.putenv("LX_TEST_PUTENV_ONLY", "1")    # in the C environment, not in os.environ
    try:
        native = run_native([exe])
        cp = run_lx([exe])
    finally:
        os.unsetenv("LX_TEST_PUTENV_ONLY")
    assert cp.stdout == native.stdout, _diff(native.stdout, cp.stdout, "stdout")


# -- not differential ------------------------------------------------------

def test_enosys_entry_is_answered_and_counted(probe, run_native, run_lx):
    exe = probe("enosys_counted")
    native = run_native([exe])
    assert "ENOSYS" not in native.stdout   # Linux itself implements it: ENOSYS is lx's answer
    cp = run_lx([exe])
    assert cp.returncode == 0
    assert cp.stdout == "syscall(SYS_io_uring_setup, 1, NULL) -> -1 ENOSYS\n"
    assert cp.lx.unsupported == {"io_uring_setup": 1}
    assert cp.lx.counts.get("io_uring_setup") == 1


def _uname_fields(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_uname_identity_override(probe, run_native, run_lx):
    exe = probe("uname_show")
    native = _uname_fields(run_native([exe]).stdout)
    ident = Identity.host(nodename="lx-zone-h", release="9.8.7-lx")
    cp = run_lx([exe], identity=ident)
    assert cp.returncode == 0
    assert _uname_fields(cp.stdout) == dict(native, nodename="lx-zone-h", release="9.8.7-lx")
    # The default identity is the host's.
    assert _uname_fields(run_lx([exe]).stdout) == native


def test_uname_identity_override_from_the_cli(probe, run_native):
    exe = probe("uname_show")
    native = _uname_fields(run_native([exe]).stdout)
    r = run_native([*LX, "run", "--hostname", "cli-zone", "--kernel-release", "1.2.3", "--", exe])
    assert r.returncode == 0, r.stderr
    assert _uname_fields(r.stdout) == dict(native, nodename="cli-zone", release="1.2.3")


def test_sethostname_changes_only_the_zone(probe, run_lx):
    """sethostname succeeds under lx and the host keeps its name.

    sethostname_set is run ONLY under lx: natively, as root, it would rename
    the host (the probe also refuses to run without a seccomp filter)."""
    exe = probe("sethostname_set")
    host = socket.gethostname()
    if os.geteuid() != 0:
        # On the host root the caller's own privilege decides, as natively.
        cp = run_lx([exe])
        assert cp.stdout.splitlines()[0] == 'sethostname("zone-test", 9) -> -1 EPERM'
        assert socket.gethostname() == host
        return
    try:
        cp = run_lx([exe])
    finally:
        after = socket.gethostname()
        if after != host:   # never leave the machine renamed, even when failing
            socket.sethostname(host)
    assert after == host, f"lx renamed the host to {after!r}"
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    assert lines[:5] == ['sethostname("zone-test", 9) -> 0', "uname(&u) -> 0", "nodename = zone-test",
                         "gethostname(h, sizeof h) -> 0", "gethostname = zone-test"]
    assert "nodename = zone-te" in lines
    assert "nodename length = 64" in lines
    assert "domainname = zone.example" in lines
    assert lines[-1] == "child nodename = zone-test"
    assert cp.lx.counts["sethostname"] == 4 and cp.lx.counts["setdomainname"] == 1
    # A new run starts from the host's identity again.
    assert run_lx(["uname", "-n"]).stdout.strip() == host


# -- exit status mapping ---------------------------------------------------

@pytest.mark.parametrize("mode,n,shell_rc", [
    ("exit", 0, 0), ("exit", 3, 3), ("exit", 255, 255),
    ("signal", 15, 143), ("signal", 9, 137), ("signal", 10, 138),
])
def test_exit_status_mapping(mode, n, shell_rc, probe, run_native, run_lx):
    exe = probe("exit_status")
    native = run_native([exe, mode, n])
    assert native.returncode == (n if mode == "exit" else -n)
    assert run_lx([exe, mode, n]).returncode == native.returncode      # subprocess's convention
    cli = run_native([*LX, "run", "--", exe, mode, n])
    assert cli.returncode == shell_rc, cli.stderr                         # a shell's convention
    assert cli.stderr == ""
