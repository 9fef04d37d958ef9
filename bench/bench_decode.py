"""Argument decoding for 1e6 calls: the Python reference against Cython.

The dispatcher decodes every Python-handled call's six registers; this
measures what that costs and what the Cython decoder saves.
"""
import os

import pytest

from syscalls.args import S32, S64, U32, U64, decode

_decode = pytest.importorskip("lx.native._decode").decode

N = 1000 if os.environ.get("LX_BENCH_SMOKE") else 1_000_000
CODES = bytes([S32, U64, U64, S32, U32, S64])      # e.g. openat-like
RAW = (2**64 - 100, 0x7FFF_DEAD_0000, 0o100000, 0xFFFF_FFFF, 0o644, 2**64 - 1)


def _loop(fn):
    for _ in range(N):
        fn(CODES, RAW)


@pytest.mark.parametrize("impl", ["python", "cython"])
def test_decode_1e6(benchmark, impl):
    fn = decode if impl == "python" else _decode
    benchmark.extra_info["calls"] = N
    benchmark.pedantic(_loop, args=(fn,), rounds=1 if N < 10_000 else 5, iterations=1)
