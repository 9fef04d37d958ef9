"""The generated filter, run by a BPF evaluator: every number gets its action."""
import pytest

from lx.platform import seccomp
from lx.platform.supervisor import Supervisor
from syscalls import _nr_x86_64 as nr
from syscalls.registry import Support
from syscalls.table import TABLE


@pytest.fixture(scope="module")
def prog_and_actions():
    acts = Supervisor().filter_actions()
    return seccomp.build(acts), acts


def test_each_number_gets_its_action(prog_and_actions):
    prog, acts = prog_and_actions
    for n in range(0, 600):
        want = acts.get(n, seccomp.NOTIFY)
        assert seccomp.evaluate(prog, n) == want, n


def test_passthrough_entries_are_allowed_and_the_rest_notified(prog_and_actions):
    prog, _ = prog_and_actions
    for n, e in TABLE.items():
        got = seccomp.evaluate(prog, n)
        host = e.support is Support.PASSTHROUGH or e.zone      # no zone: path calls pass through
        assert got == (seccomp.ALLOW if host else seccomp.NOTIFY), e.name


def test_in_a_zone_path_calls_are_notified_and_exec_and_chdir_traced(tmp_path):
    from lx.platform.execsvc import LoaderExec
    from lx.vfs import ZoneFS
    with ZoneFS(tmp_path) as zfs:
        sup = Supervisor(zonefs=zfs, exec_hook=LoaderExec())
        prog = seccomp.build(sup.filter_actions())
    for n, e in TABLE.items():
        got = seccomp.evaluate(prog, n)
        if e.name in ("execve", "execveat", "chdir"):
            assert got == seccomp.TRACE, e.name
        elif e.zone:
            assert got == seccomp.NOTIFY, e.name
        elif e.support is Support.PASSTHROUGH:
            assert got == seccomp.ALLOW, e.name


def test_foreign_abis_fail_with_enosys(prog_and_actions):
    prog, _ = prog_and_actions
    assert seccomp.evaluate(prog, nr.NR["read"], arch=0x40000003) == seccomp.ENOSYS      # i386
    assert seccomp.evaluate(prog, 0x4000_0000 | nr.NR["read"]) == seccomp.ENOSYS          # x32
    assert seccomp.evaluate(prog, 5000) == seccomp.NOTIFY                                # unknown: counted


def test_filter_is_small(prog_and_actions):
    prog, _ = prog_and_actions
    assert len(prog) < 400
    assert len(seccomp.pack(prog)) == 8 * len(prog)
