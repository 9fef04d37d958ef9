"""Shared fixtures of lx's benchmarks, and the session's summary table.

Fixtures:
    smoke        True under LX_BENCH_SMOKE=1 (tiny N, one round: the test
                 suite runs every bench file that way with --benchmark-disable)
    loop_bin     bench/programs/loop.c built with conformance.build.build_c
    floor_bin    bench/mechanisms/floor.c, built the same way
    runners      {"native": [], "lx": [lx, "run", "--"], "proot": [proot] or None,
                  "proot1cpu": [taskset, -c, 0, proot] or None}: proot as it
                 runs by default, and proot with tracer and guest on one CPU
                 (no cross-CPU wake-up per ptrace stop: a much faster proot)
    run_parse    run a command, check it exited 0, parse its result line
    results      the session's figures: benches put them there so later
                 benches compute ratios against earlier ones (native, floor,
                 proot), and the summary prints them all at the end

Timings are never asserted: a figure that misses its issue target shows up
as "MISSED" in the summary, it does not fail anything.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent
LOOP_SRC = BENCH / "programs" / "loop.c"
FLOOR_SRC = BENCH / "mechanisms" / "floor.c"

SMOKE = os.environ.get("LX_BENCH_SMOKE") == "1"

# Issue targets (reported, never asserted).
TARGET_PASSTHROUGH_VS_NATIVE = 1.10
TARGET_C_VS_FLOOR = 1.5
TARGET_C_VS_PROOT = 0.1
TARGET_FORKEXEC_VS_PROOT = 0.5
TARGET_SUPERVISOR_RSS_KIB = 40 * 1024

# loop.c calls that lx answers through a notification (all others are ALLOWed);
# bench_syscalls.NOTIFIED says the same.
NOTIFIED_CALLS = ("uname", "sethostname_einval")


class Results:
    """Figures of one session: (section, row, column) -> value."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str, str], float] = {}

    def put(self, section: str, row: str, col: str, value: float) -> None:
        self.data[(section, row, col)] = value

    def get(self, section: str, row: str, col: str) -> float | None:
        return self.data.get((section, row, col))

    def ratio(self, section: str, row: str, col: str, over: tuple[str, str, str]) -> float | None:
        """value(section, row, col) / value(*over), or None if either is missing."""
        a, b = self.get(section, row, col), self.get(*over)
        return round(a / b, 3) if a is not None and b else None

    def rows(self, section: str) -> list[str]:
        seen: list[str] = []
        for s, r, _ in self.data:
            if s == section and r not in seen:
                seen.append(r)
        return seen


_RESULTS_KEY = pytest.StashKey[Results]()


def _results(config: pytest.Config) -> Results:
    if _RESULTS_KEY not in config.stash:
        config.stash[_RESULTS_KEY] = Results()
    return config.stash[_RESULTS_KEY]


# ---- fixtures ---------------------------------------------------------------

@pytest.fixture(scope="session")
def smoke() -> bool:
    return SMOKE


@pytest.fixture(scope="session")
def results(pytestconfig) -> Results:
    return _results(pytestconfig)


def _build(src: Path) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("no C compiler (gcc)")
    from conformance.build import build_c
    return build_c(src)


@pytest.fixture(scope="session")
def loop_bin() -> Path:
    return _build(LOOP_SRC)


@pytest.fixture(scope="session")
def floor_bin() -> Path:
    return _build(FLOOR_SRC)


def lx_prefix() -> list[str]:
    """`lx run --`: the console script next to this interpreter, else `python -m lx`."""
    script = Path(sys.executable).parent / "lx"
    if script.exists():
        return [str(script), "run", "--"]
    return [sys.executable, "-m", "lx", "run", "--"]


@pytest.fixture(scope="session")
def runners() -> dict[str, list[str] | None]:
    proot, taskset = shutil.which("proot"), shutil.which("taskset")
    return {"native": [], "lx": lx_prefix(), "proot": [proot] if proot else None,
            "proot1cpu": [taskset, "-c", "0", proot] if proot and taskset else None}


def run_cmd(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run cmd in its own session; on timeout kill that whole session."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        kill_session(p)
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def kill_session(p: subprocess.Popen) -> None:
    """SIGKILL the session p leads (p and whatever it started), then reap p."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        p.communicate(timeout=10)
    except (subprocess.TimeoutExpired, ValueError):
        p.kill()
        p.wait()


@pytest.fixture(scope="session")
def run_parse():
    """run_parse(cmd, pattern, timeout) -> re.Match of the line; fails if cmd
    exits non-zero or prints no such line."""
    def run_parse(cmd: list[str], pattern: str, timeout: float = 300) -> re.Match:
        r = run_cmd(cmd, timeout)
        assert r.returncode == 0, (f"{' '.join(cmd)} exited {r.returncode}\n"
                                   f"stdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}")
        m = re.search(pattern, r.stdout, re.M)
        assert m, f"{' '.join(cmd)}: no line matching {pattern!r} in:\n{r.stdout[-2000:]}"
        return m
    return run_parse


# ---- the summary ----------------------------------------------------------------

def _fmt(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return ""
    return "ok" if value <= limit else "MISSED"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    rows = [r + [""] * (len(header) - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    return [line(r) for r in (header, ["-" * w for w in widths], *rows)]


def _syscall_lines(res: Results) -> list[str]:
    sec = "syscall"
    rows = []
    for mode in res.rows("floor"):
        rows.append([f"floor.c {mode}", _fmt(res.get("floor", mode, "ns"))])
    for call in res.rows(sec):
        passthrough = call not in NOTIFIED_CALLS
        floor = ("floor", "allow" if passthrough else "notif_sync", "ns")
        r_native = res.ratio(sec, call, "lx", (sec, call, "native"))
        r_proot = res.ratio(sec, call, "lx", (sec, call, "proot"))
        r_proot1 = res.ratio(sec, call, "lx", (sec, call, "proot1cpu"))
        r_floor = res.ratio(sec, call, "lx", floor)
        if passthrough:
            target = f"native<={TARGET_PASSTHROUGH_VS_NATIVE} {_verdict(r_native, TARGET_PASSTHROUGH_VS_NATIVE)}"
        elif call == "uname":
            target = (f"floor<={TARGET_C_VS_FLOOR} {_verdict(r_floor, TARGET_C_VS_FLOOR)}, "
                      f"proot<={TARGET_C_VS_PROOT} {_verdict(r_proot, TARGET_C_VS_PROOT)}")
        else:
            target = "(Python handler)"
        rows.append([call, "", *(_fmt(res.get(sec, call, c)) for c in ("native", "lx", "proot", "proot1cpu")),
                     _fmt(r_native, 2), _fmt(r_floor, 2), _fmt(r_proot, 3), _fmt(r_proot1, 3), target])
    return _table(["per call (ns, median)", "floor", "native", "lx", "proot", "proot1cpu", "lx/native",
                   "lx/floor*", "lx/proot", "lx/proot1cpu", "lx target"], rows) + [
        "* floor: floor.c allow for PASSTHROUGH calls, floor.c notif_sync for notified ones; "
        "proot1cpu: taskset -c 0 proot"]


def _workload_lines(res: Results) -> list[str]:
    sec = "workload"
    rows = []
    for w in res.rows(sec):
        r_native = res.ratio(sec, w, "lx", (sec, w, "native"))
        r_proot = res.ratio(sec, w, "lx", (sec, w, "proot"))
        r_proot1 = res.ratio(sec, w, "lx", (sec, w, "proot1cpu"))
        rows.append([w, *(_fmt(res.get(sec, w, c)) for c in ("native", "lx", "proot", "proot1cpu")),
                     _fmt(r_native, 2), _fmt(r_proot, 3), _fmt(r_proot1, 3),
                     f"proot<={TARGET_FORKEXEC_VS_PROOT} {_verdict(r_proot, TARGET_FORKEXEC_VS_PROOT)}"])
    return _table(["workload (us/iter, median)", "native", "lx", "proot", "proot1cpu", "lx/native", "lx/proot",
                   "lx/proot1cpu", "lx target"], rows)


def _memory_lines(res: Results) -> list[str]:
    sec = "memory"
    rows = []
    for sc in res.rows(sec):
        def g(col: str, sc: str = sc) -> float | None:
            return res.get(sec, sc, col)
        rss = g("lx_sup_rss")
        rows.append([sc, _fmt(rss, 0), _fmt(g("lx_sup_hwm"), 0), _fmt(g("lx_anchor_rss"), 0),
                     _fmt(g("lx_pss"), 0), _fmt(g("proot_rss"), 0), _fmt(g("proot_hwm"), 0),
                     f"sup RSS<={TARGET_SUPERVISOR_RSS_KIB // 1024}MiB {_verdict(rss, TARGET_SUPERVISOR_RSS_KIB)}"])
    return _table(["memory (KiB)", "lx sup RSS", "sup HWM", "anchor RSS", "lx PSS", "proot RSS",
                   "proot HWM", "lx target"], rows)


@pytest.hookimpl(trylast=True)     # after pytest-benchmark's own table
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    res = config.stash.get(_RESULTS_KEY, None)
    if res is None or not res.data:
        return
    tr = terminalreporter
    tr.write_sep("=", "lx bench summary" + (" (SMOKE: tiny N, figures meaningless)" if SMOKE else ""))
    for sections, lines in ((("floor", "syscall"), _syscall_lines), (("workload",), _workload_lines),
                            (("memory",), _memory_lines)):
        if any(res.rows(s) for s in sections):
            for line in lines(res):
                tr.write_line(line)
            tr.write_line("")
