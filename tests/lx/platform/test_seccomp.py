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
        assert got == (seccomp.ALLOW if e.support is Support.PASSTHROUGH else seccomp.NOTIFY), e.name


def test_foreign_abis_fail_with_enosys(prog_and_actions):
    prog, _ = prog_and_actions
    assert seccomp.evaluate(prog, nr.NR["read"], arch=0x40000003) == seccomp.ENOSYS      # i386
    assert seccomp.evaluate(prog, 0x4000_0000 | nr.NR["read"]) == seccomp.ENOSYS          # x32
    assert seccomp.evaluate(prog, 5000) == seccomp.NOTIFY                                # unknown: counted


def test_filter_is_small(prog_and_actions):
    prog, _ = prog_and_actions
    assert len(prog) < 400
    assert len(seccomp.pack(prog)) == 8 * len(prog)
