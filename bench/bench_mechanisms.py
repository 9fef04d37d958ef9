"""Per-call cost of each syscall-interception mechanism (the floor under lx).

Builds bench/mechanisms/floor.c and runs ``floor MODE N`` for each mode; the
program times N getppid() calls in the guest under that mechanism and prints
``MODE ns_per_call=<float> n=<N>``.  The benchmark's own timing is wall time
of a whole run (build-free, but including fork/exec/setup); the figure that
matters is ``extra_info["ns_per_call_median"]`` and ``ratio_vs_native``.

    python3 -m pytest bench/bench_mechanisms.py --benchmark-only -q
    LX_BENCH_SMOKE=1 python3 -m pytest bench/bench_mechanisms.py -q \
        -p no:cacheprovider --benchmark-disable

floor exits non-zero when the mechanism did not actually deliver what it
should (wrong return value in the guest, wrong number of supervisor/tracer
events), which fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent / "mechanisms" / "floor.c"

SMOKE = os.environ.get("LX_BENCH_SMOKE") == "1"
ROUNDS = 1 if SMOKE else 5

# native first: later params compute their ratio against it.
MODES = [
    "native",
    "allow",
    "trap",
    "notif",
    "notif_sync",
    "notif_sync_continue",
    "notif_sync_killable",
    "ptrace_pinned",
    "ptrace",
]
# Modes costing tens of microseconds per call get fewer calls so one round
# stays well under ~5 s.
SLOW_MODES = {"notif", "ptrace", "ptrace_pinned"}

LINE_RE = re.compile(r"^(\S+) ns_per_call=([0-9.]+) n=(\d+)$", re.M)

# mode -> median ns/call, filled as the parametrized tests run.
RESULTS: dict[str, float] = {}


def calls_for(mode: str) -> int:
    if SMOKE:
        return 1000
    return 20_000 if mode in SLOW_MODES else 200_000


@pytest.fixture(scope="module")
def floor_bin(tmp_path_factory) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    out = tmp_path_factory.mktemp("floor") / "floor"
    proc = subprocess.run(
        [cc, "-O2", "-Wall", "-Wextra", "-o", str(out), str(SRC)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, f"building floor.c failed:\n{proc.stderr}"
    assert not proc.stderr.strip(), f"floor.c compiled with warnings:\n{proc.stderr}"
    return out


def run_floor(binary: Path, mode: str, n: int) -> float:
    proc = subprocess.run(
        [str(binary), mode, str(n)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, (
        f"floor {mode} {n} exited {proc.returncode}\n"
        f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
    )
    m = LINE_RE.search(proc.stdout)
    assert m and m.group(1) == mode and int(m.group(3)) == n, proc.stdout
    return float(m.group(2))


@pytest.mark.parametrize("mode", MODES)
def test_mechanism_floor(benchmark, floor_bin, mode):
    n = calls_for(mode)
    samples: list[float] = []

    def one_round() -> float:
        ns = run_floor(floor_bin, mode, n)
        samples.append(ns)
        return ns

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)

    assert samples, "benchmark body never ran"
    median = statistics.median(samples)
    RESULTS[mode] = median
    native = RESULTS.get("native")
    benchmark.extra_info.update(
        mode=mode,
        n=n,
        rounds=len(samples),
        ns_per_call_median=round(median, 1),
        ns_per_call_samples=[round(s, 1) for s in samples],
        ratio_vs_native=round(median / native, 2) if native else None,
    )
