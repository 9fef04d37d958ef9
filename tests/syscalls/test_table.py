"""Invariants of the syscall table: every number one entry, names from the kernel."""
import re
from pathlib import Path

import pytest

from syscalls import _nr_x86_64 as nr
from syscalls import gen_nr
from syscalls.registry import REGISTRY, DuplicateEntry, Entry, Reason, Support, nosys
from syscalls.table import TABLE, TableError, build, load_illumos

UNISTD = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")


def test_every_number_has_exactly_one_entry():
    assert set(TABLE) == set(nr.NAMES)
    names = [e.name for e in TABLE.values()]
    assert len(names) == len(set(names))
    assert all(TABLE[n].nr == n and TABLE[n].name == nr.NAMES[n] for n in TABLE)


def test_installed_headers_agree_with_the_tbl():
    if not UNISTD.exists():
        pytest.skip("kernel headers not installed")
    defined = dict((m[1], int(m[2])) for m in
                   re.finditer(r"#define __NR_(\w+)\s+(\d+)", UNISTD.read_text()))
    assert defined, "no __NR_ in the header"
    for name, number in defined.items():
        assert nr.NAMES.get(number) == name, f"{name} ({number})"


def test_table_reaches_linux_6_18():
    assert nr.NR["file_setattr"] == 469
    assert max(nr.NAMES) == 469


def test_generated_number_module_is_fresh():
    assert gen_nr.main(["--check"]) == 0


def test_a_missing_entry_fails_the_build():
    names = dict(nr.NAMES)
    names[999] = "not_a_real_call"
    with pytest.raises(TableError, match="no entry for: not_a_real_call"):
        build(names=names)


def test_a_registered_name_that_is_no_syscall_fails_the_build():
    reg = dict(REGISTRY)
    reg["frobnicate"] = Entry(name="frobnicate", support=Support.PASSTHROUGH, family="test")
    with pytest.raises(TableError, match="frobnicate"):
        build(registry=reg)


def test_registering_a_name_twice_is_refused():
    with pytest.raises(DuplicateEntry, match="'read' registered twice"):
        nosys("read", reason=Reason.TODO)
    assert REGISTRY["read"].support is Support.PASSTHROUGH


def test_nosys_entries_give_a_reason_and_handlers_exist_where_claimed():
    for e in TABLE.values():
        if e.support is Support.NOSYS:
            assert e.reason is not None and e.note, e.name
        if e.support in (Support.FULL, Support.PARTIAL, Support.EMULATED):
            assert e.handler is not None, e.name
            assert e.handler.__name__ == f"sys_{e.name}"
        if e.support is Support.PARTIAL:
            assert e.note, f"{e.name}: PARTIAL needs a note saying what is missing"


def test_illumos_column_covers_every_number():
    ill = load_illumos()
    assert set(ill) == set(nr.NAMES)
    assert TABLE[nr.NR["read"]].illumos == "kernel"
    assert TABLE[nr.NR["uname"]].illumos_detail
    assert TABLE[nr.NR["file_setattr"]].illumos == "unknown"


def test_decoder_codes_match_handler_arity():
    for e in TABLE.values():
        if e.handler is not None:
            argc = e.handler.__code__.co_argcount - 1
            assert len(e.codes) == argc, e.name
