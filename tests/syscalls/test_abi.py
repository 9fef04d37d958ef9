"""Tests of syscalls.abi and its generated module syscalls/_abi_x86_64.py.

(a) the committed module matches the installed headers (generator --check);
(b) an independent C check (gcc + ctypes, own includes and type names) agrees
    on sizeof/offsetof of key layouts, and real syscalls decode correctly;
(c) pack/unpack round-trips; (d) host->Linux errno mapping; (e) name tables.
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from syscalls import abi, gen_abi
from syscalls._nr_x86_64 import NR

ROOT = Path(__file__).resolve().parents[2]
CC = os.environ.get("CC", "cc").split()
needs_cc = pytest.mark.skipif(shutil.which(CC[0]) is None, reason="no C compiler")


# ---------------------------------------------------------------- (a) staleness

@needs_cc
def test_generated_module_is_not_stale(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "syscalls.gen_abi", "--check", "--workdir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_check_mode_reports_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = gen_abi.TARGET.read_text()
    monkeypatch.setattr(gen_abi, "generate", lambda workdir=None: text)
    copy = tmp_path / "_abi_x86_64.py"
    copy.write_text(text)
    assert gen_abi.main(["--check", "--output", str(copy)]) == 0
    copy.write_text(text.replace("ENOENT = 2\n", "ENOENT = 3\n"))
    assert gen_abi.main(["--check", "--output", str(copy)]) == 1


def test_generated_banner_and_extras() -> None:
    assert gen_abi.TARGET.read_text().startswith(gen_abi.BANNER + "\n")
    for name in abi.NEWER_THAN_HEADERS:
        assert hasattr(abi, name)
    assert abi.SECCOMP_IOCTL_NOTIF_SET_FLAGS == (1 << 30) | (8 << 16) | (ord("!") << 8) | 4  # _IOW('!', 4, u64)
    assert abi.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP == 1


# ------------------------------------------------------- (b) independent C check

# name -> (includes, C type); written here, not taken from gen_abi's tables.
CHECKS = {
    "stat": ("#include <asm/stat.h>", "struct stat"),
    "statx": ("#include <linux/stat.h>", "struct statx"),
    "seccomp_notif": ("#include <linux/seccomp.h>", "struct seccomp_notif"),
    "seccomp_notif_resp": ("#include <linux/seccomp.h>", "struct seccomp_notif_resp"),
    "open_how": ("#include <linux/openat2.h>", "struct open_how"),
    "new_utsname": ("#include <linux/utsname.h>", "struct new_utsname"),
    "sigaction": ("#include <asm/signal.h>", "struct sigaction"),
    "epoll_event": ("#include <linux/eventpoll.h>", "struct epoll_event"),
}
# Sizes documented as the x86-64 Linux ABI.
KNOWN_SIZES = {"stat": 144, "statx": 256, "seccomp_notif": 80, "seccomp_notif_resp": 24, "open_how": 24,
               "new_utsname": 390, "sigaction": 32, "epoll_event": 12, "siginfo_t": 128, "seccomp_data": 64,
               "sock_filter": 8, "sock_fprog": 16, "user_regs_struct": 216, "termios": 36}


@needs_cc
def test_layouts_match_an_independent_compile(tmp_path: Path) -> None:
    sources = []
    for name, (includes, ctype) in CHECKS.items():
        layout = abi.LAYOUTS[name]
        body = [f"out[0] = sizeof({ctype});"]
        for i, f in enumerate(layout.fields):
            body.append(f"out[{2 * i + 1}] = offsetof({ctype}, {f.name});")
            size = "0" if f.size == 0 else f"sizeof((({ctype} *)0)->{f.name})"
            body.append(f"out[{2 * i + 2}] = {size};")
        src = tmp_path / f"chk_{name}.c"
        src.write_text(f"{includes}\n#include <stddef.h>\nvoid chk_{name}(unsigned long *out) {{\n"
                       + "\n".join(body) + "\n}\n")
        sources.append(src.name)
    subprocess.run(CC + ["-shared", "-fPIC", "-o", "chk.so", *sources], cwd=tmp_path, check=True)
    lib = ctypes.CDLL(str(tmp_path / "chk.so"))
    for name in CHECKS:
        layout = abi.LAYOUTS[name]
        out = (ctypes.c_ulong * (1 + 2 * len(layout.fields)))()
        getattr(lib, f"chk_{name}")(out)
        assert out[0] == layout.size == KNOWN_SIZES[name], name
        got = [(out[2 * i + 1], out[2 * i + 2]) for i in range(len(layout.fields))]
        assert got == [(f.offset, f.size) for f in layout.fields], name


def test_known_sizes_and_formats() -> None:
    for name, size in KNOWN_SIZES.items():
        assert abi.LAYOUTS[name].size == size == abi.LAYOUTS[name].struct.size, name
    assert abi.epoll_event.format() == "<IQ"          # packed: no padding before data
    assert abi.sigaction.offset("sa_mask") == 24
    assert abi.siginfo_t.offset("si_pid") == 16 and abi.siginfo_t.offset("si_addr") == 16
    assert abi.linux_dirent64.offset("d_name") == 19


def test_real_syscalls_decode(tmp_path: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1234)
    st = os.stat(path)
    with open(path, "rb") as fh:
        buf = ctypes.create_string_buffer(abi.stat.size)
        assert libc.syscall(NR["fstat"], fh.fileno(), buf) == 0
        got = abi.stat.unpack(buf.raw)
        assert (got["st_ino"], got["st_size"], got["st_mode"]) == (st.st_ino, 1234, st.st_mode)
        assert (got["st_mtime"], got["st_mtime_nsec"]) == divmod(st.st_mtime_ns, 10**9)
        xbuf = ctypes.create_string_buffer(abi.statx.size)
        rc = libc.syscall(NR["statx"], fh.fileno(), b"", abi.AT_EMPTY_PATH, abi.STATX_BASIC_STATS, xbuf)
        if rc == 0:
            sx = abi.statx.unpack(xbuf.raw)
            assert (sx["stx_ino"], sx["stx_size"], sx["stx_mode"]) == (st.st_ino, 1234, st.st_mode)
    ubuf = ctypes.create_string_buffer(abi.new_utsname.size)
    assert libc.syscall(NR["uname"], ubuf) == 0
    uts = abi.new_utsname.unpack(ubuf.raw)
    assert uts["sysname"].rstrip(b"\0").decode() == os.uname().sysname
    assert uts["release"].rstrip(b"\0").decode() == os.uname().release


# --------------------------------------------------------------- (c) round-trips

def test_pack_unpack_round_trips() -> None:
    fields = {"st_ino": 7, "st_size": -1, "st_mode": abi.S_IFREG | 0o644, "__unused": (1, 2, 3)}
    data = abi.stat.pack(**fields)
    assert len(data) == 144
    got = abi.stat.unpack(data)
    assert {k: got[k] for k in fields} == fields and got["st_nlink"] == 0

    resp = abi.seccomp_notif_resp.pack(id=9, val=-1, error=-abi.ENOSYS, flags=abi.SECCOMP_USER_NOTIF_FLAG_CONTINUE)
    assert resp == struct.pack("<QqiI", 9, -1, -abi.ENOSYS, 1)

    notif = struct.pack("<QII iIQ6Q", 5, 100, 0, 59, abi.AUDIT_ARCH_X86_64, 0x401000, 1, 2, 3, 4, 5, 6)
    n = abi.seccomp_notif.unpack(notif)
    assert (n["id"], n["pid"], n["data.nr"], n["data.args"]) == (5, 100, 59, (1, 2, 3, 4, 5, 6))
    assert abi.seccomp_notif.pack(**n) == notif

    uts = abi.new_utsname.pack(sysname=b"Linux", machine=b"x86_64")
    assert abi.new_utsname.unpack(uts)["machine"] == b"x86_64" + b"\0" * 59

    ev = abi.epoll_event.pack(events=abi.EPOLLIN, data=0x1122334455667788)
    assert len(ev) == 12 and abi.epoll_event.unpack(ev)["data"] == 0x1122334455667788

    si = abi.siginfo_t.pack(si_signo=abi.SIGSYS, si_code=abi.SYS_SECCOMP, si_call_addr=0xdead, si_syscall=39,
                            si_arch=abi.AUDIT_ARCH_X86_64)
    back = abi.siginfo_t.unpack(si)
    assert (back["si_call_addr"], back["si_syscall"], back["si_arch"]) == (0xdead, 39, abi.AUDIT_ARCH_X86_64)
    assert abi.siginfo_t.unpack(bytes(8) + si, offset=8) == back


def test_pack_rejects_bad_input() -> None:
    with pytest.raises(KeyError):
        abi.stat.pack(st_bogus=1)
    with pytest.raises(ValueError):
        abi.sockaddr_un.pack(sun_path=b"x" * 109)
    with pytest.raises(ValueError):
        abi.seccomp_data.pack(args=tuple(range(7)))


# ------------------------------------------------------------ (d) errno mapping

def test_linux_errno() -> None:
    assert abi.linux_errno(OSError(errno.ENOENT, "x")) == abi.ENOENT
    assert abi.linux_errno(FileNotFoundError(errno.ENOENT, "x")) == 2
    assert abi.linux_errno(errno.EAGAIN) == abi.EAGAIN
    assert abi.linux_errno(OSError("no errno")) == abi.UNKNOWN_ERRNO == abi.EIO
    assert abi.linux_errno(100000) == abi.UNKNOWN_ERRNO
    for name in dir(errno):
        if name in abi.ERRNO:
            assert abi.linux_errno(getattr(errno, name)) == abi.ERRNO[name], name


# --------------------------------------------------------------- (e) name tables

def test_names() -> None:
    assert abi.errno_name(2) == "ENOENT" and abi.errno_name(-2) == "ENOENT"
    assert abi.errno_name(abi.EWOULDBLOCK) == "EAGAIN"
    assert abi.errno_name(abi.EDEADLOCK) == "EDEADLK"
    assert abi.errno_name(abi.ENOTSUP) == "EOPNOTSUPP"
    assert abi.signal_name(9) == "SIGKILL" and abi.signal_name(6) == "SIGABRT"
    assert abi.signal_name(abi.SIGRTMIN + 2) == "SIGRTMIN+2"
    assert (abi.SIGRTMIN, abi.SIGRTMAX) == (32, 64)


def test_groups_keep_kernel_values() -> None:
    assert abi.O_LARGEFILE == 0o100000 and abi.O["O_LARGEFILE"] == abi.O_LARGEFILE   # not glibc's 0
    assert abi.AT["AT_FDCWD"] == -100 and "AT_PHDR" not in abi.AT and abi.AUXV["AT_PHDR"] == 3
    assert abi.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV == 32
    assert abi.BPF_LD | abi.BPF_W | abi.BPF_ABS == 0x20
    assert abi.CONSTANT_GROUPS["ERRNO"] is abi.ERRNO
