"""lx.loader.interp: #! handling, compared with what the running kernel does with the same files."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from lx.loader import (MAX_SCRIPT_DEPTH, ExecError, Shebang, check_exec_access, parse_shebang,
                       resolve_exec)
from syscalls import abi

ME = dict(uid=os.getuid(), gid=os.getgid(), groups=os.getgroups())


def native_argv(path: Path, args: list[str]) -> list[bytes] | int:
    """argv the kernel hands printargs when ``path`` is exec'd with ``args``, or the exec errno."""
    try:
        r = subprocess.run([str(path), *args], capture_output=True, timeout=20)
    except OSError as e:
        return e.errno
    assert r.returncode == 0, r.stderr
    return [bytes.fromhex(line) for line in r.stdout.decode().splitlines()]


def ours(path: Path, args: list[str], **kw) -> list[bytes] | int:
    try:
        return list(resolve_exec(str(path), [str(path), *args], **{**ME, **kw}).argv)
    except ExecError as e:
        return e.errno


def script(tmp_path: Path, name: str, content: bytes, mode: int = 0o755) -> Path:
    p = tmp_path / name
    p.write_bytes(content)
    p.chmod(mode)
    return p


def test_parse_shebang_basics():
    assert parse_shebang(b"\x7fELF") is None
    assert parse_shebang(b"#!/bin/sh\n") == Shebang(b"/bin/sh", None)
    assert parse_shebang(b"#!/bin/sh -e\n") == Shebang(b"/bin/sh", b"-e")
    assert parse_shebang(b"#! \t/usr/bin/env  python3 -u  \nprint()\n") == Shebang(b"/usr/bin/env", b"python3 -u")
    assert parse_shebang(b"#!/bin/sh\0 -x\n") == Shebang(b"/bin/sh", None)
    assert parse_shebang(b"#!/bin/sh \n") == Shebang(b"/bin/sh", None)
    assert parse_shebang(b"#!") == Shebang(b"", None)          # then open_exec("") fails: ENOENT
    for bad in (b"#!\n", b"#!   \n", b"#!" + b" " * 300, b"#!/" + b"a" * 300):
        with pytest.raises(ExecError) as ei:
            parse_shebang(bad)
        assert ei.value.errno == abi.ENOEXEC


SHEBANG_CASES = {
    "plain": b"#!{P}\n",
    "one_arg": b"#!{P} -x\n",
    "blanks_and_words": b"#!  {P}   -x  y\tz  \n",
    "tab_separated": b"#!{P}\t-a\tb\n",
    "trailing_blank": b"#!{P} \n",
    "no_newline": b"#!{P} -x",
    "no_newline_blank": b"#!{P} ",
    "nul_ends_name": b"#!{P}\0 -x\n",
    "nul_in_arg": b"#!{P} -a\0b\n",
    "crlf": b"#!{P} -x\r\n",
    "long_arg": b"#!{P} " + b"a" * 300 + b"\n",
    "long_arg_blanks": b"#!{P} x" + b" " * 300 + b"\n",
    "empty": b"#!\n",
    "bare": b"#!",
    "only_blanks": b"#!" + b" " * 300,
    "name_too_long": b"#!/" + b"a" * 300 + b"\n",
    "not_a_script": b"echo hi\n",
}


@pytest.mark.parametrize("case", sorted(SHEBANG_CASES))
def test_shebang_like_the_kernel(tmp_path, printargs, case):
    s = script(tmp_path, "s", SHEBANG_CASES[case].replace(b"{P}", bytes(printargs)))
    assert ours(s, ["A", "b c"]) == native_argv(s, ["A", "b c"])


def test_argv_rewrite_shape(tmp_path, printargs):
    s = script(tmp_path, "s", b"#!%s -opt\n" % bytes(printargs))
    t = resolve_exec(str(s), ["name-ignored", "1", "2"], **ME)
    assert t.argv == (bytes(printargs), b"-opt", bytes(s), b"1", b"2")
    assert t.path == bytes(printargs) and t.scripts == (bytes(s),)
    assert t.head[:4] == b"\x7fELF"


def test_empty_argv_becomes_empty_string(tmp_path, printargs):
    s = script(tmp_path, "s", b"#!%s\n" % bytes(printargs))
    assert resolve_exec(str(s), [], **ME).argv == (bytes(printargs), bytes(s))
    assert resolve_exec(str(printargs), [], **ME).argv == (b"",)


def _chain(tmp_path: Path, printargs: Path, n: int) -> Path:
    """n nested scripts: s{n-1} -> ... -> s0 -> printargs."""
    prev = bytes(printargs)
    for i in range(n):
        s = script(tmp_path, f"s{i}", b"#!%s a%d\n" % (prev, i))
        prev = bytes(s)
    return Path(os.fsdecode(prev))


@pytest.mark.parametrize("depth", [1, 2, MAX_SCRIPT_DEPTH, MAX_SCRIPT_DEPTH + 1, MAX_SCRIPT_DEPTH + 2])
def test_nested_scripts_and_the_depth_limit(tmp_path, printargs, depth):
    top = _chain(tmp_path, printargs, depth)
    got = ours(top, ["x"])
    assert got == native_argv(top, ["x"])
    assert (got == abi.ELOOP) == (depth > MAX_SCRIPT_DEPTH)


def test_nested_argv(tmp_path, printargs):
    top = _chain(tmp_path, printargs, 2)
    t = resolve_exec(str(top), [str(top), "x"], **ME)
    s0 = bytes(tmp_path / "s0")
    assert t.argv == (bytes(printargs), b"a0", s0, b"a1", bytes(top), b"x")
    assert t.scripts == (bytes(top), s0)


def test_missing_interpreter_is_enoent(tmp_path):
    s = script(tmp_path, "s", b"#!/nonexistent/interp -x\n")
    assert ours(s, []) == native_argv(s, []) == abi.ENOENT


def test_missing_file_is_enoent(tmp_path):
    assert ours(tmp_path / "none", []) == abi.ENOENT


def test_no_exec_bit_is_eacces(tmp_path, printargs):
    s = script(tmp_path, "s", b"#!%s\n" % bytes(printargs), mode=0o644)
    assert ours(s, []) == native_argv(s, []) == abi.EACCES


def test_interpreter_without_exec_bit_is_eacces(tmp_path, printargs):
    interp = tmp_path / "interp"
    shutil.copy(printargs, interp)
    interp.chmod(0o644)
    s = script(tmp_path, "s", b"#!%s\n" % bytes(interp))
    assert ours(s, []) == native_argv(s, []) == abi.EACCES


def test_directory_interpreter_is_eacces(tmp_path):
    s = script(tmp_path, "s", b"#!%s\n" % bytes(tmp_path))
    assert ours(s, []) == native_argv(s, []) == abi.EACCES


def _st(mode: int, uid: int = 0, gid: int = 0) -> os.stat_result:
    return os.stat_result((stat.S_IFREG | mode, 1, 1, 1, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize("mode, owner, group, uid, gid, groups, ok", [
    (0o755, 0, 0, 1000, 1000, (), True),          # other x
    (0o700, 0, 0, 1000, 1000, (), False),
    (0o700, 1000, 0, 1000, 1000, (), True),       # owner x
    (0o644, 0, 0, 0, 0, (), False),               # root needs at least one x bit
    (0o001, 1000, 50, 0, 0, (), True),            # ... any one will do
    (0o010, 1000, 50, 0, 0, (), True),
    (0o610, 1000, 50, 1000, 50, (), False),       # the owner class decides although group has x
    (0o070, 0, 50, 1000, 1000, (), False),        # not in the group
    (0o070, 0, 50, 1000, 1000, (50,), True),      # supplementary group
    (0o607, 0, 50, 1000, 50, (), False),          # the group class decides, other's x does not count
])
def test_exec_permission_rules(mode, owner, group, uid, gid, groups, ok):
    st = _st(mode, owner, group)
    if ok:
        check_exec_access(st, uid, gid, groups)
    else:
        with pytest.raises(ExecError) as ei:
            check_exec_access(st, uid, gid, groups)
        assert ei.value.errno == abi.EACCES


def test_special_files_are_eacces():
    st = os.stat_result((stat.S_IFCHR | 0o777, 1, 1, 1, 0, 0, 0, 0, 0, 0))
    with pytest.raises(ExecError) as ei:
        check_exec_access(st, 0, 0)
    assert ei.value.errno == abi.EACCES


def test_zone_resolver(tmp_path, printargs):
    zone = tmp_path / "zone"
    (zone / "usr/bin").mkdir(parents=True)
    shutil.copy(printargs, zone / "usr/bin/tool")
    script(zone, "run", b"#!/usr/bin/tool -v\n")
    seen = []

    def resolve(p: bytes) -> bytes:
        seen.append(p)
        if not p.startswith(b"/"):
            raise FileNotFoundError(2, "relative")
        return bytes(zone) + p

    t = resolve_exec(b"/run", [b"run", b"arg"], resolve=resolve, **ME)
    assert seen == [b"/run", b"/usr/bin/tool"]
    assert t.path == b"/usr/bin/tool" and t.host_path == bytes(zone / "usr/bin/tool")
    assert t.argv == (b"/usr/bin/tool", b"-v", b"/run", b"arg")
    with pytest.raises(ExecError) as ei:
        resolve_exec(b"relative", [b"x"], resolve=resolve, **ME)
    assert ei.value.errno == abi.ENOENT
