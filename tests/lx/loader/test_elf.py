"""lx.loader.elf: program headers of real binaries, against readelf and the kernel's rules."""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from lx.loader import ELFError, ExecError, cache_clear, cache_info, parse, parse_cached
from lx.loader.elf import ET_DYN, ET_EXEC
from syscalls import abi


def readelf_loads(path: str | Path) -> list[tuple[int, int, int, int, str, int]]:
    """(offset, vaddr, filesz, memsz, flags, align) of each LOAD line of ``readelf -lW``."""
    if shutil.which("readelf") is None:
        pytest.skip("readelf is not installed")
    out = subprocess.run(["readelf", "-lW", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for m in re.finditer(r"^\s+LOAD\s+(0x\w+)\s+(0x\w+)\s+0x\w+\s+(0x\w+)\s+(0x\w+)\s+([RWE ]+?)\s+(0x\w+)$",
                         out, re.M):
        off, va, fs, ms, flg, al = m.groups()
        rows.append((int(off, 16), int(va, 16), int(fs, 16), int(ms, 16), flg.replace(" ", ""), int(al, 16)))
    return rows


def flags_str(flags: int) -> str:
    return ("R" if flags & 4 else "") + ("W" if flags & 2 else "") + ("E" if flags & 1 else "")


def test_bin_ls_is_a_dynamic_pie():
    im = parse("/bin/ls")
    assert im.e_type == ET_DYN and im.pie and im.kind == "dynamic"
    assert im.interp == b"/lib64/ld-linux-x86-64.so.2"
    assert im.phentsize == 56 and im.phoff == 64
    assert im.phdr_vaddr == im.phdr_addr == 64
    assert not im.exec_stack and im.gnu_stack is not None
    rows = readelf_loads("/bin/ls")
    assert [(s.offset, s.vaddr, s.filesz, s.memsz, flags_str(s.flags), s.align) for s in im.segments] == rows


def test_prot_follows_flags():
    im = parse("/bin/ls")
    texts = [s for s in im.segments if s.flags & 1]
    assert texts and all(s.prot == abi.PROT_READ | abi.PROT_EXEC for s in texts)
    data = im.segments[-1]
    assert data.prot == abi.PROT_READ | abi.PROT_WRITE and data.memsz > data.filesz


def test_busybox():
    path = "/bin/busybox"
    if not os.path.exists(path):
        pytest.skip("busybox-static is not installed")
    desc = subprocess.run(["file", "-L", path], capture_output=True, text=True).stdout
    im = parse(path)
    assert im.interp is None
    if "static-pie" in desc:
        assert (im.e_type, im.kind) == (ET_DYN, "static-pie")
    else:                                   # Debian's busybox-static: a plain ET_EXEC
        assert "statically linked" in desc
        assert (im.e_type, im.kind) == (ET_EXEC, "static")
        assert im.segments[0].vaddr >= 0x400000
    assert [(s.offset, s.vaddr, s.filesz, s.memsz) for s in im.segments] == \
        [r[:4] for r in readelf_loads(path)]


def test_static_and_static_pie_built_here(probe):
    st = parse(probe["static"])
    assert (st.e_type, st.kind, st.interp, st.tls) == (ET_EXEC, "static", None, True)
    sp = parse(probe["static-pie"])
    assert (sp.e_type, sp.kind, sp.interp, sp.tls) == (ET_DYN, "static-pie", None, True)
    dyn = parse(probe["dynamic"])
    assert dyn.kind == "dynamic" and dyn.interp.startswith(b"/lib")
    for p, im in ((probe["static"], st), (probe["static-pie"], sp)):
        assert [(s.offset, s.vaddr, s.filesz, s.memsz, flags_str(s.flags), s.align) for s in im.segments] == \
            readelf_loads(p)


def test_exec_stack_flag(cbuild):
    exe = cbuild("execstack", "int main(void){return 0;}\n", "-z", "execstack")
    assert parse(exe).exec_stack
    assert not parse("/bin/ls").exec_stack


@pytest.mark.parametrize("content", [b"", b"\x7fEL", b"hello world\n", b"#!/bin/sh\n", b"\x7fELF"])
def test_not_elf_is_enoexec(tmp_path, content):
    f = tmp_path / "f"
    f.write_bytes(content)
    with pytest.raises(ELFError) as ei:
        parse(f)
    assert ei.value.errno == abi.ENOEXEC


def test_object_file_is_not_executable(cbuild, tmp_path):
    src = tmp_path / "o.c"
    src.write_text("int f(void){return 1;}\n")
    subprocess.run(["gcc", "-c", "-o", str(tmp_path / "o.o"), str(src)], check=True)
    with pytest.raises(ELFError, match="ET_REL") as ei:
        parse(tmp_path / "o.o")
    assert ei.value.errno == abi.ENOEXEC


def _patched_copy(tmp_path: Path, name: str, patches: dict[int, bytes], src: str = "/bin/true") -> Path:
    data = bytearray(Path(src).read_bytes())
    for off, b in patches.items():
        data[off:off + len(b)] = b
    out = tmp_path / name
    out.write_bytes(data)
    out.chmod(0o755)
    return out


@pytest.mark.parametrize("patch", [
    {0x28: bytes(8), 0x3C: bytes(2)},                                       # e_shoff = e_shnum = 0
    {0x28: struct.pack("<Q", 0xDEADBEEF00), 0x3C: b"\xff\xff", 0x3E: b"\x34\x12"},   # garbage
])
def test_corrupt_section_headers_still_parse(tmp_path, patch):
    exe = _patched_copy(tmp_path, "true", patch)
    good = parse("/bin/true")
    assert parse(exe) == good
    assert subprocess.run([str(exe)]).returncode == 0        # the kernel does not care either


def _binfmt_misc_handlers() -> list[str]:
    d = Path("/proc/sys/fs/binfmt_misc")
    try:
        return [p.name for p in d.iterdir() if p.name not in ("register", "status")]
    except OSError:
        return []


@pytest.mark.parametrize("machine, message", [
    (3, "32-bit ELF (i386) is not supported yet"),
    (183, "arm64 ELF is not supported yet"),
    (40, "32-bit ELF (arm) is not supported yet"),
])
def test_foreign_machine_is_refused_clearly(tmp_path, machine, message):
    exe = _patched_copy(tmp_path, "foreign", {18: struct.pack("<H", machine)})
    with pytest.raises(ELFError) as ei:
        parse(exe)
    assert str(ei.value) == message
    assert ei.value.errno == abi.ENOEXEC
    if _binfmt_misc_handlers():
        return                      # e.g. qemu-user would take the file: no native ENOEXEC to compare
    with pytest.raises(OSError) as native:              # the kernel says ENOEXEC too
        subprocess.run([str(exe)])
    assert native.value.errno == abi.ENOEXEC


def test_32bit_class_is_refused(tmp_path):
    exe = _patched_copy(tmp_path, "x32", {4: b"\x01"})
    with pytest.raises(ELFError, match=r"^32-bit ELF \(x32\) is not supported yet$"):
        parse(exe)


@pytest.mark.parametrize("patch, what", [
    ({0x36: struct.pack("<H", 32)}, "e_phentsize"),
    ({0x38: struct.pack("<H", 0)}, "e_phnum"),
    ({0x38: struct.pack("<H", 100)}, "e_phnum"),
    ({0x20: struct.pack("<Q", 1 << 40)}, "past the end"),
])
def test_bad_program_headers_are_enoexec(tmp_path, patch, what):
    exe = _patched_copy(tmp_path, "bad", patch)
    with pytest.raises(ELFError, match=what) as ei:
        parse(exe)
    assert ei.value.errno == abi.ENOEXEC


def test_missing_file_is_enoent(tmp_path):
    with pytest.raises(ExecError) as ei:
        parse(tmp_path / "nope")
    assert ei.value.errno == abi.ENOENT


def test_cache_reuses_and_notices_changes(tmp_path):
    cache_clear()
    exe = tmp_path / "t"
    shutil.copy("/bin/true", exe)
    a = parse_cached(exe)
    b = parse_cached(str(exe).encode())
    assert a is b
    fd = os.open(exe, os.O_RDONLY)
    try:
        assert parse_cached(fd) is a
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0            # read with pread: offset untouched
    finally:
        os.close(fd)
    assert cache_info()["hits"] == 2 and cache_info()["misses"] == 1
    shutil.copy("/bin/ls", exe)                               # same inode, new content
    c = parse_cached(exe)
    assert c is not a and c == parse("/bin/ls")
    assert cache_info()["misses"] == 2


def test_cache_refuses_directories(tmp_path):
    with pytest.raises(ExecError) as ei:
        parse_cached(tmp_path)
    assert ei.value.errno == abi.EACCES
