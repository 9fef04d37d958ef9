"""The load plan: everything an execve does to memory, as plain data for the stub.

plan_exec() does the supervisor's half of a guest execve: follow ``#!``
(interp.py), parse the program and its PT_INTERP (elf.py), place them as
load_elf_binary()/load_elf_interp() would (fs/binfmt_elf.c), list the
mappings elf_load() makes, choose brk, build the auxv and the stack.  The
static stub, exec'd in the guest's place, replays the plan and jumps.  Nothing
here touches the guest; the only I/O is reading the files.

Addresses in :class:`Mapping` are link-time (the ELF's own p_vaddr space): the
stub adds the image's bias.  A bias is known in advance for ET_EXEC (0) and for
a PIE program (ELF_ET_DYN_BASE rule); an ET_DYN interpreter or a static-PIE
program goes wherever mmap puts it, which is the stub's to learn ("anywhere",
``bias`` None) unless ``mmap_base`` is given, in which case the plan predicts
the kernel's top-down choice.  Values that depend on an unknown bias are
written unbiased and listed in ``LoadPlan.fixups``.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from syscalls import abi

from .auxv import HostAuxv, build_auxv, host_auxv
from .elf import PAGE_SIZE, ET_DYN, ElfImage, ELFError, ExecError, page_align, page_offset, page_start, parse_cached
from .interp import Resolve, Access, host_resolve, open_exec, resolve_exec
from .stack import DEFAULT_STACK_RLIMIT, StackImage, arg_space, build_stack, check_strings

__all__ = ["Mapping", "ImagePlan", "Fixup", "MmLayout", "LoadPlan", "plan_exec", "mmap_base_for",
           "TASK_SIZE", "STACK_TOP", "ELF_ET_DYN_BASE"]

# arch/x86/include/asm/page_64_types.h: DEFAULT_MAP_WINDOW = (1UL << 47) - PAGE_SIZE,
# the user address space with 4-level paging and the default window with 5-level.
TASK_SIZE = (1 << 47) - PAGE_SIZE
STACK_TOP = TASK_SIZE             # asm/processor.h: STACK_TOP = TASK_SIZE_LOW
# arch/x86/include/asm/elf.h: ELF_ET_DYN_BASE = DEFAULT_MAP_WINDOW / 3 * 2 (0x555555554aaa);
# where PIE programs go, aligned down to their PT_LOAD alignment (0x555555554000).
ELF_ET_DYN_BASE = TASK_SIZE // 3 * 2
_SIZE_128M = 128 << 20
_STACK_GUARD_GAP = 256 * PAGE_SIZE  # mm/mmap.c stack_guard_gap default

Image = Literal["program", "interp"]


def mmap_base_for(stack_rlimit: int = DEFAULT_STACK_RLIMIT, rnd: int = 0, task_size: int = TASK_SIZE,
                  stack_rnd_max: int = 0) -> int:
    """arch/x86/mm/mmap.c mmap_base(): top of the top-down mmap area.

    gap = stack rlimit + stack_maxrandom_size + stack_guard_gap, clamped to
    [128 MiB, 5/6 of the task size]; base = PAGE_ALIGN(task_size - gap - rnd).
    ``stack_rnd_max`` is stack_maxrandom_size() (0 without randomization),
    ``rnd`` the mmap randomization.
    """
    gap = stack_rlimit + stack_rnd_max + _STACK_GUARD_GAP
    gap = min(max(gap, _SIZE_128M), task_size // 6 * 5)
    return page_align(task_size - gap - rnd)


@dataclass(frozen=True, slots=True)
class Mapping:
    """One step of binfmt_elf.c elf_load(), at a link-time address (add the image bias).

    op "file": mmap(addr, length, prot, MAP_PRIVATE|MAP_FIXED, file, offset) -- elf_map().
    op "zero": write zeros over [addr, addr+length) -- padzero() of the file page's tail.
    op "anon": mmap(addr, length, prot, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED) -- the
               vm_brk_flags() pages of .bss.
    """

    op: Literal["file", "zero", "anon"]
    addr: int
    length: int
    prot: int
    offset: int = 0


def _segment_mappings(image: ElfImage) -> tuple[Mapping, ...]:
    """elf_load() for every PT_LOAD, in program-header order (Linux >= 6.7 binfmt_elf.c)."""
    out: list[Mapping] = []
    for s in image.segments:
        if s.filesz:
            # elf_map(): the whole pages holding [vaddr, vaddr+filesz) map the file.
            addr = page_start(s.vaddr)
            out.append(Mapping("file", addr, page_align(s.filesz + page_offset(s.vaddr)), s.prot,
                               s.offset - page_offset(s.vaddr)))
            zero_start, zero_end = s.vaddr + s.filesz, s.vaddr + s.memsz
            # padzero(zero_start): clear to the end of that page.  The kernel ignores the
            # failure on a read-only segment ("if (padzero(zero_start) && (prot & PROT_WRITE))"),
            # so there the file's bytes stay.
            if s.memsz > s.filesz and page_offset(zero_start) and s.prot & abi.PROT_WRITE:
                out.append(Mapping("zero", zero_start, page_align(zero_start) - zero_start, s.prot))
        else:
            zero_start = page_start(s.vaddr)
            zero_end = zero_start + page_offset(s.vaddr) + s.memsz
        if s.memsz > s.filesz:
            # vm_brk_flags(): anonymous pages, read-write (VM_DATA_DEFAULT_FLAGS), plus exec if the
            # segment is executable -- not the segment's own protection.
            lo, hi = page_align(zero_start), page_align(zero_end)
            if hi > lo:
                prot = abi.PROT_READ | abi.PROT_WRITE | (s.prot & abi.PROT_EXEC)
                out.append(Mapping("anon", lo, hi - lo, prot))
    return tuple(out)


@dataclass(frozen=True)
class ImagePlan:
    """How one ELF file (program or interpreter) is placed and mapped."""

    path: bytes                   # guest path
    host_path: bytes              # host path the resolver gave
    elf: ElfImage
    bias: int | None              # load bias; None: "anywhere" (the stub mmaps ``span`` bytes
                                  # without MAP_FIXED and takes bias = address - first_page, aligned to ``align``)
    span: int                     # bytes to reserve first for ET_DYN (elf_map's total_size); 0 for ET_EXEC,
                                  # whose segments go at their fixed addresses (MAP_FIXED_NOREPLACE)
    first_page: int               # link-time page address the reservation starts at
    align: int                    # maximum PT_LOAD alignment (at least a page)
    mappings: tuple[Mapping, ...]

    @property
    def holes(self) -> tuple[tuple[int, int], ...]:
        """(addr, length) pages inside the reservation no mapping covers (the kernel unmaps them)."""
        if not self.span:
            return ()
        covered = sorted((m.addr, m.addr + m.length) for m in self.mappings if m.op != "zero")
        out, pos, end = [], self.first_page, self.first_page + self.span
        for lo, hi in covered:
            if lo > pos:
                out.append((pos, lo - pos))
            pos = max(pos, hi)
        if pos < end:
            out.append((pos, end - pos))
        return tuple(out)

    def at(self, link_addr: int) -> int:
        """Run-time address of ``link_addr`` (ValueError while the bias is unknown)."""
        if self.bias is None:
            raise ValueError(f"{os.fsdecode(self.path)} has no fixed load bias")
        return self.bias + link_addr


@dataclass(frozen=True, slots=True)
class Fixup:
    """Add ``image``'s load bias to the 8-byte little-endian word at ``offset`` in the stack image."""

    offset: int
    image: Image


@dataclass(frozen=True, slots=True)
class MmLayout:
    """The mm_struct fields exec sets (/proc/PID/stat fields 26-28, 45-51).

    Code and data values are relative to the program's bias when that is unknown.
    """

    start_code: int
    end_code: int
    start_data: int
    end_data: int
    start_brk: int
    start_stack: int
    arg_start: int
    arg_end: int
    env_start: int
    env_end: int


@dataclass(frozen=True)
class LoadPlan:
    """Everything the stub does for one execve, in order: map ``program``, then
    ``interp``, map the stack [stack.low, stack.top) (executable if ``stack_exec``) and
    copy ``stack.data`` to ``stack.base``, apply ``fixups``, set brk, jump to ``entry``
    with rsp = ``stack.rsp``.
    """

    program: ImagePlan
    interp: ImagePlan | None
    argv: tuple[bytes, ...]       # after #! rewriting
    envp: tuple[bytes, ...]
    execfn: bytes                 # AT_EXECFN: the path the guest passed to execve
    scripts: tuple[bytes, ...]    # #! scripts followed, outermost first
    entry: int
    entry_image: Image | None     # add this image's bias to ``entry`` (None: absolute)
    brk: int                      # mm->start_brk == mm->brk
    stack: StackImage
    stack_exec: bool
    fixups: tuple[Fixup, ...]
    mm: MmLayout


def _anywhere(image: ElfImage, mmap_base: int | None) -> int | None:
    """Bias of an ET_DYN mapped without an address: the kernel's top-down pick, if predictable."""
    if mmap_base is None:
        return None
    addr = page_start(mmap_base - page_align(image.total_mapping_size))
    if image.max_align > PAGE_SIZE:       # load_elf_binary: "if (alignment > ELF_MIN_ALIGN)"
        addr &= ~(image.max_align - 1)
    return addr - page_start(image.first_vaddr)


def _image_plan(path: bytes, host: bytes, image: ElfImage, bias: int | None) -> ImagePlan:
    dyn = image.e_type == ET_DYN
    return ImagePlan(path, host, image, bias,
                     span=page_align(image.total_mapping_size) if dyn else 0,
                     first_page=min(page_start(s.vaddr) for s in image.segments),
                     align=max(image.max_align, PAGE_SIZE), mappings=_segment_mappings(image))


def _mm_code_data(image: ElfImage, bias: int) -> tuple[int, int, int, int]:
    """start_code, end_code, start_data, end_data as load_elf_binary()'s PT_LOAD loop computes them."""
    start_code, end_code, start_data, end_data = None, 0, 0, 0
    for s in image.segments:
        if s.prot & abi.PROT_EXEC:
            start_code = s.vaddr if start_code is None else min(start_code, s.vaddr)
            end_code = max(end_code, s.vaddr + s.filesz)
        start_data = max(start_data, s.vaddr)
        end_data = max(end_data, s.vaddr + s.filesz)
    mask = (1 << 64) - 1
    if start_code is None:
        start_code = mask                      # stays ~0UL (+ load_bias, wrapping) in the kernel
    return (start_code + bias) & mask, end_code + bias, start_data + bias, end_data + bias


def plan_exec(path: str | bytes, argv: Sequence[str | bytes], envp: Sequence[str | bytes], *,
              resolve: Resolve = host_resolve, uid: int = 0, gid: int = 0, groups: Iterable[int] = (),
              euid: int | None = None, egid: int | None = None,
              vdso_base: int | None = None, stack_top: int = STACK_TOP, mmap_base: int | None = None,
              random16: bytes | None = None, pie_rnd: int = 0, brk_rnd: int | None = None,
              stack_rnd: int = 0, stack_rlimit: int = DEFAULT_STACK_RLIMIT, secure: bool = False,
              host: HostAuxv | None = None,
              stat: Callable[[str | bytes], os.stat_result] = os.stat) -> LoadPlan:
    """Plan ``execve(path, argv, envp)`` the way Linux 6.18 x86-64 would carry it out.

    ``path`` is the guest path as passed (it becomes AT_EXECFN and, for scripts,
    the script argument); ``resolve`` maps guest paths to host paths (the
    zone's resolver; default: the host's own).  ``uid``/``gid``/``groups`` are
    the caller's credentials for the exec-permission checks and AT_UID.. .

    Placement: ``pie_rnd`` is arch_mmap_rnd() for a PIE program (0 gives the
    un-randomised 0x555555554000); ``mmap_base`` None makes ET_DYN interpreters
    and static-PIE programs "anywhere", else their address is predicted from it
    (see mmap_base_for()); ``brk_rnd`` None keeps brk at the end of the image
    (ADDR_NO_RANDOMIZE), an int adds the kernel's one-page gap (unless brk moved)
    and that page-multiple offset (arch_randomize_brk: under 1 GiB on 6.9+);
    ``stack_rnd`` is arch_align_stack()'s 0..8191 shift.  ``random16`` defaults
    to os.urandom(16).

    Raises ExecError/ELFError with the errno execve would return.
    """
    execfn = os.fsencode(path)
    args0 = [os.fsencode(a) for a in argv] or [b""]
    env = tuple(os.fsencode(e) for e in envp)
    limit = arg_space(len(argv), len(env), stack_rlimit)
    check_strings([execfn, *env, *args0], limit)

    target = resolve_exec(execfn, args0, resolve=resolve, uid=uid, gid=gid, groups=groups, stat=stat)
    check_strings([execfn, *env, *target.argv], limit)
    prog = parse_cached(target.host_path)

    interp_plan = None
    if prog.interp is not None:
        acc = Access(uid, gid, tuple(groups), resolve, stat)
        ihost = open_exec(prog.interp, acc)
        try:
            iimg = parse_cached(ihost)
        except ELFError as e:
            # load_elf_binary(): an interpreter that is not a usable ELF file is ELIBBAD.
            raise ExecError(abi.ELIBBAD, f"{os.fsdecode(prog.interp)}: bad ELF interpreter: {e}") from None
        ibias = _anywhere(iimg, mmap_base) if iimg.e_type == ET_DYN else 0
        interp_plan = _image_plan(prog.interp, ihost, iimg, ibias)

    # load_elf_binary(): ET_EXEC at its addresses; a PIE (ET_DYN with PT_INTERP) at
    # ELF_ET_DYN_BASE + arch_mmap_rnd(), aligned to its largest p_align, less the first
    # p_vaddr; a loader (ET_DYN without PT_INTERP) wherever mmap puts it.
    if prog.e_type != ET_DYN:
        bias: int | None = 0
    elif prog.interp is not None:
        base = ELF_ET_DYN_BASE + pie_rnd
        if prog.max_align:
            base &= ~(prog.max_align - 1)
        bias = page_start(base - prog.first_vaddr)
    else:
        bias = _anywhere(prog, mmap_base)
    prog_plan = _image_plan(target.path, target.host_path, prog, bias)

    # brk: the page after the highest segment; a loader's brk moves to ELF_ET_DYN_BASE
    # ("brk" handling DOC in load_elf_binary); with randomization, a one-page gap
    # (unless moved) and arch_randomize_brk().
    moved = prog.e_type == ET_DYN and prog.interp is None
    brk = page_align(ELF_ET_DYN_BASE if moved else prog.brk_end + (bias or 0))
    if brk_rnd is not None:
        if brk_rnd % PAGE_SIZE or brk_rnd < 0:
            raise ValueError("brk_rnd must be a non-negative multiple of the page size")
        brk += (0 if moved else PAGE_SIZE) + brk_rnd

    pbias = bias or 0
    if interp_plan is not None:
        base_val = interp_plan.bias or 0
        entry, entry_image = iimg.entry + base_val, ("interp" if interp_plan.bias is None else None)
    else:
        entry, entry_image = prog.entry + pbias, ("program" if bias is None else None)
    auxv = build_auxv(phdr=prog.phdr_addr + pbias, phnum=prog.phnum, entry=prog.entry + pbias,
                      base=(interp_plan.bias or 0) if interp_plan else 0,
                      uid=uid, gid=gid, euid=euid, egid=egid, secure=secure, vdso_base=vdso_base, host=host)
    host_vals = host or host_auxv()
    stack = build_stack(stack_top, target.argv, env, auxv, execfn,
                        os.urandom(16) if random16 is None else random16,
                        host_vals.platform, stack_rnd=stack_rnd, stack_rlimit=stack_rlimit)

    fixups: list[Fixup] = []
    if bias is None:
        fixups += [Fixup(stack.auxv_value_offset(abi.AT_PHDR), "program"),
                   Fixup(stack.auxv_value_offset(abi.AT_ENTRY), "program")]
    if interp_plan is not None and interp_plan.bias is None:
        fixups.append(Fixup(stack.auxv_value_offset(abi.AT_BASE), "interp"))

    sc, ec, sd, ed = _mm_code_data(prog, pbias)
    mm = MmLayout(sc, ec, sd, ed, start_brk=brk, start_stack=stack.rsp, arg_start=stack.arg_start,
                  arg_end=stack.arg_end, env_start=stack.env_start, env_end=stack.env_end)
    return LoadPlan(program=prog_plan, interp=interp_plan, argv=target.argv, envp=env, execfn=execfn,
                    scripts=target.scripts, entry=entry, entry_image=entry_image, brk=brk, stack=stack,
                    stack_exec=prog.exec_stack, fixups=tuple(fixups), mm=mm)
