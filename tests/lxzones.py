"""Zones for the test suites (a module, not conftest: every test folder has a
conftest of its own, and `import conftest` would find whichever came first)."""
from __future__ import annotations

from pathlib import Path


def new_default_zone(tmp_path_factory) -> Path:
    """A fresh busybox default zone, built by lx itself in a private LX_HOME."""
    import os
    home = tmp_path_factory.mktemp("lxhome")
    old = os.environ.get("LX_HOME")
    os.environ["LX_HOME"] = str(home)
    try:
        from lx.defaultzone import ensure_default_zone
        return ensure_default_zone()
    finally:
        if old is None:
            del os.environ["LX_HOME"]
        else:
            os.environ["LX_HOME"] = old

