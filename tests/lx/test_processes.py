"""Real workloads natively and under lx: a parallel make, Python threads
with subprocesses, background children left behind, many threads at once."""
from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest
from hostprocs import pids_where

# -- (a) make -j2 of a small C project --------------------------------------

_UNITS = {
    "add": "int add(int a, int b) { return a + b; }",
    "mul": "int mul(int a, int b) { return a * b; }",
    "fib": "int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }",
    "gcd": "int gcd(int a, int b) { while (b) { int t = a % b; a = b; b = t; } return a; }",
    "name": '#include <sys/utsname.h>\n#include <string.h>\n'
            'const char *sys(void) { static struct utsname u; uname(&u); return u.sysname; }',
}
_MAIN = """#include <stdio.h>
#include "lib.h"
int main(void)
{
    printf("add %d mul %d fib %d gcd %d on %s\\n", add(20, 22), mul(6, 7), fib(20), gcd(1071, 462), sys());
    return 0;
}
"""
_HEADER = """int add(int, int);
int mul(int, int);
int fib(int);
int gcd(int, int);
const char *sys(void);
"""
_MAKEFILE = """CFLAGS = -O2 -Wall -Werror
OBJS = main.o add.o mul.o fib.o gcd.o name.o

prog: $(OBJS)
\t$(CC) -o $@ $(OBJS)

%.o: %.c lib.h
\t$(CC) $(CFLAGS) -c $<

clean:
\trm -f prog $(OBJS)
"""


def _write_project(d: Path) -> None:
    d.mkdir()
    for name, body in _UNITS.items():
        (d / f"{name}.c").write_text(f'#include "lib.h"\n{body}\n')
    (d / "main.c").write_text(_MAIN)
    (d / "lib.h").write_text(_HEADER)
    (d / "Makefile").write_text(_MAKEFILE)


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("cc") is None, reason="needs make and cc")
def test_make_j2(tmp_path, run_native, run_lx):
    native_dir, lx_dir = tmp_path / "native", tmp_path / "lx"
    _write_project(native_dir)
    _write_project(lx_dir)
    nat = run_native(["make", "-j2"], cwd=native_dir)
    assert nat.returncode == 0, nat.stderr
    cp = run_lx(["make", "-j2"], cwd=str(lx_dir))
    assert cp.returncode == 0, cp.stderr
    assert cp.lx.internal_error == ""
    assert cp.stderr == nat.stderr == ""
    out_nat = run_native([native_dir / "prog"])
    out_lx = run_native([lx_dir / "prog"])
    assert out_nat.returncode == out_lx.returncode == 0
    assert out_lx.stdout == out_nat.stdout == "add 42 mul 42 fib 6765 gcd 21 on Linux\n"
    # The toolchain is deterministic: under lx it makes the very same bytes.
    for f in ["prog", "main.o", "add.o", "name.o"]:
        assert (lx_dir / f).read_bytes() == (native_dir / f).read_bytes(), f
    # And the program built under lx runs under lx too.
    assert run_lx([lx_dir / "prog"]).stdout == out_nat.stdout


# -- (b) Python threads running subprocesses ---------------------------------

_PY_THREADS = r"""
import concurrent.futures as cf
import os
import subprocess

def job(i):
    out = subprocess.run(["echo", str(i)], capture_output=True, text=True, check=True).stdout
    u = os.uname()
    return f"{i} {out.strip()} {u.sysname} {u.nodename} {u.release} {u.machine}"

with cf.ThreadPoolExecutor(8) as ex:
    for line in ex.map(job, range(32)):
        print(line)
r = subprocess.run("exit 5", shell=True)
print("shell exit", r.returncode)
"""


def test_python_threads_and_subprocess(run_native, run_lx):
    argv = [sys.executable, "-c", _PY_THREADS]
    env = dict(os.environ)
    nat = run_native(argv, env=env)
    assert nat.returncode == 0, nat.stderr
    assert len(nat.stdout.splitlines()) == 33
    cp = run_lx(argv, env=env)
    assert cp.lx.internal_error == ""
    assert (cp.stdout, cp.stderr, cp.returncode) == (nat.stdout, nat.stderr, nat.returncode)
    assert cp.lx.counts.get("uname", 0) >= 32


# -- (c) a background child outliving the guest ------------------------------

def test_background_child_is_ended_with_the_guest(run_lx):
    marker = f"30.{os.getpid()}{time.monotonic_ns() % 10**6:06d}"   # unique: sleep 30.<digits>
    cmdline = b"sleep\0" + marker.encode() + b"\0"
    t0 = time.monotonic()
    cp = run_lx(["sh", "-c", f"sleep {marker} & echo started"], timeout=60)
    elapsed = time.monotonic() - t0
    left = pids_where(lambda c: c == cmdline)
    for pid in left:    # never leave our own sleeper behind, even when failing
        os.kill(pid, signal.SIGKILL)
    assert cp.stdout == "started\n"
    assert cp.returncode == 0
    assert elapsed < 10, f"lx.run took {elapsed:.1f}s: it waited for the background child"
    assert left == [], f"the background child survived the guest: pids {left}"


# -- (d) 1000 threads, every uname notification counted ----------------------

def test_thousand_threads_every_uname_counted(probe, run_lx):
    cp = run_lx([probe("threads_uname")])
    assert cp.returncode == 0, cp.stderr
    assert "1000 threads ok" in cp.stdout.splitlines()
    # 1000 threads x 10 calls, plus the main thread's reference call.
    assert "uname calls 10001, failures 0" in cp.stdout.splitlines()
    assert cp.lx.counts["uname"] == 10001
    assert cp.lx.unsupported == {}
