"""Whole-workload cost natively, under lx and under proot.

forkexec: ``loop forkexec N /bin/true`` makes N fork + execve(/bin/true) +
waitpid iterations and prints ``forkexec us_per_iter=<float> n=<N>`` (only the
loop is timed; every child must exit 0).  Under lx fork, execve and wait are
PASSTHROUGH, so what lx adds is the filter on every call the dynamic loader
and /bin/true make; proot stops on each of them and rewrites execve.
Target: lx <= 0.5x proot (default proot; ``proot1cpu``, i.e. ``taskset -c 0
proot``, is reported next to it, see bench_syscalls.py).

    python -m pytest bench/bench_workloads.py -o 'python_files=bench_*.py' --benchmark-only -q
    LX_BENCH_SMOKE=1 python -m pytest bench/bench_workloads.py -o 'python_files=bench_*.py' \\
        -q -p no:cacheprovider --benchmark-disable
"""
from __future__ import annotations

import os
import shutil
import statistics

import pytest

RUNNERS = ["native", "proot", "proot1cpu", "lx"]   # lx last: its ratios use the others
LINE_RE = r"^forkexec us_per_iter=([0-9.]+) n=(\d+)$"


def true_path() -> str:
    for p in ("/bin/true", "/usr/bin/true"):
        if os.access(p, os.X_OK):
            return p
    return shutil.which("true") or "/bin/true"


@pytest.mark.parametrize("runner", RUNNERS)
def test_forkexec_true(benchmark, loop_bin, runners, run_parse, results, smoke, runner):
    prefix = runners[runner]
    if prefix is None:
        pytest.skip(f"{runner} is not installed")
    n = 20 if smoke else 1000
    rounds = 1 if smoke else (3 if runner.startswith("proot") else 5)
    cmd = [*prefix, str(loop_bin), "forkexec", str(n), true_path()]
    samples: list[float] = []

    def one_round() -> float:
        m = run_parse(cmd, LINE_RE, timeout=300)
        assert int(m[2]) == n
        samples.append(float(m[1]))
        return samples[-1]

    benchmark.pedantic(one_round, rounds=rounds, iterations=1)
    assert samples, "benchmark body never ran"
    median = statistics.median(samples)
    results.put("workload", "forkexec /bin/true", runner, median)
    info = dict(workload="forkexec /bin/true", runner=runner, n=n, rounds=len(samples),
                us_per_iter_median=round(median, 2), us_per_iter_min=round(min(samples), 2),
                us_per_iter_samples=[round(s, 2) for s in samples])
    if runner != "native":
        info["ratio_vs_native"] = results.ratio("workload", "forkexec /bin/true", runner,
                                                ("workload", "forkexec /bin/true", "native"))
    if runner == "lx":
        for other in ("proot", "proot1cpu"):
            info[f"ratio_vs_{other}"] = results.ratio("workload", "forkexec /bin/true", "lx",
                                                      ("workload", "forkexec /bin/true", other))
    benchmark.extra_info.update(info)
