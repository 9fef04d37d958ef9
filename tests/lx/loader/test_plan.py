"""lx.loader.plan: placement, mappings, bss, brk and entry, against the kernel's own exec."""
from __future__ import annotations

import os
import resource
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from lx.loader import ELF_ET_DYN_BASE, ExecError, LoadPlan, mmap_base_for, parse, plan_exec
from lx.loader.elf import PAGE_SIZE, page_align, page_start
from syscalls import abi

RANDOM = bytes(16)
R, W, X = abi.PROT_READ, abi.PROT_WRITE, abi.PROT_EXEC


def _ranges(mappings, bias: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted((bias + m.addr, bias + m.addr + m.length) for m in mappings if m.op != "zero"):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _check_image(img) -> None:
    """Mappings cover exactly the page-rounded PT_LOAD segments, with the right bss handling."""
    segs = img.elf.segments
    want = _ranges([type("M", (), {"op": "x", "addr": page_start(s.vaddr),
                                   "length": page_align(s.end) - page_start(s.vaddr)})() for s in segs], 0)
    assert _ranges(img.mappings, 0) == want
    files = [m for m in img.mappings if m.op == "file"]
    assert len(files) == sum(1 for s in segs if s.filesz)
    for s, m in zip((s for s in segs if s.filesz), files):
        assert m.addr == page_start(s.vaddr) and m.addr % PAGE_SIZE == 0 and m.length % PAGE_SIZE == 0
        assert m.addr + m.length == page_align(s.vaddr + s.filesz)
        assert m.offset == page_start(s.offset) and m.prot == s.prot
    for s in segs:
        if s.memsz > s.filesz:
            zero = [m for m in img.mappings if m.op == "zero" and m.addr == s.vaddr + s.filesz]
            if (s.vaddr + s.filesz) % PAGE_SIZE and s.prot & W:
                assert zero and zero[0].addr + zero[0].length == page_align(s.vaddr + s.filesz)
            anon = [m for m in img.mappings if m.op == "anon" and m.addr == page_align(s.vaddr + s.filesz)]
            if page_align(s.end) > page_align(s.vaddr + s.filesz):
                assert anon and anon[0].addr + anon[0].length == page_align(s.end)
                assert anon[0].prot == R | W | (s.prot & X)


def test_bin_ls():
    plan = plan_exec("/bin/ls", ["ls", "-l"], ["A=1"], random16=RANDOM)
    assert plan.program.bias == 0x555555554000 and plan.program.elf.kind == "dynamic"
    _check_image(plan.program)
    assert plan.interp is not None and plan.interp.path == b"/lib64/ld-linux-x86-64.so.2"
    _check_image(plan.interp)
    assert plan.program.span == page_align(plan.program.elf.total_mapping_size)
    # ld.so goes wherever mmap puts it: the entry and AT_BASE wait for its bias.
    assert plan.interp.bias is None and plan.entry_image == "interp"
    assert plan.entry == plan.interp.elf.entry
    assert [f.image for f in plan.fixups] == ["interp"]
    assert plan.fixups[0].offset == plan.stack.auxv_value_offset(abi.AT_BASE)
    assert plan.brk == page_align(0x555555554000 + plan.program.elf.brk_end)
    av = dict(plan.stack.auxv)
    assert av[abi.AT_ENTRY] == 0x555555554000 + plan.program.elf.entry
    assert av[abi.AT_PHDR] == 0x555555554040 and av[abi.AT_PHNUM] == plan.program.elf.phnum
    assert plan.argv == (b"ls", b"-l") and plan.execfn == b"/bin/ls" and not plan.stack_exec
    data = plan.program.mappings
    assert [m.op for m in data][-2:] == ["zero", "anon"]       # ls has a .bss past its file page


def test_pie_bias_rule():
    im = parse("/bin/ls")
    assert ELF_ET_DYN_BASE == 0x555555554AAA
    for rnd in (0, 0x7000, 0x12345000):
        plan = plan_exec("/bin/ls", ["ls"], [], pie_rnd=rnd, random16=RANDOM)
        assert plan.program.bias == page_start(((ELF_ET_DYN_BASE + rnd) & ~(im.max_align - 1)) - im.first_vaddr)


def test_brk_rules(probe):
    st = plan_exec(str(probe["static"]), ["p"], [], random16=RANDOM)
    assert st.program.bias == 0 and st.brk == page_align(st.program.elf.brk_end) and st.program.span == 0
    sp = plan_exec(str(probe["static-pie"]), ["p"], [], random16=RANDOM)
    assert sp.brk == 0x555555555000                            # moved to ELF_ET_DYN_BASE
    rnd = plan_exec(str(probe["static"]), ["p"], [], random16=RANDOM, brk_rnd=0x5000)
    assert rnd.brk == st.brk + PAGE_SIZE + 0x5000              # gap page + randomization
    rnd = plan_exec(str(probe["static-pie"]), ["p"], [], random16=RANDOM, brk_rnd=0x5000)
    assert rnd.brk == sp.brk + 0x5000                          # moved: no gap


def _apply(plan: LoadPlan, biases: dict[str, int]) -> bytes:
    data = bytearray(plan.stack.data)
    for f in plan.fixups:
        (v,) = struct.unpack_from("<Q", data, f.offset)
        struct.pack_into("<Q", data, f.offset, v + biases[f.image])
    return bytes(data)


@pytest.mark.parametrize("kind", ["dynamic", "static-pie"])
def test_fixups_equal_a_known_bias(probe, kind):
    path = str(probe[kind])
    loose = plan_exec(path, [path], ["A=1"], random16=RANDOM)
    fixed = plan_exec(path, [path], ["A=1"], random16=RANDOM, mmap_base=mmap_base_for())
    image = "interp" if kind == "dynamic" else "program"
    bias = (fixed.interp if kind == "dynamic" else fixed.program).bias
    assert bias is not None and not fixed.fixups and fixed.entry_image is None
    assert loose.entry_image == image
    assert loose.entry + bias == fixed.entry
    assert _apply(loose, {image: bias}) == fixed.stack.data


def test_script_plan(tmp_path):
    s = tmp_path / "s"
    s.write_text("#!/bin/sh -e\necho hi\n")
    s.chmod(0o755)
    plan = plan_exec(str(s), ["s", "x"], [], random16=RANDOM)
    assert plan.argv == (b"/bin/sh", b"-e", bytes(s), b"x")
    assert plan.scripts == (bytes(s),) and plan.execfn == bytes(s)
    assert plan.program.path == b"/bin/sh"


def _patched_interp(tmp_path: Path, new: bytes) -> Path:
    data = Path("/bin/true").read_bytes()
    old = parse("/bin/true").interp + b"\0"
    assert len(new) + 1 <= len(old)
    exe = tmp_path / "t"
    exe.write_bytes(data.replace(old, new + b"\0" * (len(old) - len(new)), 1))
    exe.chmod(0o755)
    return exe


def test_missing_elf_interpreter_is_enoent(tmp_path):
    exe = _patched_interp(tmp_path, b"/nonexistent/ld.so")
    with pytest.raises(ExecError) as ei:
        plan_exec(str(exe), ["t"], [])
    assert ei.value.errno == abi.ENOENT
    with pytest.raises(OSError) as native:
        subprocess.run([str(exe)])
    assert native.value.errno == abi.ENOENT


@pytest.mark.parametrize("content, mode, errno", [
    (b"not an elf\n", 0o755, abi.ELIBBAD),
    (None, 0o644, abi.EACCES),
])
def test_bad_elf_interpreter(tmp_path, content, mode, errno):
    fake = tmp_path / "ld.so"
    if content is None:
        shutil.copy("/lib64/ld-linux-x86-64.so.2", fake)
    else:
        fake.write_bytes(content)
    fake.chmod(mode)

    def resolve(p: bytes) -> bytes:
        return bytes(fake) if p.startswith(b"/lib64/ld-linux") else p

    with pytest.raises(ExecError) as ei:
        plan_exec("/bin/true", ["true"], [], resolve=resolve)
    assert ei.value.errno == errno


PERMS = {0: "---p", R: "r--p", R | W: "rw-p", R | X: "r-xp", R | W | X: "rwxp", X: "--xp"}


def _expected_vmas(plan: LoadPlan) -> list[tuple[int, int, str, int, int]]:
    """The VMAs the plan's mappings leave, merged the way /proc/PID/maps shows them."""
    pages: dict[int, tuple[str, int, int]] = {}              # page -> (perms, inode, offset)
    for img in (plan.program, plan.interp):
        if img is None:
            continue
        ino = os.stat(img.host_path).st_ino
        for m in img.mappings:
            if m.op == "zero":
                continue
            for i in range(0, m.length, PAGE_SIZE):
                pages[img.bias + m.addr + i] = (PERMS[m.prot], ino if m.op == "file" else 0,
                                                m.offset + i if m.op == "file" else 0)
    vmas: list[list] = []
    for page in sorted(pages):
        perms, ino, off = pages[page]
        if vmas and vmas[-1][1] == page and vmas[-1][2] == perms and vmas[-1][4] == ino and \
                (ino == 0 or vmas[-1][3] + (page - vmas[-1][0]) == off):
            vmas[-1][1] = page + PAGE_SIZE
        else:
            vmas.append([page, page + PAGE_SIZE, perms, off, ino])
    return [tuple(v) for v in vmas]


@pytest.fixture(scope="session")
def pie_2m(cbuild):
    return cbuild("pie2m", "int main(void){return 0;}\n", "-Wl,-z,max-page-size=0x200000")


@pytest.fixture(scope="session")
def execstack(cbuild):
    return cbuild("execstack", "int main(void){return 0;}\n", "-z", "execstack")


@pytest.mark.parametrize("which", ["dynamic", "static", "static-pie", "pie2m", "execstack", "/bin/ls", "/bin/busybox"])
def test_memory_like_the_kernel(probe, pie_2m, execstack, kernel_exec, which):
    rlim = resource.getrlimit(resource.RLIMIT_STACK)[0]
    if rlim == resource.RLIM_INFINITY:
        pytest.skip("unlimited stack: the kernel uses the legacy mmap layout")
    path = {"pie2m": str(pie_2m), "execstack": str(execstack), **{k: str(v) for k, v in probe.items()}}.get(which, which)
    if not os.path.exists(path):
        pytest.skip(f"{path} is not installed")
    env = {"HOME": "/", "X": "1"}
    snap = kernel_exec(path, [path, "--version"], env)
    plan = plan_exec(path, [path, "--version"], [f"{k}={v}" for k, v in env.items()],
                     uid=os.getuid(), gid=os.getgid(), euid=os.geteuid(), egid=os.getegid(),
                     vdso_base=dict(snap.auxv).get(abi.AT_SYSINFO_EHDR), mmap_base=mmap_base_for(rlim),
                     random16=snap.random16(), stack_rlimit=rlim)
    want = _expected_vmas(plan)
    special = ("[stack]", "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[heap]")
    got = [(lo, hi, perms, off if ino else 0, ino) for lo, hi, perms, off, ino, name in snap.maps
           if name not in special]
    assert got == want
    assert snap.pc == plan.entry and snap.sp == plan.stack.rsp
    mm = plan.mm
    assert [snap.stat_field(n) for n in (26, 27, 28, 45, 46, 47, 48, 49, 50, 51)] == [
        mm.start_code, mm.end_code, mm.start_stack, mm.start_data, mm.end_data, mm.start_brk,
        mm.arg_start, mm.arg_end, mm.env_start, mm.env_end]
    assert plan.stack.data == snap.stack
    stack_perms = next(m[2] for m in snap.maps if m[5] == "[stack]")
    assert stack_perms == ("rwxp" if plan.stack_exec else "rw-p")
    assert plan.stack_exec == (which == "execstack")
    if which == "pie2m":
        assert plan.program.bias == 0x555555400000                  # aligned to its 2 MiB p_align
