"""Cost of running in a zone: path syscalls natively, under lx and under proot.

In a zone (``lx run --root DIR``) every path syscall is a seccomp user
notification answered by a Python handler (syscalls/path.py, syscalls/stat.py)
that resolves the guest path in the zone and makes the call on the resolved
object, and every exec goes through lx's loader.  proot does the same job by
ptrace (``proot -r DIR``).

The zone is the default zone (busybox-static, lx.defaultzone) built in a
temporary LX_HOME for the session, plus:

    /bin/zoneloop   bench/programs/zoneloop.c, built static (nothing to find
                    in the zone) and copied in, so one binary runs everywhere
    /tmp/tree       a generated tree of small files (full mode: 2,000 files of
                    4-6 KiB, ~10 MB, in 10 x 10 nested directories)
    /tmp/tree.tar   the same tree as one uncompressed tarball

Per call (``zoneloop stat|openclose N PATH``, only the loop is timed,
``MODE ns_per_call=<float> n=<N>``; openclose is one open + one close), for
two paths: ``/etc/passwd`` (absolute: one openat2 from the zone's root in
the supervisor) and ``tree/d00/s00/f000.dat`` with guest cwd /tmp (relative,
as find and tar hand paths out: the supervisor also has to find the guest's
cwd through /proc/PID/cwd).  native runs the same static binary on the host
path of the same file (DIR/etc/passwd; in DIR/tmp for the relative one):
that is the call the supervisor itself makes once it has resolved the guest
path.  Targets: lx <= 0.25x proot and <= 10x native.

Workloads (wall clock of the whole command, start-up included; cwd /tmp of
the zone, natively DIR/tmp, so every runner gets the same argv):

    tar x          busybox tar xf tree.tar -C x/RUNNER-ROUND (a fresh empty
                   directory per round, made before and removed after the
                   timed part; the extracted tree is checked)
    find+stat      busybox find tree -type f -exec busybox stat -c %s {} +
                   (find lstats every entry, stat stats every file again;
                   the output is checked: one size per file)
    start-up       busybox true: what every workload figure includes

natively with the host's /bin/busybox (the zone's is a copy of it).  Target:
lx faster than proot (lx/proot < 1) for tar x and find+stat.

proot runs as it does by default and pinned to one CPU (``proot1cpu``, see
bench_syscalls.py).  Timings are never asserted; the figures go to
extra_info and to the session summary (bench/conftest.py's results), whose
zone section this module prints after conftest's own.

    python -m pytest bench/bench_zone.py -o 'python_files=bench_*.py' --benchmark-only -q -s
    LX_BENCH_SMOKE=1 python -m pytest bench/bench_zone.py -o 'python_files=bench_*.py' \\
        -q -p no:cacheprovider --benchmark-disable
"""
from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import kill_session   # bench/conftest.py

ZONELOOP_SRC = Path(__file__).resolve().parent / "programs" / "zoneloop.c"
RUNNERS = ["native", "proot", "proot1cpu", "lx"]   # lx last: its ratios use the others
MODES = ["stat", "openclose"]
# (guest cwd, path): an absolute path, and a relative one as find hands them out
CALL_PATHS = [("/", "/etc/passwd"), ("/tmp", "tree/d00/s00/f000.dat")]
CALL_RE = r"^{} ns_per_call=([0-9.]+) n=(\d+)$"
WORKLOADS = ["tar x", "find+stat", "start-up"]
BUSYBOX = "/bin/busybox"

# Issue targets (reported, never asserted).
TARGET_CALL_VS_PROOT = 0.25
TARGET_CALL_VS_NATIVE = 10.0
TARGET_WORKLOAD_VS_PROOT = 1.0      # lx faster than proot: strictly below

SEC_CALL = "zone"
SEC_WORKLOAD = "zone_workload"
SUMMARY_PLUGIN = "lx-bench-zone-summary"


def calls_for(runner: str, smoke: bool) -> int:
    if smoke:
        return 200
    return 200_000 if runner == "native" else 20_000


def rounds_for(runner: str, smoke: bool) -> int:
    return 1 if smoke else (3 if runner.startswith("proot") else 5)


def tree_shape(smoke: bool) -> tuple[int, int, int]:
    """(top directories, subdirectories in each, files in each subdirectory)."""
    return (2, 2, 5) if smoke else (10, 10, 20)


# ---- the zone -------------------------------------------------------------------

@dataclass
class Zone:
    root: Path
    nfiles: int          # regular files in /tmp/tree
    nbytes: int          # their total size
    tar_bytes: int       # size of /tmp/tree.tar

    def host(self, guest: str) -> str:
        """The host path of guest path ``guest``."""
        return str(self.root) + guest


def _make_tree(tree: Path, smoke: bool) -> tuple[int, int]:
    """Fill ``tree`` with the benchmark's small files; (count, total bytes)."""
    rng = random.Random(0)
    top, sub, per = tree_shape(smoke)
    n = total = 0
    for a in range(top):
        for b in range(sub):
            d = tree / f"d{a:02d}" / f"s{b:02d}"
            d.mkdir(parents=True)
            for c in range(per):
                data = rng.randbytes(rng.randint(4096, 6144))
                (d / f"f{c:03d}.dat").write_bytes(data)
                n += 1
                total += len(data)
    return n, total


@pytest.fixture(scope="module")
def zone(smoke):
    """The default zone in a temporary LX_HOME, with /bin/zoneloop, /tmp/tree and /tmp/tree.tar."""
    if shutil.which("gcc") is None:
        pytest.skip("no C compiler (gcc)")
    from conformance.build import build_c
    from lx.defaultzone import ensure_default_zone
    from lx.zone import ZoneError

    try:
        binary = build_c(ZONELOOP_SRC, flags=("-static",))
    except RuntimeError as e:
        pytest.skip(f"cannot build zoneloop.c static (no static libc?): {e}")
    base = Path(tempfile.mkdtemp(prefix="lx-bench-zone-"))
    try:
        saved = os.environ.get("LX_HOME")
        os.environ["LX_HOME"] = str(base)
        try:
            root = ensure_default_zone()
        except ZoneError as e:
            pytest.skip(str(e))
        finally:
            if saved is None:
                del os.environ["LX_HOME"]
            else:
                os.environ["LX_HOME"] = saved
        shutil.copyfile(binary, root / "bin" / "zoneloop")
        os.chmod(root / "bin" / "zoneloop", 0o755)
        nfiles, nbytes = _make_tree(root / "tmp" / "tree", smoke)
        tar_path = root / "tmp" / "tree.tar"
        with tarfile.open(tar_path, "w", format=tarfile.GNU_FORMAT) as t:
            t.add(root / "tmp" / "tree", arcname="tree")
        (root / "tmp" / "x").mkdir()
        yield Zone(root, nfiles, nbytes, tar_path.stat().st_size)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def zone_prefix(runners: dict, runner: str, root: Path, cwd: str) -> list[str] | None:
    """The command prefix running a guest command in ``root`` with guest cwd ``cwd``."""
    prefix = runners[runner]
    if prefix is None or runner == "native":
        return prefix
    if runner == "lx":                                  # [..., "run", "--"]
        assert prefix[-1] == "--", prefix
        return [*prefix[:-1], "--root", str(root), "-w", cwd, "--"]
    return [*prefix, "-r", str(root), "-w", cwd]        # proot, proot1cpu


def run_timed(cmd: list[str], cwd: str, timeout: float = 600) -> tuple[float, str]:
    """Run cmd (in its own session, killed whole on timeout or error) in cwd;
    (wall seconds, stdout); fails the test if it exits non-zero."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        kill_session(p)
        raise
    dt = time.perf_counter() - t0
    assert p.returncode == 0, (f"{' '.join(cmd)} (cwd {cwd}) exited {p.returncode}\n"
                               f"stdout: {out[-2000:]}\nstderr: {err[-2000:]}")
    return dt, out


# ---- the summary ------------------------------------------------------------------

def _below(value: float | None, limit: float, strict: bool = False) -> str:
    if value is None:
        return ""
    return "ok" if (value < limit if strict else value <= limit) else "MISSED"


def zone_summary_lines(res, cf) -> list[str]:
    """The zone's rows of the session summary (cf: bench/conftest.py, for its table helpers)."""
    lines: list[str] = []
    rows = []
    for row in res.rows(SEC_CALL):
        r_native = res.ratio(SEC_CALL, row, "lx", (SEC_CALL, row, "native"))
        r_proot = res.ratio(SEC_CALL, row, "lx", (SEC_CALL, row, "proot"))
        r_proot1 = res.ratio(SEC_CALL, row, "lx", (SEC_CALL, row, "proot1cpu"))
        target = (f"native<={TARGET_CALL_VS_NATIVE:g} {_below(r_native, TARGET_CALL_VS_NATIVE)}, "
                  f"proot<={TARGET_CALL_VS_PROOT} {_below(r_proot, TARGET_CALL_VS_PROOT)}")
        rows.append([row, *(cf._fmt(res.get(SEC_CALL, row, c)) for c in ["native", "lx", "proot", "proot1cpu"]),
                     cf._fmt(r_native, 2), cf._fmt(r_proot, 3), cf._fmt(r_proot1, 3), target])
    if rows:
        lines += cf._table(["zone per call (ns, median)", "native", "lx", "proot", "proot1cpu", "lx/native",
                            "lx/proot", "lx/proot1cpu", "lx target"], rows)
        lines += ["* native: the same static binary on the file's host path; openclose: open + close", ""]
    rows = []
    for row in res.rows(SEC_WORKLOAD):
        r_native = res.ratio(SEC_WORKLOAD, row, "lx", (SEC_WORKLOAD, row, "native"))
        r_proot = res.ratio(SEC_WORKLOAD, row, "lx", (SEC_WORKLOAD, row, "proot"))
        r_proot1 = res.ratio(SEC_WORKLOAD, row, "lx", (SEC_WORKLOAD, row, "proot1cpu"))
        target = ("(reference)" if row.startswith("start-up") else
                  f"proot<{TARGET_WORKLOAD_VS_PROOT:g} {_below(r_proot, TARGET_WORKLOAD_VS_PROOT, strict=True)}")
        rows.append([row, *(cf._fmt(res.get(SEC_WORKLOAD, row, c)) for c in ["native", "lx", "proot", "proot1cpu"]),
                     cf._fmt(r_native, 2), cf._fmt(r_proot, 3), cf._fmt(r_proot1, 3), target])
    if rows:
        lines += cf._table(["zone workload (ms wall, median)", "native", "lx", "proot", "proot1cpu", "lx/native",
                            "lx/proot", "lx/proot1cpu", "lx target"], rows)
        lines += ["* whole command, start-up included; native: host busybox on the tree's host path", ""]
    return lines


class _ZoneSummary:
    """Prints the zone's rows after conftest's summary (a hookwrapper: runs after every trylast impl)."""

    def __init__(self, res) -> None:
        self.res = res

    @pytest.hookimpl(hookwrapper=True)
    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        yield
        if not self.res.rows(SEC_CALL) and not self.res.rows(SEC_WORKLOAD):
            return
        cf = sys.modules[type(self.res).__module__]       # bench/conftest.py, whatever its module name
        for line in zone_summary_lines(self.res, cf):
            terminalreporter.write_line(line)


@pytest.fixture(scope="module", autouse=True)
def _zone_summary(pytestconfig, results):
    pm = pytestconfig.pluginmanager
    if not pm.has_plugin(SUMMARY_PLUGIN):
        pm.register(_ZoneSummary(results), SUMMARY_PLUGIN)


# ---- the benchmarks -----------------------------------------------------------------

def _record(benchmark, results, section: str, row: str, runner: str, median: float,
            samples: list[float], unit: str, **info) -> None:
    results.put(section, row, runner, median)
    info.update({"runner": runner, "rounds": len(samples), f"{unit}_median": round(median, 1),
                 f"{unit}_min": round(min(samples), 1), f"{unit}_samples": [round(s, 1) for s in samples]})
    if runner != "native":
        info["ratio_vs_native"] = results.ratio(section, row, runner, (section, row, "native"))
    if runner == "lx":
        for other in ("proot", "proot1cpu"):
            info[f"ratio_vs_{other}"] = results.ratio(section, row, "lx", (section, row, other))
    benchmark.extra_info.update(info)


def _call_row(mode: str, cwd: str, path: str) -> str:
    return f"{mode} {path}" + ("" if path.startswith("/") else f" (cwd {cwd})")


CALL_CASES = [(m, cp, r) for m in MODES for cp in CALL_PATHS for r in RUNNERS]


@pytest.mark.parametrize(("mode", "cwd_path", "runner"), CALL_CASES,
                         ids=[f"{m}-{'abs' if p.startswith('/') else 'rel'}-{r}" for m, (_, p), r in CALL_CASES])
def test_zone_call(benchmark, zone, runners, results, smoke, mode, cwd_path, runner):
    gcwd, path = cwd_path
    prefix = zone_prefix(runners, runner, zone.root, gcwd)
    if prefix is None:
        pytest.skip(f"{runner} is not installed")
    n = calls_for(runner, smoke)
    if runner == "native":          # the host path the supervisor ends up using
        host_cwd = zone.host(gcwd)
        cmd = [zone.host("/bin/zoneloop"), mode, str(n), zone.host(path) if path.startswith("/") else path]
    else:
        host_cwd = "/"
        cmd = [*prefix, "/bin/zoneloop", mode, str(n), path]
    samples: list[float] = []

    def one_round() -> float:
        _, out = run_timed(cmd, host_cwd, timeout=300)
        m = re.search(CALL_RE.format(mode), out, re.M)
        assert m, f"{' '.join(cmd)}: no result line in:\n{out[-2000:]}"
        assert int(m[2]) == n
        samples.append(float(m[1]))
        return samples[-1]

    benchmark.pedantic(one_round, rounds=rounds_for(runner, smoke), iterations=1)
    assert samples, "benchmark body never ran"
    _record(benchmark, results, SEC_CALL, _call_row(mode, gcwd, path), runner, statistics.median(samples),
            samples, "ns_per_call", mode=mode, path=path, cwd=gcwd, n=n)


def _count_tree(top: Path) -> tuple[int, int]:
    n = total = 0
    for dirpath, _, files in os.walk(top):
        for f in files:
            st = os.lstat(os.path.join(dirpath, f))
            n += 1
            total += st.st_size
    return n, total


@pytest.mark.parametrize(("workload", "runner"), [(w, r) for w in WORKLOADS for r in RUNNERS],
                         ids=[f"{w.replace(' ', '')}-{r}" for w in WORKLOADS for r in RUNNERS])
def test_zone_workload(benchmark, zone, runners, results, smoke, workload, runner):
    prefix = zone_prefix(runners, runner, zone.root, "/tmp")
    if prefix is None:
        pytest.skip(f"{runner} is not installed")
    busybox = BUSYBOX if runner == "native" else "/bin/busybox"
    cwd = zone.host("/tmp") if runner == "native" else "/"
    samples: list[float] = []
    pending: list[Path] = []          # extraction directories still to check and remove
    rnd = iter(range(1_000_000))

    def setup():
        if workload != "tar x":
            return None
        dest = f"x/{runner}-{next(rnd)}"
        Path(zone.host("/tmp/" + dest)).mkdir()
        pending.append(Path(zone.host("/tmp/" + dest)))
        return ([*prefix, busybox, "tar", "xf", "tree.tar", "-C", dest],), {}

    def teardown(*_):
        while pending:
            d = pending.pop()
            got = _count_tree(d / "tree")
            shutil.rmtree(d)
            assert got == (zone.nfiles, zone.nbytes), \
                f"tar x under {runner}: extracted (files, bytes) {got}, expected {(zone.nfiles, zone.nbytes)}"

    def one_round(cmd: list[str] | None = None) -> float:
        if workload == "find+stat":
            cmd = [*prefix, busybox, "find", "tree", "-type", "f", "-exec", busybox, "stat", "-c", "%s", "{}", "+"]
        elif workload == "start-up":
            cmd = [*prefix, busybox, "true"]
        dt, out = run_timed(cmd, cwd)
        if workload == "find+stat":
            sizes = [int(x) for x in out.split()]
            assert (len(sizes), sum(sizes)) == (zone.nfiles, zone.nbytes), \
                f"find+stat under {runner}: (files, bytes) {(len(sizes), sum(sizes))}"
        samples.append(dt * 1e3)
        return samples[-1]

    try:
        benchmark.pedantic(one_round, setup=setup, teardown=teardown if workload == "tar x" else None,
                           rounds=rounds_for(runner, smoke), iterations=1)
        assert samples, "benchmark body never ran"
        teardown()                    # --benchmark-disable calls no teardown
    finally:
        for d in pending:
            shutil.rmtree(d, ignore_errors=True)
    row = {"tar x": f"tar x ({zone.nfiles} files, {zone.tar_bytes / 1e6:.1f} MB)",
           "find+stat": f"find+stat ({zone.nfiles} files)",
           "start-up": "start-up (busybox true)"}[workload]
    _record(benchmark, results, SEC_WORKLOAD, row, runner, statistics.median(samples), samples, "ms",
            workload=workload, files=zone.nfiles, bytes=zone.nbytes)
