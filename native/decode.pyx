# cython: language_level=3, boundscheck=False, wraparound=False
"""Argument decoding in Cython: raw 64-bit registers -> typed C arguments.

Same contract as syscalls.args.decode (the reference); the codes are
U64=0, S64=1, U32=2, S32=3.  tests/native/test_decode.py checks that the
two agree, bench/bench_decode.py measures both.
"""
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t


cdef inline object _one(unsigned char code, uint64_t raw):
    if code == 0:
        return raw
    if code == 1:
        return <int64_t>raw
    if code == 2:
        return <uint32_t>raw
    if code == 3:
        return <int32_t><uint32_t>raw
    raise ValueError(f"unknown argument code {code}")


def decode(bytes codes, raw):
    """The arguments named by ``codes`` decoded from the sequence ``raw``."""
    cdef Py_ssize_t n = len(codes), i
    cdef const unsigned char[:] c = codes
    cdef uint64_t r
    out = [None] * n
    for i in range(n):
        r = <uint64_t>(raw[i] & 0xFFFFFFFFFFFFFFFF)
        out[i] = _one(c[i], r)
    return tuple(out)
