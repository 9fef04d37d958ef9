"""`lx run`: exit statuses, bad commands, fault lines, unsupported calls, no orphans."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lx
from conformance.build import build_c
from hostprocs import pids_with

DATA = Path(__file__).parent / "data"
LX = [sys.executable, "-m", "lx"]


def lx_run(*args, **kw):
    return subprocess.run([*LX, "run", *args], capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture(scope="module")
def fault_bin():
    return str(build_c(DATA / "fault_signals.c", flags=("-O0",)))


def test_exit_status_is_the_guest_s():
    assert lx_run("--", "sh", "-c", "exit 3").returncode == 3
    assert lx_run("--", "true").returncode == 0


def test_death_by_signal_is_128_plus_n():
    r = lx_run("--", "sh", "-c", "kill -TERM $$")
    assert r.returncode == 128 + signal.SIGTERM
    assert lx.run(["sh", "-c", "kill -KILL $$"]).returncode == -signal.SIGKILL


def test_missing_command_is_127_like_a_shell():
    r = lx_run("--", "no-such-command-lx")
    assert r.returncode == 127
    assert r.stderr == "lx: no-such-command-lx: No such file or directory\n"


def test_not_executable_is_126(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("hello\n")
    plain.chmod(0o644)
    r = lx_run("--", str(plain))
    assert r.returncode == 126
    assert r.stderr == f"lx: {plain}: Permission denied\n"
    plain.chmod(0o755)  # executable, but neither ELF nor #!: the kernel's ENOEXEC
    r = lx_run("--", str(plain))
    assert (r.returncode, r.stderr) == (126, f"lx: {plain}: Exec format error\n")


def test_segv_is_explained_in_one_line(fault_bin):
    r = lx_run("--", fault_bin, "segv")
    assert r.returncode == 128 + signal.SIGSEGV
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"lx: {fault_bin} (pid ")
    assert "killed by SIGSEGV (SEGV_MAPERR) at address 0x10: mov dword ptr [rax], 0x2a (at 0x" in lines[0]


def test_sigill_names_the_instruction(fault_bin):
    r = lx_run("--", fault_bin, "ill")
    assert r.returncode == 128 + signal.SIGILL
    assert "killed by SIGILL (ILL_ILLOPN)" in r.stderr and ": ud2 (at 0x" in r.stderr


def test_a_signal_that_does_not_kill_is_not_reported(fault_bin):
    r = lx_run("--", fault_bin, "handled")
    assert (r.returncode, r.stderr) == (5, "")


def test_a_sent_fault_signal_names_the_sender():
    r = lx_run("--", "sh", "-c", "kill -SEGV $$")
    assert r.returncode == 128 + signal.SIGSEGV
    assert "killed by SIGSEGV sent by pid" in r.stderr


def test_unsupported_calls_are_counted_and_reported_once_per_process():
    code = "import ctypes; l=ctypes.CDLL(None); [l.syscall(169, 0, 0, 0, 0) for _ in range(3)]"  # reboot
    cp = lx.run([sys.executable, "-c", code])
    assert cp.returncode == 0 and cp.lx.unsupported == {"reboot": 3}
    r = lx_run("--verbose", "--", sys.executable, "-c", code)
    lines = [ln for ln in r.stderr.splitlines() if "reboot" in ln]
    assert len(lines) == 1 and "is not supported (security:" in lines[0] and "ENOSYS" in lines[0]
    assert r.returncode == 0
    r = lx_run("--strict", "--", sys.executable, "-c", code)
    assert r.returncode == 1 and "--strict" in r.stderr


def test_unsupported_call_errno_is_enosys():
    code = ("import ctypes, sys; l=ctypes.CDLL(None, use_errno=True); "
            "r=l.syscall(169, 0, 0, 0, 0); print(r, ctypes.get_errno())")
    assert lx.run([sys.executable, "-c", code], capture_output=True, text=True).stdout == "-1 38\n"


def _wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_killing_the_supervisor_leaves_no_guest_behind():
    marker = f"1000.{os.getpid()}1"
    script = (f"sleep {marker} & sleep {marker} & (setsid sleep {marker} &) ; "
              f"sh -c 'sleep {marker}' & echo ready; wait")
    p = subprocess.Popen([*LX, "run", "--", "sh", "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        assert _wait_for(lambda: len(pids_with(marker)) >= 4)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert _wait_for(lambda: not pids_with(marker), timeout=2.0), pids_with(marker)
    finally:
        p.kill()
        for pid in pids_with(marker):
            os.kill(pid, signal.SIGKILL)


def test_background_processes_end_with_the_guest():
    marker = f"1000.{os.getpid()}2"
    t0 = time.monotonic()
    cp = lx.run(["sh", "-c", f"(setsid sleep {marker} &); sleep {marker} & echo started"],
                capture_output=True, text=True)
    assert cp.stdout == "started\n" and time.monotonic() - t0 < 10
    assert not pids_with(marker)


def test_timeout_kills_the_guest_tree_and_raises():
    marker = f"1000.{os.getpid()}3"
    t0 = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        lx.run(["sh", "-c", f"sleep {marker} & sleep {marker}"], timeout=0.5)
    assert time.monotonic() - t0 < 5
    assert not pids_with(marker)
