"""The initial stack of a new program, byte for byte as Linux builds it.

From the top of the stack VMA down (fs/exec.c do_execveat_common() copies the
strings, fs/binfmt_elf.c create_elf_tables() the rest):

    stack_top - 8 .. stack_top   8 zero bytes (bprm->p starts at vm_end - sizeof(void *))
    execfn string                the path given to execve (AT_EXECFN)
    envp strings                 envp[0] lowest ... envp[n-1] highest
    argv strings                 argv[0] lowest: mm->arg_start
    ... arch_align_stack(): down by a random 0..8191 bytes (``stack_rnd``) and to 16
    platform string              "x86_64\\0" (AT_PLATFORM), right below
    16 random bytes              (AT_RANDOM), right below the platform string
    zero padding                 so that rsp ends 16-byte aligned (STACK_ROUND)
    auxv pairs, AT_NULL pair
    NULL, envp pointers
    NULL, argv pointers
    argc                         <- rsp, 16-byte aligned as the x86-64 psABI requires

The limits on argument size are bprm_stack_limits() and MAX_ARG_STRLEN.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from syscalls import abi

from .auxv import POINTER_TAGS
from .elf import PAGE_SIZE, ExecError, page_start

__all__ = ["StackImage", "build_stack", "arg_space", "check_strings",
           "MAX_ARG_STRLEN", "ARG_MAX", "STACK_EXPAND", "DEFAULT_STACK_RLIMIT"]

MAX_ARG_STRLEN = PAGE_SIZE * 32   # include/uapi/linux/binfmts.h, counts the NUL
ARG_MAX = 131072                  # include/uapi/linux/limits.h: the floor of the string space
_STK_LIM = 8 * 1024 * 1024        # include/uapi/linux/resource.h
DEFAULT_STACK_RLIMIT = _STK_LIM
STACK_EXPAND = 131072             # fs/exec.c setup_arg_pages(): stack_expand = 128 KiB


def arg_space(argc: int, envc: int, stack_rlimit: int = DEFAULT_STACK_RLIMIT) -> int:
    """Bytes available for the argument strings (fs/exec.c bprm_stack_limits()).

    min(3/4 of _STK_LIM, rlimit/4), at least ARG_MAX, minus the argv+envp
    pointers (argc counted as at least 1).  Raises ExecError(E2BIG) if the
    pointers alone do not fit.
    """
    limit = max(min(_STK_LIM // 4 * 3, stack_rlimit // 4), ARG_MAX)
    ptr_size = (max(argc, 1) + envc) * 8
    if limit <= ptr_size:
        raise ExecError(abi.E2BIG, "too many arguments and environment strings")
    return limit - ptr_size


def check_strings(strings: Sequence[bytes], limit: int) -> None:
    """copy_strings()'s checks: each string (with its NUL) at most MAX_ARG_STRLEN, all within ``limit``."""
    total = 0
    for s in strings:
        if b"\0" in s:
            raise ValueError(f"argument or environment string contains NUL: {s[:40]!r}")
        if len(s) + 1 > MAX_ARG_STRLEN:
            raise ExecError(abi.E2BIG, f"a string of {len(s) + 1} bytes exceeds MAX_ARG_STRLEN")
        total += len(s) + 1
    if total > limit:
        raise ExecError(abi.E2BIG, f"{total} bytes of arguments and environment exceed {limit}")


@dataclass(frozen=True)
class StackImage:
    """The initial stack: ``data`` goes at ``base`` (== ``rsp``) and ends at ``top``.

    Unpacks as ``data, base, rsp = build_stack(...)``.  The remaining fields are
    what mm_struct records about it (for /proc/PID/{stat,cmdline,environ}) and
    where the pointer-valued auxv entries went.
    """

    data: bytes
    base: int
    rsp: int
    top: int
    low: int                      # start of the stack VMA after setup_arg_pages() (it grows down from there)
    arg_start: int
    arg_end: int
    env_start: int
    env_end: int
    execfn_addr: int
    random_addr: int
    platform_addr: int | None
    auxv: tuple[tuple[int, int], ...]   # as written, without AT_NULL
    auxv_offset: int              # byte offset in ``data`` of the first auxv pair

    def __iter__(self) -> Iterator[object]:
        return iter((self.data, self.base, self.rsp))

    def auxv_value_offset(self, tag: int) -> int:
        """Byte offset in ``data`` of the value word of the first ``tag`` pair (KeyError if absent)."""
        for i, (t, _) in enumerate(self.auxv):
            if t == tag:
                return self.auxv_offset + 16 * i + 8
        raise KeyError(tag)


def build_stack(stack_top: int, argv: Sequence[bytes], envp: Sequence[bytes],
                auxv: Sequence[tuple[int, int]], execfn: bytes, random16: bytes,
                platform: bytes | None = b"x86_64", *, stack_rnd: int = 0,
                stack_rlimit: int = DEFAULT_STACK_RLIMIT) -> StackImage:
    """Lay out the initial stack below ``stack_top`` (the page-aligned end of the stack VMA).

    ``auxv`` is in kernel order without AT_NULL; the AT_RANDOM, AT_EXECFN and
    AT_PLATFORM entries in it get the addresses of the bytes placed here (their
    values are ignored; a tag not in the list is not added).  ``platform`` None
    places no platform string.  ``stack_rnd`` is arch_align_stack()'s random
    offset (0..8191; 0 is what ADDR_NO_RANDOMIZE gives).  Strings are bytes without
    NUL.  No size limits are checked here (see arg_space/check_strings).
    """
    if stack_top % PAGE_SIZE:
        raise ValueError(f"stack_top {stack_top:#x} is not page aligned")
    if len(random16) != 16:
        raise ValueError("random16 must be 16 bytes")
    if not 0 <= stack_rnd < 8192:
        raise ValueError("stack_rnd must be in 0..8191 (arch_align_stack)")
    strings = [bytes(s) for s in argv] + [bytes(s) for s in envp]
    for s in (*strings, execfn, platform or b""):
        if b"\0" in s:
            raise ValueError(f"string contains NUL: {s[:40]!r}")

    # fs/exec.c: copy_string_kernel(filename), copy_strings(envp), copy_strings(argv),
    # each string placed below the previous one, the last element first.
    p = stack_top - 8
    execfn_addr = p = p - (len(execfn) + 1)
    addrs: list[int] = []
    for s in reversed(strings):
        p -= len(s) + 1
        addrs.append(p)
    addrs.reverse()
    arg_start = p
    argv_addrs, envp_addrs = addrs[:len(argv)], addrs[len(argv):]
    env_start = envp_addrs[0] if envp_addrs else execfn_addr
    # create_elf_tables(): arch_align_stack, then STACK_ALLOC the platform and random bytes.
    p = (arg_start - stack_rnd) & ~15
    platform_addr = None
    if platform is not None:
        platform_addr = p = p - (len(platform) + 1)
    random_addr = p = p - 16

    fill = {abi.AT_RANDOM: random_addr, abi.AT_EXECFN: execfn_addr}
    if platform_addr is not None:
        fill[abi.AT_PLATFORM] = platform_addr
    pairs = [(t, v) for t, v in auxv if t != abi.AT_NULL]
    final = tuple((t, fill.get(t, v) if t in POINTER_TAGS else v) for t, v in pairs)
    ei_words = 2 * (len(final) + 1)
    items = (len(argv) + 1) + (len(envp) + 1) + 1
    sp = p - ei_words * 8
    rsp = (sp - items * 8) & ~15                       # STACK_ROUND(sp, items)

    img = bytearray(stack_top - rsp)

    def put(addr: int, data: bytes) -> None:
        img[addr - rsp:addr - rsp + len(data)] = data

    for a, s in zip(addrs, strings):
        put(a, s + b"\0")
    put(execfn_addr, execfn + b"\0")
    if platform_addr is not None:
        put(platform_addr, platform + b"\0")
    put(random_addr, random16)
    words = [len(argv), *argv_addrs, 0, *envp_addrs, 0]
    auxv_addr = rsp + 8 * len(words)
    for t, v in (*final, (abi.AT_NULL, 0)):
        words += [t, v]
    put(rsp, struct.pack(f"<{len(words)}Q", *words))

    # setup_arg_pages(): the VMA holds the string pages plus 128 KiB, or the whole
    # rlimit if that is smaller; create_elf_tables() extends it if the tables need more.
    vm_start = page_start(arg_start)
    rlim = stack_rlimit & ~(PAGE_SIZE - 1)
    low = stack_top - rlim if (stack_top - vm_start) + STACK_EXPAND > rlim else vm_start - STACK_EXPAND
    low = min(low, page_start(rsp))
    return StackImage(
        data=bytes(img), base=rsp, rsp=rsp, top=stack_top, low=low,
        arg_start=arg_start, arg_end=env_start, env_start=env_start, env_end=execfn_addr,
        execfn_addr=execfn_addr, random_addr=random_addr, platform_addr=platform_addr,
        auxv=final, auxv_offset=auxv_addr - rsp,
    )
