"""The supervisor's dispatcher: handler results, errors and internal bugs."""
import dataclasses
import io
import os
import shutil

import pytest
from hostprocs import pids_with

from lx.platform.supervisor import Supervisor
from syscalls import _nr_x86_64 as nr
from syscalls.table import TABLE

HOSTNAME = shutil.which("hostname")


def run_with(table, argv):
    log = io.StringIO()
    sup = Supervisor(table=table, log=log)
    r, w = os.pipe()
    try:
        sup.spawn(argv[0], argv, [f"PATH={os.environ['PATH']}"], stdio=(-1, w, w))
    finally:
        os.close(w)
    report = sup.serve()
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    return report, out, log.getvalue(), sup


@pytest.mark.skipif(HOSTNAME is None, reason="hostname(1) not installed")
def test_sethostname_changes_only_the_guest_identity():
    before = os.uname().nodename
    report, out, log, sup = run_with(TABLE, ["/bin/sh", "-c", f"{HOSTNAME} lx-guest-name && {HOSTNAME}"])
    assert out == "lx-guest-name\n" and report.returncode == 0, (out, log)
    assert sup.identity.nodename == b"lx-guest-name"
    assert os.uname().nodename == before
    assert report.counts["sethostname"] == 1 and report.counts["uname"] >= 1


@pytest.mark.skipif(HOSTNAME is None, reason="hostname(1) not installed")
def test_a_bug_in_a_handler_stops_only_that_guest_with_one_line():
    def broken(call, name, length):
        raise RuntimeError("deliberate test bug")

    broken.__name__ = "sys_sethostname"
    table = dict(TABLE)
    n = nr.NR["sethostname"]
    table[n] = dataclasses.replace(TABLE[n], handler=broken)
    marker = f"1000.{os.getpid()}7"
    report, out, log, _ = run_with(table, ["/bin/sh", "-c", f"sleep {marker} & {HOSTNAME} x; echo after"])
    assert report.internal_error.startswith("internal error in sethostname handler")
    assert "RuntimeError: deliberate test bug" in report.internal_error
    lines = log.splitlines()
    assert len(lines) == 1 and lines[0].endswith("stopping the guest") and "Traceback" not in log
    assert "after" not in out                      # the guest did not go on
    assert report.returncode == -9
    assert not pids_with(marker)


def test_handler_errors_become_errnos():
    code = ("import ctypes; l=ctypes.CDLL(None, use_errno=True); "
            "print(l.sethostname(b'x'*10, -1), ctypes.get_errno(), "
            "l.syscall(170, ctypes.c_void_p(8), 5), ctypes.get_errno())")
    import sys
    report, out, log, _ = run_with(TABLE, [sys.executable, "-c", code])
    assert out == "-1 22 -1 14\n", log    # EINVAL for the length, EFAULT for the pointer
