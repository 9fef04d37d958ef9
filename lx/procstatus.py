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
    """The effective capability set of ``pid`` (0 if gone), by capget(2):
    about 1 us where reading /proc/PID/status costs some 15 us."""
    import ctypes
    import struct

    from syscalls import abi
    from lx.vfs.guest import raw
    header = ctypes.create_string_buffer(struct.pack("<Ii", abi._LINUX_CAPABILITY_VERSION_3, pid), 8)
    data = ctypes.create_string_buffer(12 * abi._LINUX_CAPABILITY_U32S_3)
    try:
        raw("capget", header, data)
    except OSError:
        return 0
    words = struct.unpack(f"<{3 * abi._LINUX_CAPABILITY_U32S_3}I", data.raw)
    return sum(words[3 * i] << (32 * i) for i in range(abi._LINUX_CAPABILITY_U32S_3))   # .effective
