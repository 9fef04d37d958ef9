"""The supervisor's behavioural suites pass unchanged in the modes zones use:
every guest process ptraced (LX_TRACE_ALL), and every exec through lx's
loader and stub (LX_LOADER)."""
import os
import subprocess

import pytest
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SUITES = ["tests/lx/test_run.py", "tests/lx/test_probes.py", "tests/lx/test_processes.py",
          "tests/lx/test_terminal.py", "tests/lx/platform/test_supervisor.py"]


@pytest.mark.parametrize("mode", ["LX_TRACE_ALL", "LX_LOADER"])
def test_suites_pass_in_zone_modes(tmp_path, mode):
    env = dict(os.environ, **{mode: "1"})
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--basetemp={tmp_path}/t", *SUITES], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert " failed" not in r.stdout
