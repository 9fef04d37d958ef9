"""The tracer in trace-all mode (every guest process ptraced, as zones need):
the supervisor's behavioural suites pass unchanged with it on."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SUITES = ["tests/lx/test_run.py", "tests/lx/test_probes.py", "tests/lx/test_processes.py",
          "tests/lx/test_terminal.py", "tests/lx/platform/test_supervisor.py"]


def test_suites_pass_with_every_guest_process_traced(tmp_path):
    env = dict(os.environ, LX_TRACE_ALL="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--basetemp={tmp_path}/t", *SUITES], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert " failed" not in r.stdout
