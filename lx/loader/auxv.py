"""The auxiliary vector a new program finds above its environment.

Built in the order fs/binfmt_elf.c create_elf_tables() uses, which glibc and
musl do not depend on but debuggers and tests do:

    ARCH_DLINFO (arch/x86/include/asm/elf.h):  AT_SYSINFO_EHDR (if the vDSO is
        mapped), AT_MINSIGSTKSZ
    AT_HWCAP AT_PAGESZ AT_CLKTCK AT_PHDR AT_PHENT AT_PHNUM AT_BASE AT_FLAGS
    AT_ENTRY AT_UID AT_EUID AT_GID AT_EGID AT_SECURE AT_RANDOM
    AT_HWCAP2 (#ifdef ELF_HWCAP2; x86 defines it)  AT_EXECFN  AT_PLATFORM
    AT_RSEQ_FEATURE_SIZE AT_RSEQ_ALIGN (CONFIG_RSEQ, Linux >= 6.3)

The CPU-dependent values (AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ, the RSEQ pair,
the AT_PLATFORM string) describe the machine the guest really runs on, so they
are copied from this process's own auxv (/proc/self/auxv); a tag the host kernel
did not give us is left out, as that kernel would leave it out.  AT_RANDOM,
AT_EXECFN and AT_PLATFORM point into the stack; they are placeholders (0) here
and stack.build_stack() fills them in.
"""
from __future__ import annotations

import functools
import os
import struct
from dataclasses import dataclass

from syscalls import abi

from .elf import PAGE_SIZE, PHENT_SIZE

__all__ = ["HostAuxv", "read_auxv", "host_auxv", "build_auxv", "CLOCKS_PER_SEC", "POINTER_TAGS"]

CLOCKS_PER_SEC = 100              # AT_CLKTCK: USER_HZ on x86 (include/asm-generic/param.h)
POINTER_TAGS = (abi.AT_RANDOM, abi.AT_EXECFN, abi.AT_PLATFORM)   # filled by build_stack


def read_auxv(path: str = "/proc/self/auxv") -> tuple[tuple[int, int], ...]:
    """The (tag, value) pairs of an auxv file, up to (not including) AT_NULL."""
    with open(path, "rb") as f:
        data = f.read()
    pairs = []
    for tag, val in struct.iter_unpack("<QQ", data[:len(data) // 16 * 16]):
        if tag == abi.AT_NULL:
            break
        pairs.append((tag, val))
    return tuple(pairs)


def _read_cstring(addr: int, limit: int = 64) -> bytes | None:
    """A NUL-terminated string in this process's own memory, via /proc/self/mem."""
    try:
        with open("/proc/self/mem", "rb", buffering=0) as mem:
            mem.seek(addr)
            data = mem.read(limit)
    except (OSError, ValueError, OverflowError):
        return None
    end = data.find(b"\0")
    return data[:end] if end >= 0 else None


@dataclass(frozen=True, slots=True)
class HostAuxv:
    """The CPU- and kernel-dependent auxv values of the host; None where the host gave none."""

    hwcap: int
    hwcap2: int | None
    minsigstksz: int | None
    rseq_feature_size: int | None
    rseq_align: int | None
    platform: bytes | None


@functools.cache
def host_auxv() -> HostAuxv:
    """Read (once) what the host kernel told this process about the CPU.

    AT_PLATFORM is ELF_PLATFORM = utsname()->machine on x86; its string is read
    from our own stack, falling back to os.uname().machine.
    """
    got = dict(read_auxv())
    platform = None
    if abi.AT_PLATFORM in got:
        platform = _read_cstring(got[abi.AT_PLATFORM]) or os.uname().machine.encode()
    return HostAuxv(
        hwcap=got.get(abi.AT_HWCAP, 0),
        hwcap2=got.get(abi.AT_HWCAP2),
        minsigstksz=got.get(abi.AT_MINSIGSTKSZ),
        rseq_feature_size=got.get(abi.AT_RSEQ_FEATURE_SIZE),
        rseq_align=got.get(abi.AT_RSEQ_ALIGN),
        platform=platform,
    )


def build_auxv(*, phdr: int, phnum: int, entry: int, base: int, uid: int, gid: int,
               euid: int | None = None, egid: int | None = None, secure: bool = False,
               vdso_base: int | None = None, flags: int = 0,
               host: HostAuxv | None = None) -> list[tuple[int, int]]:
    """The auxv pairs for one exec, without AT_NULL, in create_elf_tables() order.

    ``phdr``/``phnum``/``entry`` are the main program's (AT_PHDR is biased,
    AT_ENTRY is the program's entry, not the interpreter's); ``base`` is the
    interpreter's load address (0 without one).  ``vdso_base`` None leaves out
    AT_SYSINFO_EHDR, as a kernel booted with vdso=0 does.  ``flags`` is AT_FLAGS
    (only binfmt_misc's P flag ever sets a bit, AT_FLAGS_PRESERVE_ARGV0).
    AT_RANDOM/AT_EXECFN/AT_PLATFORM are 0 until build_stack() places them; AT_PLATFORM
    is present only if the host has a platform string.
    """
    host = host or host_auxv()
    av: list[tuple[int, int]] = []
    if vdso_base is not None:
        av.append((abi.AT_SYSINFO_EHDR, vdso_base))
    if host.minsigstksz is not None:
        av.append((abi.AT_MINSIGSTKSZ, host.minsigstksz))
    av += [
        (abi.AT_HWCAP, host.hwcap),
        (abi.AT_PAGESZ, PAGE_SIZE),            # ELF_EXEC_PAGESIZE
        (abi.AT_CLKTCK, CLOCKS_PER_SEC),
        (abi.AT_PHDR, phdr),
        (abi.AT_PHENT, PHENT_SIZE),            # sizeof(struct elf_phdr)
        (abi.AT_PHNUM, phnum),
        (abi.AT_BASE, base),
        (abi.AT_FLAGS, flags),
        (abi.AT_ENTRY, entry),
        (abi.AT_UID, uid),
        (abi.AT_EUID, uid if euid is None else euid),
        (abi.AT_GID, gid),
        (abi.AT_EGID, gid if egid is None else egid),
        (abi.AT_SECURE, int(bool(secure))),
        (abi.AT_RANDOM, 0),
    ]
    if host.hwcap2 is not None:
        av.append((abi.AT_HWCAP2, host.hwcap2))
    av.append((abi.AT_EXECFN, 0))
    if host.platform is not None:
        av.append((abi.AT_PLATFORM, 0))
    if host.rseq_feature_size is not None:
        av.append((abi.AT_RSEQ_FEATURE_SIZE, host.rseq_feature_size))
    if host.rseq_align is not None:
        av.append((abi.AT_RSEQ_ALIGN, host.rseq_align))
    return av
