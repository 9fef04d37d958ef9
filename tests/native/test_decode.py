"""The Cython decoder agrees with the Python reference on many values."""
import random

import pytest

from syscalls.args import S32, S64, U32, U64, decode

_decode = pytest.importorskip("lx.native._decode").decode

EDGES = [0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 0xFFFF_FFFF_FFFF_FF9C]


def test_cython_matches_reference_on_edges_and_random_values():
    rng = random.Random(1234)
    values = EDGES + [rng.getrandbits(64) for _ in range(2000)]
    for code in (U64, S64, U32, S32):
        for v in values:
            assert _decode(bytes([code]), (v,)) == decode(bytes([code]), (v,)), (code, v)


def test_cython_decodes_six_arguments():
    raw = (2**64 - 100, 5, 2**64 - 1, 7, 8, 9)
    codes = bytes([S32, U64, S64, U32, S32, U64])
    assert _decode(codes, raw) == decode(codes, raw) == (-100, 5, -1, 7, 8, 9)


def test_cython_rejects_unknown_code():
    with pytest.raises(ValueError):
        _decode(bytes([9]), (0,))
