"""lx.loader.auxv: the auxiliary vector, against what the kernel gives a program built here."""
from __future__ import annotations

import os
import resource

import pytest

from lx.loader import build_auxv, host_auxv, mmap_base_for, parse, plan_exec, read_auxv
from syscalls import abi

ENV = {"LX_A": "1", "LX_EMPTY": "", "LX_LONG": "x" * 100}
# Values that do not depend on where things were placed.
DETERMINISTIC = (abi.AT_MINSIGSTKSZ, abi.AT_HWCAP, abi.AT_PAGESZ, abi.AT_CLKTCK, abi.AT_PHENT, abi.AT_PHNUM,
                 abi.AT_FLAGS, abi.AT_UID, abi.AT_EUID, abi.AT_GID, abi.AT_EGID, abi.AT_SECURE, abi.AT_HWCAP2,
                 abi.AT_RSEQ_FEATURE_SIZE, abi.AT_RSEQ_ALIGN)


def _ours(path, native: dict[int, int]) -> list[tuple[int, int]]:
    im = parse(path)
    return build_auxv(phdr=im.phdr_addr, phnum=im.phnum, entry=im.entry, base=0,
                      uid=os.getuid(), gid=os.getgid(), euid=os.geteuid(), egid=os.getegid(),
                      vdso_base=native.get(abi.AT_SYSINFO_EHDR))


@pytest.mark.parametrize("kind", ["dynamic", "static", "static-pie"])
def test_tags_and_values_like_the_kernel(probe, run_probe, kind):
    path = probe[kind]
    rep = run_probe(path, [str(path), "one", "two words"], ENV)
    native_pairs = [(t, v) for t, v, _ in rep["auxv"]]
    native = dict(native_pairs)
    # The stack walk agrees with getauxval(), except for AT_HWCAP, which glibc's x86
    # getauxval() answers from its own GLRO(dl_hwcap) (HWCAP_X86_64 ...).
    assert all(v == g for t, v, g in rep["auxv"] if t != abi.AT_HWCAP)
    ours = _ours(path, native)
    assert [t for t, _ in ours] == [t for t, _ in native_pairs]
    mine = dict(ours)
    for tag in DETERMINISTIC:
        assert mine.get(tag) == native.get(tag), tag
    im = parse(path)
    assert native[abi.AT_PHENT] == 56 and native[abi.AT_PHNUM] == im.phnum
    # AT_PHDR and AT_ENTRY move together with the load bias.
    assert native[abi.AT_ENTRY] - native[abi.AT_PHDR] == im.entry - im.phdr_addr
    assert (native[abi.AT_BASE] != 0) == (kind == "dynamic")
    assert rep["execfn"] == str(path)
    assert rep["platform"].encode() == host_auxv().platform


def test_host_values_are_ours():
    mine = dict(read_auxv())
    h = host_auxv()
    assert h.hwcap == mine[abi.AT_HWCAP] and h.hwcap2 == mine.get(abi.AT_HWCAP2)
    assert h.minsigstksz == mine.get(abi.AT_MINSIGSTKSZ)
    assert h.platform == os.uname().machine.encode()
    assert mine[abi.AT_PAGESZ] == 4096


def test_without_vdso_and_for_a_setuid_like_exec():
    av = build_auxv(phdr=0x400040, phnum=9, entry=0x401000, base=0, uid=1000, gid=100, euid=0, egid=0,
                    secure=True, vdso_base=None)
    tags = [t for t, _ in av]
    assert abi.AT_SYSINFO_EHDR not in tags
    d = dict(av)
    assert (d[abi.AT_UID], d[abi.AT_EUID], d[abi.AT_GID], d[abi.AT_EGID], d[abi.AT_SECURE]) == (1000, 0, 100, 0, 1)
    assert d[abi.AT_RANDOM] == d[abi.AT_EXECFN] == 0          # placeholders for build_stack()
    assert tags.index(abi.AT_HWCAP2) == tags.index(abi.AT_RANDOM) + 1
    assert tags.index(abi.AT_PLATFORM) == tags.index(abi.AT_EXECFN) + 1


@pytest.mark.parametrize("kind", ["dynamic", "static", "static-pie"])
def test_exactly_the_kernels_auxv_without_randomization(probe, kernel_exec, kind):
    rlim = resource.getrlimit(resource.RLIMIT_STACK)[0]
    if rlim == resource.RLIM_INFINITY:
        pytest.skip("unlimited stack: the kernel uses the legacy mmap layout")
    path = str(probe[kind])
    snap = kernel_exec(path, [path, "a"], ENV)
    native = dict(snap.auxv)
    plan = plan_exec(path, [path, "a"], [f"{k}={v}" for k, v in ENV.items()],
                     uid=os.getuid(), gid=os.getgid(), euid=os.geteuid(), egid=os.getegid(),
                     vdso_base=native.get(abi.AT_SYSINFO_EHDR), mmap_base=mmap_base_for(rlim),
                     random16=snap.random16(), stack_rlimit=rlim)
    assert list(plan.stack.auxv) == snap.auxv
