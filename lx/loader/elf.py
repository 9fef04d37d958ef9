"""ELF executables as the exec loader sees them: program headers only.

What the kernel's ``load_elf_binary`` (fs/binfmt_elf.c) reads before it maps
anything -- the ELF header, the program header table, PT_INTERP, PT_GNU_STACK --
parsed with pyelftools into a frozen :class:`ElfImage`.  Section headers are
never needed to load a program (the kernel ignores them), so, as angr CLE does
when it retries with them blanked, the stream handed to pyelftools always shows
e_shoff/e_shnum/e_shstrndx as zero: a binary whose section headers are stripped
or corrupt still loads, exactly as it does natively.

The checks are the kernel's (load_elf_binary, load_elf_phdrs), so a file the
kernel refuses is refused here with the same errno.  Only x86-64 is supported;
other machines get a :class:`ELFError` whose message says so plainly.

Parsed images are cached by file identity (:func:`parse_cached`), so that exec
-heavy workloads (configure, make) do not re-parse /bin/sh for every command.
"""
from __future__ import annotations

import contextlib
import io
import os
import stat as _stat
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from elftools.common.exceptions import ELFError as _PyELFError
from elftools.common.exceptions import ELFParseError as _PyELFParseError
from elftools.construct import ConstructError as _ConstructError
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_E_MACHINE, ENUM_E_TYPE

from syscalls import abi
from syscalls.registry import LinuxError

__all__ = [
    "ExecError", "ELFError", "Segment", "ElfImage", "parse", "parse_cached", "cache_clear", "cache_info",
    "PAGE_SIZE", "page_start", "page_offset", "page_align", "ET_EXEC", "ET_DYN", "PHENT_SIZE",
]

# x86-64: ELF_EXEC_PAGESIZE == PAGE_SIZE == 4096, so ELF_MIN_ALIGN is one page
# (fs/binfmt_elf.c: "#define ELF_MIN_ALIGN ELF_EXEC_PAGESIZE" / PAGE_SIZE).
PAGE_SIZE = 4096
PHENT_SIZE = 56                   # sizeof(Elf64_Phdr); load_elf_phdrs insists on it
EHDR_SIZE = 64                    # sizeof(Elf64_Ehdr)
PATH_MAX = 4096                   # PT_INTERP longer than this is ENOEXEC (load_elf_binary)
ET_EXEC = ENUM_E_TYPE["ET_EXEC"]
ET_DYN = ENUM_E_TYPE["ET_DYN"]
_EM_X86_64 = ENUM_E_MACHINE["EM_X86_64"]
_ELFMAG = b"\x7fELF"
_ELFCLASS32, _ELFCLASS64 = 1, 2
_ELFDATA2LSB = 1
# TASK_SIZE with 4-level paging (arch/x86/include/asm/page_64_types.h: TASK_SIZE_MAX =
# (1 << 47) - PAGE_SIZE); a segment that does not fit below it fails with EINVAL.
_TASK_SIZE = (1 << 47) - PAGE_SIZE


def page_start(v: int) -> int:
    """ELF_PAGESTART: round down to a page boundary."""
    return v & ~(PAGE_SIZE - 1)


def page_offset(v: int) -> int:
    """ELF_PAGEOFFSET: the offset of ``v`` inside its page."""
    return v & (PAGE_SIZE - 1)


def page_align(v: int) -> int:
    """ELF_PAGEALIGN: round up to a page boundary."""
    return page_start(v + PAGE_SIZE - 1)


class ExecError(LinuxError):
    """execve(2) fails with ``errno`` (a Linux value); ``str()`` is the reason for a person.

    A :class:`syscalls.registry.LinuxError`, so the dispatcher turns it into ``-errno``.
    """

    def __init__(self, errno: int, msg: str = "") -> None:
        super().__init__(errno, msg)
        self.msg = msg

    def __str__(self) -> str:
        return self.msg or abi.errno_name(self.errno)


class ELFError(ExecError):
    """The file is not an ELF executable lx can load (errno ENOEXEC unless said otherwise)."""

    def __init__(self, msg: str, errno: int = abi.ENOEXEC) -> None:
        super().__init__(errno, msg)


# Machines a user is likely to meet, by the name they know them by.  Those that
# only exist as 32-bit get "32-bit ELF (name)" whatever EI_CLASS says.
_MACHINES: dict[int, tuple[str, bool]] = {
    ENUM_E_MACHINE[em]: (name, only32) for em, name, only32 in (
        ("EM_386", "i386", True), ("EM_ARM", "arm", True), ("EM_PPC", "powerpc", True),
        ("EM_AARCH64", "arm64", False), ("EM_RISCV", "riscv", False), ("EM_PPC64", "ppc64", False),
        ("EM_S390", "s390", False), ("EM_MIPS", "mips", False), ("EM_SPARCV9", "sparc64", False),
        ("EM_IA_64", "ia64", False), ("EM_X86_64", "x32", False))   # x86-64 only gets here as ELFCLASS32
}
_MACHINES[258] = ("loongarch", False)               # EM_LOONGARCH, newer than pyelftools' table


def _check_ident(hdr: bytes) -> None:
    """Refuse anything but a little-endian ELFCLASS64 EM_X86_64 file (elf_check_arch)."""
    if len(hdr) < 4 or hdr[:4] != _ELFMAG:
        raise ELFError("not an ELF file")
    if len(hdr) < 20:
        raise ELFError("truncated ELF header")
    ei_class, ei_data = hdr[4], hdr[5]
    machine = struct.unpack_from("<H" if ei_data == _ELFDATA2LSB else ">H", hdr, 18)[0]
    if ei_class == _ELFCLASS64 and ei_data == _ELFDATA2LSB and machine == _EM_X86_64:
        return
    name, only32 = _MACHINES.get(machine, (f"machine {machine:#x}", False))
    if machine == _EM_X86_64 and ei_class == _ELFCLASS64:
        raise ELFError("big-endian x86-64 ELF header: corrupt file")
    if only32 or ei_class == _ELFCLASS32:
        raise ELFError(f"32-bit ELF ({name}) is not supported yet")
    raise ELFError(f"{name} ELF is not supported yet")


class _PhdrOnlyStream(io.RawIOBase):
    """The file at ``fd`` read with pread, its section-header fields shown as zero.

    pyelftools reads section headers as soon as an ELFFile is built; blanking
    e_shoff/e_shentsize/e_shnum/e_shstrndx (Elf64_Ehdr offsets 0x28, 0x3a-0x3f)
    keeps it to the program headers, the part the kernel uses.
    """

    def __init__(self, fd: int, ehdr: bytes) -> None:
        super().__init__()
        patched = bytearray(ehdr[:EHDR_SIZE])
        if len(patched) == EHDR_SIZE:
            patched[0x28:0x30] = bytes(8)
            patched[0x3A:0x40] = bytes(6)
        self._fd, self._head, self._pos = fd, bytes(patched), 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._pos
        elif whence == os.SEEK_END:
            offset += os.fstat(self._fd).st_size
        if offset < 0:
            raise ValueError("negative seek position")
        self._pos = offset
        return offset

    def readinto(self, buf) -> int:  # type: ignore[override]
        want = len(buf)
        data = os.pread(self._fd, want, self._pos)
        if self._pos < len(self._head):
            head = self._head[self._pos:self._pos + len(data)]
            data = head + data[len(head):]
        buf[:len(data)] = data
        self._pos += len(data)
        return len(data)


@dataclass(frozen=True, slots=True)
class Segment:
    """One PT_LOAD program header (link-time values; add the load bias for addresses)."""

    vaddr: int
    memsz: int
    filesz: int
    offset: int
    flags: int                    # PF_R | PF_W | PF_X
    align: int

    @property
    def prot(self) -> int:
        """mmap protection for this segment (binfmt_elf.c make_prot; x86 adds nothing)."""
        prot = abi.PROT_READ if self.flags & P_FLAGS.PF_R else 0
        prot |= abi.PROT_WRITE if self.flags & P_FLAGS.PF_W else 0
        prot |= abi.PROT_EXEC if self.flags & P_FLAGS.PF_X else 0
        return prot

    @property
    def end(self) -> int:
        """First address past the segment in memory (vaddr + memsz)."""
        return self.vaddr + self.memsz


@dataclass(frozen=True, slots=True)
class ElfImage:
    """An x86-64 ELF executable, from its ELF header and program headers only."""

    e_type: int                   # ET_EXEC or ET_DYN
    entry: int                    # e_entry (link-time)
    phoff: int
    phentsize: int
    phnum: int
    segments: tuple[Segment, ...]  # PT_LOAD, in program-header order
    interp: bytes | None          # PT_INTERP path, up to its first NUL
    gnu_stack: int | None         # p_flags of the last PT_GNU_STACK, None if there is none
    tls: bool                     # has PT_TLS
    phdr_vaddr: int | None        # p_vaddr of PT_PHDR, None if there is none

    @property
    def pie(self) -> bool:
        """ET_DYN: loaded at a bias chosen at exec time."""
        return self.e_type == ET_DYN

    @property
    def kind(self) -> Literal["static", "static-pie", "dynamic"]:
        """"dynamic" if it names an interpreter, else "static-pie" (ET_DYN) or "static"."""
        if self.interp is not None:
            return "dynamic"
        return "static-pie" if self.pie else "static"

    @property
    def exec_stack(self) -> bool:
        """Whether the stack is executable: PT_GNU_STACK with PF_X.

        Without PT_GNU_STACK (EXSTACK_DEFAULT) x86-64 still gets a non-executable
        stack: elf_read_implies_exec() is true only for 32-bit (arch/x86/include/asm/elf.h).
        """
        return bool(self.gnu_stack is not None and self.gnu_stack & P_FLAGS.PF_X)

    @property
    def phdr_addr(self) -> int:
        """Link-time address of the program headers as AT_PHDR reports it.

        The kernel (since 5.18, load_elf_binary) finds the PT_LOAD whose file
        range holds e_phoff and translates; PT_PHDR is not consulted.  0 when no
        segment maps the headers (the kernel then reports just the load bias).
        """
        for s in self.segments:
            if s.offset <= self.phoff < s.offset + s.filesz:
                return self.phoff - s.offset + s.vaddr
        return 0

    @property
    def first_vaddr(self) -> int:
        """p_vaddr of the first PT_LOAD: the kernel biases ET_DYN against it."""
        return self.segments[0].vaddr

    @property
    def total_mapping_size(self) -> int:
        """binfmt_elf.c total_mapping_size(): span from the lowest page to the highest end."""
        lo = min(page_start(s.vaddr) for s in self.segments)
        return max(s.end for s in self.segments) - lo

    @property
    def max_align(self) -> int:
        """binfmt_elf.c maximum_alignment(): largest power-of-two p_align, at least a page."""
        align = 0
        for s in self.segments:
            if s.align and s.align & (s.align - 1) == 0:
                align = max(align, s.align)
        return page_align(align)

    @property
    def brk_end(self) -> int:
        """Link-time end of the highest segment (load_elf_binary's elf_brk)."""
        return max(s.end for s in self.segments)


def _corrupt(msg: str) -> ELFError:
    return ELFError(f"corrupt ELF file: {msg}")


def _parse_fd(fd: int) -> ElfImage:
    """Parse the open file ``fd`` (read with pread; its offset is untouched)."""
    ehdr = os.pread(fd, EHDR_SIZE, 0)
    _check_ident(ehdr)
    if len(ehdr) < EHDR_SIZE:
        raise _corrupt("truncated ELF header")
    try:
        elf = ELFFile(_PhdrOnlyStream(fd, ehdr))
        h = elf.header
        e_type = ENUM_E_TYPE.get(h["e_type"], h["e_type"]) if isinstance(h["e_type"], str) else h["e_type"]
        if e_type not in (ET_EXEC, ET_DYN):
            kind = h["e_type"] if isinstance(h["e_type"], str) else f"e_type {e_type}"
            raise ELFError(f"{kind} file is not an executable")
        # load_elf_phdrs: the table must be Elf64_Phdr-sized entries, 1..4096 bytes.
        if h["e_phentsize"] != PHENT_SIZE:
            raise _corrupt(f"e_phentsize {h['e_phentsize']} (want {PHENT_SIZE})")
        if not 0 < h["e_phnum"] * PHENT_SIZE <= PAGE_SIZE:
            raise _corrupt(f"e_phnum {h['e_phnum']}")
        if os.fstat(fd).st_size < h["e_phoff"] + h["e_phnum"] * PHENT_SIZE:
            raise _corrupt("program headers past the end of the file")
        loads: list[Segment] = []
        interp: bytes | None = None
        gnu_stack: int | None = None
        tls = False
        phdr_vaddr: int | None = None
        for seg in elf.iter_segments():
            p = seg.header
            ptype = p["p_type"]
            if ptype == "PT_LOAD":
                s = Segment(p["p_vaddr"], p["p_memsz"], p["p_filesz"], p["p_offset"], p["p_flags"], p["p_align"])
                _check_segment(s)
                loads.append(s)
            elif ptype == "PT_INTERP" and interp is None:   # the kernel takes the first
                interp = _read_interp(fd, p["p_offset"], p["p_filesz"])
            elif ptype == "PT_GNU_STACK":                   # ... and the last of these
                gnu_stack = p["p_flags"]
            elif ptype == "PT_TLS":
                tls = True
            elif ptype == "PT_PHDR":
                phdr_vaddr = p["p_vaddr"]
    except (_PyELFError, _PyELFParseError, _ConstructError, struct.error) as e:
        raise _corrupt(str(e) or type(e).__name__) from None
    if not loads:
        # The kernel would fail later (EINVAL for ET_DYN, a crash for ET_EXEC).
        raise _corrupt("no PT_LOAD segment")
    return ElfImage(e_type, h["e_entry"], h["e_phoff"], h["e_phentsize"], h["e_phnum"], tuple(loads),
                    interp, gnu_stack, tls, phdr_vaddr)


def _check_segment(s: Segment) -> None:
    """load_elf_binary/load_elf_interp's per-segment sanity checks, plus mmap's offset rule."""
    if s.filesz > s.memsz:
        raise _corrupt(f"PT_LOAD at {s.vaddr:#x} has p_filesz > p_memsz")
    if s.vaddr >= _TASK_SIZE or s.memsz > _TASK_SIZE or _TASK_SIZE - s.memsz < s.vaddr:
        raise _corrupt(f"PT_LOAD at {s.vaddr:#x} does not fit in the address space")
    if s.filesz and page_offset(s.offset) != page_offset(s.vaddr):
        # elf_map mmaps from p_offset - PAGEOFFSET(p_vaddr): must be page aligned.
        raise _corrupt(f"PT_LOAD at {s.vaddr:#x}: p_offset and p_vaddr disagree modulo the page size")


def _read_interp(fd: int, offset: int, filesz: int) -> bytes:
    """PT_INTERP contents as load_elf_binary accepts them: 2..PATH_MAX bytes, NUL-terminated."""
    if filesz > PATH_MAX or filesz < 2:
        raise _corrupt(f"PT_INTERP of {filesz} bytes")
    data = os.pread(fd, filesz, offset)
    if len(data) != filesz or data[-1] != 0:
        raise _corrupt("PT_INTERP is not a NUL-terminated path")
    return data[:data.index(b"\0")]


@contextlib.contextmanager
def _opened(path_or_fd: str | bytes | os.PathLike | int) -> Iterator[int]:
    """The fd to read (opened here unless given), host OSErrors turned into ExecError."""
    owned = not isinstance(path_or_fd, int)
    try:
        fd = os.open(path_or_fd, os.O_RDONLY | os.O_CLOEXEC) if owned else path_or_fd
    except OSError as e:
        raise ExecError(abi.linux_errno(e), f"{os.fsdecode(path_or_fd)}: {e.strerror}") from None
    try:
        yield fd
    except OSError as e:
        raise ExecError(abi.linux_errno(e), f"reading ELF file: {e.strerror}") from None
    finally:
        if owned:
            os.close(fd)


def parse(path_or_fd: str | bytes | os.PathLike | int) -> ElfImage:
    """Parse an ELF executable (no cache).  Raises :class:`ELFError` / :class:`ExecError`."""
    with _opened(path_or_fd) as fd:
        return _parse_fd(fd)


_CACHE_MAX = 512
_cache: OrderedDict[tuple[int, ...], ElfImage] = OrderedDict()
_cache_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


def parse_cached(path_or_fd: str | bytes | os.PathLike | int) -> ElfImage:
    """:func:`parse`, memoised by the file's identity.

    The key is (st_dev, st_ino, st_mtime_ns, st_ctime_ns, st_size) from fstat of
    the opened file, so the entry is the file actually read, whatever path led
    there.  ctime is in the key because mtime alone can be set back by utimes()
    after a rewrite; ctime cannot.  Least recently used entries are dropped past
    512 files.
    """
    with _opened(path_or_fd) as fd:
        st = os.fstat(fd)
        if not _stat.S_ISREG(st.st_mode):
            raise ExecError(abi.EACCES, "not a regular file")
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
        with _cache_lock:
            image = _cache.get(key)
            if image is not None:
                _cache.move_to_end(key)
                _stats["hits"] += 1
                return image
        image = _parse_fd(fd)
    with _cache_lock:
        _stats["misses"] += 1
        _cache[key] = image
        while len(_cache) > _CACHE_MAX:
            _cache.popitem(last=False)
    return image


def cache_clear() -> None:
    """Forget every cached image and reset the counters."""
    with _cache_lock:
        _cache.clear()
        _stats.update(hits=0, misses=0)


def cache_info() -> dict[str, int]:
    """{"hits", "misses", "size"} of the :func:`parse_cached` cache."""
    with _cache_lock:
        return {**_stats, "size": len(_cache)}
