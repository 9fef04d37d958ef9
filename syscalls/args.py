"""ABI argument types: how a raw 64-bit syscall register is read as a C argument.

A handler annotates its parameters with these types (``fd: Fd, buf: Ptr``);
the ``@syscall`` decorator compiles the annotations once into a decoder
string (one code per argument) so no introspection happens per call, the way
gVisor's ``args[0].Int()`` accessors know each argument's width and sign.

Registers always carry 64 bits; a C ``int`` argument uses the low 32 bits
and its sign comes from bit 31 (the kernel ignores the upper half).
"""
from __future__ import annotations

from typing import ClassVar

# One code per argument kind; the Cython decoder (lx/native/_decode.pyx)
# uses the same codes, and tests/native/test_decode.py checks they agree.
U64, S64, U32, S32 = 0, 1, 2, 3


class ArgType(int):
    """Base of the ABI argument types; the value is the decoded argument."""

    code: ClassVar[int] = U64


class ULong(ArgType):
    """unsigned long: all 64 bits."""
    code = U64


class Long(ArgType):
    """long: 64 bits, signed."""
    code = S64


class Int(ArgType):
    """int: low 32 bits, signed."""
    code = S32


class UInt(ArgType):
    """unsigned int: low 32 bits."""
    code = U32


class Fd(Int):
    """A file descriptor (int); AT_FDCWD (-100) decodes as negative."""


class Pid(Int):
    """pid_t."""


class Uid(UInt):
    """uid_t / gid_t (32-bit)."""


class Mode(UInt):
    """umode_t / mode_t."""


class Ptr(ULong):
    """A guest pointer (user address)."""


class SizeT(ULong):
    """size_t."""


class SSizeT(Long):
    """ssize_t."""


class Off(Long):
    """off_t / loff_t."""


class Flags(UInt):
    """A 32-bit flag word."""


class LFlags(ULong):
    """A 64-bit flag word (clone flags, ...)."""


_MASK32 = 0xFFFF_FFFF


def decode_one(code: int, raw: int) -> int:
    """Reference decoder for one register value (the Cython one must agree)."""
    if code == U64:
        return raw & 0xFFFF_FFFF_FFFF_FFFF
    if code == S64:
        raw &= 0xFFFF_FFFF_FFFF_FFFF
        return raw - (1 << 64) if raw >> 63 else raw
    if code == U32:
        return raw & _MASK32
    if code == S32:
        raw &= _MASK32
        return raw - (1 << 32) if raw >> 31 else raw
    raise ValueError(f"unknown argument code {code}")


def decode(codes: bytes, raw: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """Reference decoder: the arguments named by ``codes`` from ``raw``."""
    return tuple(decode_one(c, raw[i]) for i, c in enumerate(codes))
