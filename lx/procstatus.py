"""Fields of /proc/PID/status, for the few facts about a guest process the
supervisor reads there (thread group, parent, umask, capabilities)."""
from __future__ import annotations


def status_field(pid: int, key: bytes, base: int = 10) -> int | None:
    """The number after ``key`` (e.g. b"Tgid:") in /proc/PID/status; None if gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1], base)
    except (OSError, ValueError, IndexError):
        pass
    return None


def tgid(tid: int) -> int:
    """The thread group (process) of thread ``tid``."""
    return status_field(tid, b"Tgid:") or tid


def ppid(pid: int) -> int | None:
    """The parent of process ``pid``."""
    return status_field(pid, b"PPid:")


def umask(pid: int) -> int | None:
    """The umask of process ``pid``."""
    return status_field(pid, b"Umask:", 8)


def cap_effective(pid: int) -> int:
    """The effective capability set of ``pid`` (0 if gone)."""
    return status_field(pid, b"CapEff:", 16) or 0
