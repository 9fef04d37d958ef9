"""lx.loader.stack: the initial stack, checked against the kernel's own, down to the byte."""
from __future__ import annotations

import os
import resource
import struct
import subprocess

import pytest

from lx.loader import ExecError, build_auxv, build_stack, mmap_base_for, parse, plan_exec
from lx.loader.stack import MAX_ARG_STRLEN, arg_space, check_strings
from syscalls import abi

TOP = 0x7FFFFFFFF000
RANDOM = bytes(range(16))


def _auxv() -> list[tuple[int, int]]:
    return build_auxv(phdr=0x400040, phnum=10, entry=0x401000, base=0, uid=0, gid=0, vdso_base=0x7FFFF7FC8000)


def decode(img, top: int = TOP) -> dict:
    """Read an image back the way a C runtime does, starting from rsp."""
    data, base, rsp = img
    assert base == rsp

    def word(addr: int) -> int:
        return struct.unpack_from("<Q", data, addr - base)[0]

    def cstr(addr: int) -> bytes:
        off = addr - base
        return data[off:data.index(b"\0", off)]

    argc = word(rsp)
    argv = [word(rsp + 8 * (1 + i)) for i in range(argc)]
    assert word(rsp + 8 * (1 + argc)) == 0
    envp, p = [], rsp + 8 * (2 + argc)
    while word(p):
        envp.append(word(p))
        p += 8
    auxv, p = [], p + 8
    while word(p) != abi.AT_NULL:
        auxv.append((word(p), word(p + 8)))
        p += 16
    d = dict(auxv)
    return {"argv": [cstr(a) for a in argv], "envp": [cstr(a) for a in envp], "auxv": auxv,
            "argv_addrs": argv, "envp_addrs": envp, "auxv_end": p + 16,
            "execfn": cstr(d[abi.AT_EXECFN]), "platform": cstr(d[abi.AT_PLATFORM]),
            "random": data[d[abi.AT_RANDOM] - base:d[abi.AT_RANDOM] - base + 16]}


@pytest.mark.parametrize("argc", range(0, 5))
@pytest.mark.parametrize("envc", range(0, 4))
def test_layout_round_trips_and_rsp_is_aligned(argc, envc):
    argv = [b"a" * (i + 1) for i in range(argc)]
    envp = [b"E%d=%s" % (i, b"v" * i) for i in range(envc)]
    img = build_stack(TOP, argv, envp, _auxv(), b"/bin/prog", RANDOM)
    assert img.rsp % 16 == 0 and img.base + len(img.data) == TOP
    d = decode(img)
    assert d["argv"] == argv and d["envp"] == envp
    assert d["execfn"] == b"/bin/prog" and d["platform"] == b"x86_64" and d["random"] == RANDOM
    assert [t for t, _ in d["auxv"]] == [t for t, _ in _auxv()]
    # Strings: argv, envp, execfn back to back, then 8 zero bytes up to the top.
    strings = b"".join(s + b"\0" for s in (*argv, *envp, b"/bin/prog"))
    assert img.data[-8 - len(strings):] == strings + bytes(8)
    assert img.arg_start == TOP - 8 - len(strings)
    assert img.env_end == img.execfn_addr == TOP - 8 - len(b"/bin/prog\0")
    # Platform right above the random bytes, and ending on a 16-byte boundary.
    assert img.platform_addr == img.random_addr + 16 and (img.platform_addr + 7) % 16 == 0
    assert 0 <= img.random_addr - d["auxv_end"] < 16
    assert img.low == (img.arg_start & ~0xFFF) - 128 * 1024


def test_stack_rnd_shifts_only_the_tables():
    a = build_stack(TOP, [b"x"], [b"Y=1"], _auxv(), b"x", RANDOM)
    b = build_stack(TOP, [b"x"], [b"Y=1"], _auxv(), b"x", RANDOM, stack_rnd=4000)
    assert a.arg_start == b.arg_start and a.rsp - b.rsp >= 4000 - 15 and b.rsp % 16 == 0
    assert decode(b)["argv"] == [b"x"]


def test_no_platform_string():
    av = [(t, v) for t, v in _auxv() if t != abi.AT_PLATFORM]
    img = build_stack(TOP, [b"x"], [], av, b"x", RANDOM, platform=None)
    assert img.platform_addr is None and (img.random_addr + 16) % 16 == 0


def test_bad_arguments():
    with pytest.raises(ValueError):
        build_stack(TOP + 8, [b"x"], [], _auxv(), b"x", RANDOM)
    with pytest.raises(ValueError):
        build_stack(TOP, [b"x\0y"], [], _auxv(), b"x", RANDOM)
    with pytest.raises(ValueError):
        build_stack(TOP, [b"x"], [], _auxv(), b"x", b"short")


def test_argument_limits():
    assert arg_space(1, 0) == 8 * 1024 * 1024 // 4 - 8                 # rlimit / 4, less one pointer
    assert arg_space(0, 2) == 8 * 1024 * 1024 // 4 - 24                # argc counts as at least 1
    assert arg_space(1, 0, stack_rlimit=1 << 30) == 6 * 1024 * 1024 - 8  # 3/4 of _STK_LIM at most
    assert arg_space(1, 0, stack_rlimit=64 * 1024) == 131072 - 8       # ARG_MAX floor
    with pytest.raises(ExecError) as ei:
        check_strings([b"x" * MAX_ARG_STRLEN], 10 ** 9)
    assert ei.value.errno == abi.E2BIG
    check_strings([b"x" * (MAX_ARG_STRLEN - 1)], 10 ** 9)
    with pytest.raises(ExecError):
        check_strings([b"x" * 1000] * 200, 131072)


def test_e2big_like_the_kernel():
    env = [f"V{i}=" + "x" * 60000 for i in range(40)]          # 2.4 MB > 8 MiB / 4
    with pytest.raises(ExecError) as ei:
        plan_exec("/bin/true", ["true"], env)
    assert ei.value.errno == abi.E2BIG
    with pytest.raises(OSError) as native:
        subprocess.run(["/bin/true"], env=dict(e.split("=", 1) for e in env))
    assert native.value.errno == abi.E2BIG


ENV = {"LANG": "C", "LX_EMPTY": "", "LX_ODD": "x" * 37}


@pytest.mark.parametrize("argv_tail", [[], ["one"], ["a", "bb", "ccc", ""]])
def test_layout_facts_like_the_kernel(probe, run_probe, argv_tail):
    path = str(probe["dynamic"])
    rep = run_probe(path, [path, *argv_tail], ENV)
    native = {t: v for t, v, _ in rep["auxv"]}
    assert [s for _, s in rep["argv"]] == [path, *argv_tail]
    rsp = rep["rsp"]
    assert rsp % 16 == 0
    strings = [*rep["argv"], *rep["envp"]]
    for (a, s), (b, _) in zip(strings, strings[1:]):
        assert b == a + len(s.encode()) + 1                      # packed, in order
    last_a, last_s = strings[-1]
    assert native[abi.AT_EXECFN] == last_a + len(last_s.encode()) + 1
    top = native[abi.AT_EXECFN] + len(path) + 1 + 8
    assert top % 4096 == 0
    assert native[abi.AT_PLATFORM] == native[abi.AT_RANDOM] + 16 and (native[abi.AT_PLATFORM] + 7) % 16 == 0

    im = parse(path)
    av = build_auxv(phdr=im.phdr_addr, phnum=im.phnum, entry=im.entry, base=1, uid=0, gid=0,
                    vdso_base=native.get(abi.AT_SYSINFO_EHDR))
    env = [k + "=" + v for k, v in ENV.items()]
    img = build_stack(TOP, [s.encode() for s in [path, *argv_tail]], [e.encode() for e in env], av,
                      path.encode(), RANDOM)
    d = decode(img)
    # Same distances as the kernel's, measured from the top and between the tables.
    assert TOP - img.arg_start == top - rep["argv"][0][0]
    assert img.random_addr - d["auxv_end"] == native[abi.AT_RANDOM] - rep["auxv_end"]
    assert d["auxv_end"] - img.rsp == rep["auxv_end"] - rsp
    assert [t for t, _ in d["auxv"]] == [t for t, _, _ in rep["auxv"]]


def _rlimit() -> int:
    rlim = resource.getrlimit(resource.RLIMIT_STACK)[0]
    if rlim == resource.RLIM_INFINITY:
        pytest.skip("unlimited stack: the kernel uses the legacy mmap layout")
    return rlim


@pytest.mark.parametrize("kind", ["dynamic", "static", "static-pie"])
@pytest.mark.parametrize("argv_tail", [[], ["arg", "", "a b c " * 50]])
def test_byte_for_byte_like_the_kernel(probe, kernel_exec, kind, argv_tail):
    rlim = _rlimit()
    path = str(probe[kind])
    snap = kernel_exec(path, [path, *argv_tail], ENV)
    plan = plan_exec(path, [path, *argv_tail], [f"{k}={v}" for k, v in ENV.items()],
                     uid=os.getuid(), gid=os.getgid(), euid=os.geteuid(), egid=os.getegid(),
                     vdso_base=dict(snap.auxv).get(abi.AT_SYSINFO_EHDR), mmap_base=mmap_base_for(rlim),
                     random16=snap.random16(), stack_rlimit=rlim)
    assert plan.stack.rsp == snap.sp
    assert plan.stack.data == snap.stack
    assert (plan.stack.low, plan.stack.top) == (snap.stack_lo, snap.stack_hi)


def test_script_stack_byte_for_byte(tmp_path, probe, kernel_exec):
    rlim = _rlimit()
    s = tmp_path / "script"
    s.write_text(f"#!{probe['dynamic']} -opt  x\n")
    s.chmod(0o755)
    snap = kernel_exec(s, ["name", "1"], {"A": "b"})
    plan = plan_exec(str(s), ["name", "1"], ["A=b"], uid=os.getuid(), gid=os.getgid(),
                     euid=os.geteuid(), egid=os.getegid(),
                     vdso_base=dict(snap.auxv).get(abi.AT_SYSINFO_EHDR), mmap_base=mmap_base_for(rlim),
                     random16=snap.random16(), stack_rlimit=rlim)
    assert plan.argv == (bytes(probe["dynamic"]), b"-opt  x", bytes(s), b"1")
    assert plan.stack.data == snap.stack and plan.stack.rsp == snap.sp
