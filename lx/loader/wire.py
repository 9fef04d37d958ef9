"""The load plan as the loader stub reads it (native/stub/lxstub.c).

Little-endian, fixed-size records after a header; every offset is from the
start of the plan.  The two sides change together: tests/lx/loader/
test_wire.py runs real programs through the stub.
"""
from __future__ import annotations

import os
import struct
from collections.abc import Callable

from .plan import ImagePlan, LoadPlan

MAGIC = 0x31504C58            # "XLP1"
PLAN_MAX = 6 << 20            # the stub's lx_plan buffer
OP = {"file": 0, "zero": 1, "anon": 2, "hole": 3}
IMAGE_INDEX = {"program": 0, "interp": 1}

HEADER = struct.Struct("<8I Q 4Q 11Q 2Q 5Q 16s")
IMAGE = struct.Struct("<4Q 2I")
MAP = struct.Struct("<4I 3Q")
FIXUP = struct.Struct("<Q 2I")
assert HEADER.size == 232 and IMAGE.size == 40 and MAP.size == 40 and FIXUP.size == 16


class PlanTooLarge(ValueError):
    """The plan does not fit the stub's buffer (huge argv/envp)."""


def comm_of(execfn: bytes) -> bytes:
    """The task name exec gives: kbasename(bprm->filename), 15 bytes (begin_new_exec)."""
    return os.path.basename(execfn)[:15]


def _maps(index: int, im: ImagePlan) -> list[bytes]:
    out = [MAP.pack(index, OP[m.op], m.prot, 0, m.addr, m.length, m.offset) for m in im.mappings]
    if im.bias is None:       # a reservation was made: give back what no segment covers
        out += [MAP.pack(index, OP["hole"], 0, 0, addr, length, 0) for addr, length in im.holes]
    return out


def encode(plan: LoadPlan, file_name: Callable[[ImagePlan], bytes] = lambda im: im.host_path) -> bytes:
    """The plan as bytes for the stub's lx_plan buffer.

    ``file_name`` gives the path the stub opens for each image: in a zone
    the stub's open() is translated like any guest call, so that must be the
    file's *guest* path (symlinks resolved: the file the plan was made from).
    """
    images = [plan.program] + ([plan.interp] if plan.interp else [])
    files = b"".join(file_name(im) + b"\0" for im in images)
    image_recs = b"".join(IMAGE.pack(im.bias or 0, im.span, im.first_page, im.align,
                                     int(im.bias is None), i) for i, im in enumerate(images))
    maps = [rec for i, im in enumerate(images) for rec in _maps(i, im)]
    fixups = b"".join(FIXUP.pack(f.offset, IMAGE_INDEX[f.image], 0) for f in plan.fixups)
    stack = plan.stack
    pbias = plan.program.bias or 0
    mm = plan.mm
    # code/data are made program-relative: the stub adds the program's bias to them.
    mm_words = (mm.start_code - pbias, mm.end_code - pbias, mm.start_data - pbias, mm.end_data - pbias,
                mm.start_brk, mm.start_brk, mm.start_stack, mm.arg_start, mm.arg_end,
                mm.env_start, mm.env_end)
    mm_words = tuple(w & 0xFFFF_FFFF_FFFF_FFFF for w in mm_words)
    auxv_size = (len(stack.auxv) + 1) * 16

    files_off = HEADER.size
    images_off = _align8(files_off + len(files))
    maps_off = images_off + len(image_recs)
    fixups_off = maps_off + MAP.size * len(maps)
    stack_off = _align8(fixups_off + len(fixups))
    size = stack_off + len(stack.data)
    if size > PLAN_MAX:
        raise PlanTooLarge(f"load plan of {size} bytes exceeds the stub's {PLAN_MAX}")
    entry_image = 0 if plan.entry_image is None else IMAGE_INDEX[plan.entry_image] + 1
    header = HEADER.pack(MAGIC, size, len(images), len(images), len(maps), len(plan.fixups),
                         int(plan.stack_exec), entry_image, plan.entry,
                         stack.base, len(stack.data), stack.rsp, stack.low, *mm_words,
                         stack.auxv_offset, auxv_size,
                         files_off, images_off, maps_off, fixups_off, stack_off, comm_of(plan.execfn))
    out = bytearray(size)
    out[:HEADER.size] = header
    out[files_off:files_off + len(files)] = files
    out[images_off:maps_off] = image_recs
    out[maps_off:fixups_off] = b"".join(maps)
    out[fixups_off:fixups_off + len(fixups)] = fixups
    out[stack_off:] = stack.data
    return bytes(out)


def _align8(n: int) -> int:
    return (n + 7) & ~7
