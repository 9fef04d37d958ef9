"""A subset of the suite, run as an ordinary user (no root, no user namespaces)."""
import os

import pytest

from rootless import rootless_pytest

SUBSET = ["tests/lx/test_run.py", "tests/lx/test_terminal.py", "tests/lx/test_cli.py",
          "tests/lx/test_zone_run.py", "tests/lx/test_hosttools_zone.py", "tests/lx/platform/test_execsvc.py",
          "tests/lx/platform/test_landlock.py", "tests/lx/vfs", "tests/lx/loader", "tests/lx/test_probes.py"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create the unprivileged user")
def test_subset_passes_as_an_unprivileged_user():
    r = rootless_pytest(SUBSET)
    tail = (r.stdout + r.stderr)[-4000:]
    assert r.returncode == 0, tail
    assert " passed" in r.stdout and " failed" not in r.stdout, tail
    print(r.stdout.strip().splitlines()[-1])
