"""Each bench file runs once, quickly (smoke mode): timings are never asserted here."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("path", sorted(BENCH.glob("bench_*.py")), ids=lambda p: p.name)
def test_bench_file_runs_in_smoke_mode(path, tmp_path):
    env = dict(os.environ, LX_BENCH_SMOKE="1")
    r = subprocess.run([sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider",
                        "--benchmark-disable", "-o", "python_files=bench_*.py",
                        "-o", "python_functions=test_* bench_*"],
                       capture_output=True, text=True, env=env, cwd=BENCH.parent, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " passed" in r.stdout
