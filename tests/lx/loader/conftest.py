"""Fixtures for the loader tests: small C programs and the kernel's own exec as the oracle.

``cbuild(name, source, *flags)``  compile C source with gcc into a session temp dir.
``probe``                         dict kind -> path: the auxv/stack probe built as a
                                  dynamic PIE ("dynamic"), -static ("static") and
                                  -static-pie ("static-pie").
``run_probe(path, argv, env)``    run a probe natively, its report as a dict.
``printargs``                     a program that prints its argv, one hex-encoded arg per line.
``kernel_exec(path, argv, env)``  exec natively with ADDR_NO_RANDOMIZE under
                                  PTRACE_TRACEME and return a :class:`Snapshot` of the
                                  process as the kernel left it, before its first instruction.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

PROBE_C = r"""
#include <stdio.h>
#include <string.h>
#include <elf.h>
#include <sys/auxv.h>

/* Prints what the kernel gave this process: argv/envp with their addresses,
   the auxv in order (walked on the stack) and getauxval()'s view of it. */
int main(int argc, char **argv, char **envp)
{
    char **e = envp;
    while (*e) e++;
    Elf64_auxv_t *av = (Elf64_auxv_t *)(e + 1), *a;
    printf("rsp %lu\nargc %d\n", (unsigned long)((char *)argv - 8), argc);
    for (int i = 0; i < argc; i++)
        printf("argv %lu %s\n", (unsigned long)argv[i], argv[i]);
    for (e = envp; *e; e++)
        printf("envp %lu %s\n", (unsigned long)*e, *e);
    for (a = av; a->a_type != AT_NULL; a++)
        printf("auxv %lu %lu %lu\n", (unsigned long)a->a_type, (unsigned long)a->a_un.a_val,
               getauxval(a->a_type));
    printf("auxv_end %lu\n", (unsigned long)(a + 1));
    printf("execfn %s\nplatform %s\n", (char *)getauxval(AT_EXECFN), (char *)getauxval(AT_PLATFORM));
    return 0;
}
"""

PRINTARGS_C = r"""
#include <stdio.h>
int main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        for (const unsigned char *p = (const unsigned char *)argv[i]; *p; p++) printf("%02x", *p);
        printf("\n");
    }
    return 0;
}
"""

ADDR_NO_RANDOMIZE = 0x0040000
PTRACE_TRACEME = 0


@pytest.fixture(scope="session")
def cbuild(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    out_dir = tmp_path_factory.mktemp("loader-bin")
    built: dict[tuple, Path] = {}

    def build(name: str, source: str, *flags: str) -> Path:
        key = (source, flags)
        if key not in built:
            src = out_dir / f"{name}.c"
            src.write_text(source)
            out = out_dir / name
            r = subprocess.run(["gcc", "-O1", "-o", str(out), str(src), *flags], capture_output=True, text=True)
            if r.returncode != 0:
                pytest.skip(f"gcc {' '.join(flags)} failed: {r.stderr[-500:]}")
            built[key] = out
        return built[key]
    return build


@pytest.fixture(scope="session")
def probe(cbuild):
    return {
        "dynamic": cbuild("probe", PROBE_C),
        "static": cbuild("probe_static", PROBE_C, "-static"),
        "static-pie": cbuild("probe_static_pie", PROBE_C, "-static-pie"),
    }


@pytest.fixture(scope="session")
def printargs(cbuild):
    return cbuild("printargs", PRINTARGS_C)


def _run_probe(path: Path | str, argv: list[str], env: dict[str, str]) -> dict:
    """Run the probe natively; its report as {"rsp", "argv": [(addr, s)], "envp", "auxv": [(tag, val, getauxval)], ...}."""
    r = subprocess.run(argv, executable=str(path), env=env, capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    rep: dict = {"argv": [], "envp": [], "auxv": []}
    for line in r.stdout.splitlines():
        key, _, rest = line.partition(" ")
        if key in ("argv", "envp"):
            addr, _, s = rest.partition(" ")
            rep[key].append((int(addr), s))
        elif key == "auxv":
            rep["auxv"].append(tuple(int(x) for x in rest.split()))
        elif key in ("rsp", "argc", "auxv_end"):
            rep[key] = int(rest)
        else:
            rep[key] = rest
    return rep


@pytest.fixture(scope="session")
def run_probe():
    """``run_probe(path, argv, env)``: run the probe natively and parse its report."""
    return _run_probe


@dataclass
class Snapshot:
    """A process right after execve returned, stopped before its first instruction."""

    maps: list[tuple[int, int, str, int, int, str]]   # lo, hi, perms, offset, inode, name
    auxv: list[tuple[int, int]]
    stat: list[str]               # /proc/PID/stat fields; stat[n - 1] is field n of proc(5)
    sp: int
    pc: int
    stack: bytes                  # [sp, top of [stack])
    stack_lo: int
    stack_hi: int

    def stat_field(self, n: int) -> int:
        return int(self.stat[n - 1])

    def random16(self) -> bytes:
        at_random = dict(self.auxv)[25]
        return self.stack[at_random - self.sp:at_random - self.sp + 16]


def _preexec() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.personality(ADDR_NO_RANDOMIZE) == -1:
        os._exit(90)
    if libc.ptrace(PTRACE_TRACEME, 0, 0, 0) != 0:
        os._exit(91)


@pytest.fixture(scope="session")
def kernel_exec():
    def snap(path: str | os.PathLike, argv: list[str], env: dict[str, str]) -> Snapshot:
        p = subprocess.Popen(argv, executable=os.fspath(path), env=env, preexec_fn=_preexec,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid, status = os.waitpid(p.pid, 0)
        if not os.WIFSTOPPED(status):
            p.returncode = os.waitstatus_to_exitcode(status)
            pytest.skip(f"cannot stop a child at exec (personality/ptrace unavailable: {status:#x})")
        try:
            maps = []
            for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
                f = line.split(maxsplit=5)
                lo, hi = (int(x, 16) for x in f[0].split("-"))
                maps.append((lo, hi, f[1], int(f[2], 16), int(f[4]), f[5] if len(f) > 5 else ""))
            raw = Path(f"/proc/{pid}/auxv").read_bytes()
            auxv = [(t, v) for t, v in struct.iter_unpack("<QQ", raw) if t != 0]
            stat_text = Path(f"/proc/{pid}/stat").read_text()
            head, _, tail = stat_text.rpartition(")")
            stat = [head.split(" (")[0], "comm", *tail.split()]
            sc = Path(f"/proc/{pid}/syscall").read_text().split()
            sp, pc = int(sc[-2], 16), int(sc[-1], 16)
            lo, hi = next((m[0], m[1]) for m in maps if m[5] == "[stack]")
            with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
                mem.seek(sp)
                stack = mem.read(hi - sp)
        finally:
            os.kill(pid, signal.SIGKILL)
            p.wait()
        return Snapshot(maps, auxv, stat, sp, pc, stack, lo, hi)
    return snap
