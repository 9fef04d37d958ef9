"""The reference argument decoder: width and sign of each ABI type."""
from syscalls.args import S32, S64, U32, U64, Fd, Int, Off, Ptr, decode, decode_one


def test_int_uses_low_32_bits_and_bit_31_for_sign():
    assert decode_one(S32, 0xFFFF_FFFF_FFFF_FF9C) == -100          # AT_FDCWD
    assert decode_one(S32, 0xDEAD_BEEF_0000_0005) == 5             # upper half ignored
    assert decode_one(U32, 0xFFFF_FFFF_FFFF_FFFF) == 0xFFFF_FFFF
    assert decode_one(S64, 0xFFFF_FFFF_FFFF_FFFF) == -1
    assert decode_one(U64, 1 << 63) == 1 << 63


def test_types_carry_codes():
    assert (Fd.code, Int.code, Ptr.code, Off.code) == (S32, S32, U64, S64)
    assert decode(bytes([S32, U64, S64]), (0xFFFF_FF9C, 0x7FFF_0000, 2**64 - 2)) == (-100, 0x7FFF_0000, -2)
