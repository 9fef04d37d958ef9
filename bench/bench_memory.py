"""Memory of lx's supervisor (and of proot) while the guest has many tasks.

``loop spawn_procs N`` forks N children that pause(); ``loop spawn_threads N``
starts N threads blocked on a condition variable.  Both print "ready" once
everything is live and clean up when stdin reaches EOF.  The bench starts
``lx run -- loop ...`` (or ``proot loop ...``) with subprocess.Popen, waits for
"ready", checks that the guest really has its N processes / threads, samples
/proc/PID/status of the tool's own processes, then closes stdin and checks
the tool exits 0 and leaves no process behind.

Figures (KiB, in extra_info and the session summary):
    lx_sup_rss / lx_sup_hwm   VmRSS / VmHWM of the supervisor: the `lx` Python
                              process Popen started (target: <= 40 MiB)
    lx_anchor_rss             VmRSS of lx's anchor (a fork of the supervisor,
                              so most of its pages are shared with it)
    lx_pss                    Pss of supervisor + anchor (shared pages split)
    proot_rss / proot_hwm     VmRSS / VmHWM summed over proot's own processes
    proot_pss                 Pss of the same

    python -m pytest bench/bench_memory.py -o 'python_files=bench_*.py' --benchmark-only -q
    LX_BENCH_SMOKE=1 python -m pytest bench/bench_memory.py -o 'python_files=bench_*.py' \\
        -q -p no:cacheprovider --benchmark-disable
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import time

import pytest

RUNNERS = ["lx", "proot"]


def scenarios(smoke: bool) -> list[tuple[str, str, int]]:
    """(label, loop mode, N); the label is the summary's row."""
    procs, threads = (5, 20) if smoke else (100, 1000)
    return [("idle guest (1 process)", "spawn_procs", 0),
            (f"{procs} processes", "spawn_procs", procs),
            (f"{threads} threads", "spawn_threads", threads)]


# ---- /proc helpers ------------------------------------------------------------

def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def stat(pid: int) -> tuple[int, int] | None:
    """(ppid, starttime) of pid, or None if it is gone."""
    s = _read(f"/proc/{pid}/stat")
    if s is None:
        return None
    f = s[s.rindex(")") + 2:].split()
    return int(f[1]), int(f[19])


def descendants(root: int) -> list[int]:
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit() and (st := stat(int(d))) is not None:
            parent[int(d)] = st[0]
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def status(pid: int) -> dict[str, int]:
    """Numeric fields of /proc/PID/status (kB values in KiB)."""
    out: dict[str, int] = {}
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        key, _, val = line.partition(":")
        parts = val.split()
        if parts and parts[0].isdigit():
            out[key] = int(parts[0])
    return out


def pss(pid: int) -> int:
    for line in (_read(f"/proc/{pid}/smaps_rollup") or "").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def comm(pid: int) -> str:
    return (_read(f"/proc/{pid}/comm") or "").strip()


def exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def alive(seen: list[tuple[int, int]]) -> list[int]:
    """The pids of seen (pid, starttime) that still run (zombies count as gone)."""
    out = []
    for pid, start in seen:
        st = stat(pid)
        if st is not None and st[1] == start and status_state(pid) != "Z":
            out.append(pid)
    return out


def status_state(pid: int) -> str:
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    return ""


def kill_session(p: subprocess.Popen) -> None:
    """SIGKILL the session p leads (p and everything it started), then reap p."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.kill()
    p.wait(timeout=30)


def wait_ready(p: subprocess.Popen, timeout: float) -> bytes:
    """Bytes p printed up to and including its first newline."""
    fd = p.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"no 'ready' within {timeout}s (got {buf!r})")
        chunk = os.read(fd, 256)
        if not chunk:
            break
        buf += chunk
    return buf


# ---- the bench ------------------------------------------------------------------

def tool_pids(runner: str, top: int, tree: list[int]) -> list[int]:
    """The tool's own processes: lx's supervisor + anchor, or every proot process."""
    if runner == "lx":
        return [top] + [c for c in tree if stat(c) and stat(c)[0] == top and comm(c) == "lx-anchor"]
    proot = os.path.realpath(exe(top))
    return [top] + [c for c in tree if exe(c) == proot]


def sample_once(runner: str, top: int, tree: list[int]) -> dict[str, int]:
    pids = tool_pids(runner, top, tree)
    st = {pid: status(pid) for pid in pids}
    if runner == "lx":
        sup, anchors = st[top], [st[p] for p in pids[1:]]
        return dict(lx_sup_rss=sup.get("VmRSS", 0), lx_sup_hwm=sup.get("VmHWM", 0),
                    lx_anchor_rss=sum(a.get("VmRSS", 0) for a in anchors),
                    lx_pss=sum(pss(p) for p in pids), lx_tool_processes=len(pids))
    return dict(proot_rss=sum(s.get("VmRSS", 0) for s in st.values()),
                proot_hwm=sum(s.get("VmHWM", 0) for s in st.values()),
                proot_pss=sum(pss(p) for p in pids), proot_tool_processes=len(pids))


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("scenario", range(3), ids=["idle", "procs", "threads"])
def test_memory(benchmark, loop_bin, runners, results, smoke, scenario, runner):
    prefix = runners[runner]
    if prefix is None:
        pytest.skip(f"{runner} is not installed")
    label, mode, n = scenarios(smoke)[scenario]
    cmd = [*prefix, str(loop_bin), mode, str(n)]
    figures: dict[str, int] = {}

    def one_round() -> None:
        figures.clear()
        figures.update(measure(cmd, runner, mode, n, samples=1 if smoke else 5))

    benchmark.pedantic(one_round, rounds=1, iterations=1)
    assert figures, "benchmark body never ran"
    for key, val in figures.items():
        results.put("memory", label, key, val)
    benchmark.extra_info.update(scenario=label, runner=runner, n=n, unit="KiB", **figures)


def measure(cmd: list[str], runner: str, mode: str, n: int, samples: int) -> dict[str, int]:
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         bufsize=0, start_new_session=True)
    seen: list[tuple[int, int]] = []    # (pid, starttime) of the whole tree
    try:
        line = wait_ready(p, timeout=120)
        if line != b"ready\n":
            out, err = p.communicate(timeout=30)
            raise AssertionError(f"{cmd}: expected 'ready', got {line!r}; exit {p.returncode}\n"
                                 f"stderr: {err.decode(errors='replace')[-2000:]}")
        time.sleep(0.05 if samples == 1 else 0.3)   # let the tool settle after the burst
        best: dict[str, int] = {}
        for i in range(samples):
            if i:
                time.sleep(0.1)
            tree = descendants(p.pid)
            fig = sample_once(runner, p.pid, tree)
            for k, v in fig.items():
                best[k] = max(best.get(k, 0), v)
        seen = [(pid, st[1]) for pid in tree if (st := stat(pid)) is not None]

        # The guest is what it should be: N+1 processes, or 1 process of N+1 threads.
        tools = set(tool_pids(runner, p.pid, tree))
        guests = [pid for pid in tree if pid not in tools]
        threads = sum(status(pid).get("Threads", 0) for pid in guests)
        if mode == "spawn_procs":
            assert len(guests) == n + 1, f"{cmd}: expected {n + 1} guest processes, found {len(guests)}"
        else:
            assert len(guests) == 1 and threads == n + 1, \
                f"{cmd}: expected 1 guest process of {n + 1} threads, found {len(guests)} with {threads}"
        best["guest_processes"], best["guest_threads"] = len(guests), threads

        out, err = p.communicate(timeout=60)           # stdin EOF: the guest cleans up, exits
        assert p.returncode == 0, (f"{cmd} exited {p.returncode}\n"
                                   f"stderr: {err.decode(errors='replace')[-2000:]}")
    finally:
        if p.poll() is None:
            kill_session(p)
    # Nothing may outlive the tool: every process of the tree is gone.
    deadline = time.monotonic() + 5
    while (left := alive(seen)) and time.monotonic() < deadline:
        time.sleep(0.05)
    if left:
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        raise AssertionError(f"{cmd}: processes left behind after exit: {left}")
    return best
