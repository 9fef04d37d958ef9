"""Host processes by command line, for the tests that check nothing of a
guest is left running (a test gives its sleepers a unique argument)."""
from __future__ import annotations

import os
from collections.abc import Callable


def pids_where(cmdline_matches: Callable[[bytes], bool]) -> list[int]:
    """Pids whose /proc/PID/cmdline (NUL-separated argv) satisfies the test."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if cmdline_matches(f.read()):
                        found.append(int(d))
            except OSError:
                pass
    return found


def pids_with(marker: str) -> list[int]:
    """Pids whose command line contains ``marker``."""
    m = marker.encode()
    return pids_where(lambda c: m in c)
