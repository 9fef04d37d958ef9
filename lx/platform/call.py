"""The per-call context a Python handler receives.

It carries the notification (id, pid, number, raw arguments) and gives
typed access to the guest's memory; state a call needs later lives here,
never in argument registers.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from syscalls import abi
from syscalls.registry import LinuxError

if TYPE_CHECKING:
    from lx.identity import Identity
    from lx.platform.supervisor import Supervisor
    from lx.vfs import ZoneFS

PATH_MAX = 4096


class Call:
    """One intercepted syscall, being handled."""

    __slots__ = ("sup", "id", "pid", "nr", "raw")

    def __init__(self, sup: "Supervisor", id: int, pid: int, nr: int, raw: tuple[int, ...]) -> None:
        self.sup = sup
        self.id = id
        self.pid = pid      # the calling thread's tid, as the host sees it
        self.nr = nr
        self.raw = raw      # the six argument registers

    @property
    def identity(self) -> "Identity":
        return self.sup.identity

    @property
    def zone(self) -> "ZoneFS":
        """The zone's filesystem (handlers with zone=True run only when there is one)."""
        return self.sup.zonefs

    def install_fd(self, fd: int, cloexec: bool) -> int:
        """Install our ``fd`` in the guest and answer the call with its number
        (SECCOMP_IOCTL_NOTIF_ADDFD with SEND).  The handler then returns REPLIED."""
        _, lib = self.sup.native
        r = lib.lx_addfd_send(self.sup.listener, self.id, fd, abi.O_CLOEXEC if cloexec else 0)
        if r < 0 and r != -abi.ENOENT:      # ENOENT: the guest went away meanwhile
            raise LinuxError(-r)
        return r

    def reply_error(self, errno: int) -> None:
        """Fail the call with -errno from outside the loop (a worker thread that
        took over a call whose handler returned REPLIED)."""
        _, lib = self.sup.native
        lib.lx_notif_reply(self.sup.listener, self.id, 0, -errno)

    def read(self, addr: int, size: int) -> bytes:
        """``size`` bytes of guest memory at ``addr``; EFAULT if not all readable."""
        if size == 0:
            return b""
        ffi, lib = self.sup.native
        buf = ffi.new("char[]", size)
        n = lib.lx_mem_read(self.pid, addr, buf, size)
        if n != size:
            raise LinuxError(abi.EFAULT)
        return ffi.buffer(buf, size)[:]

    def read_str(self, addr: int, limit: int = PATH_MAX) -> bytes:
        """A NUL-terminated string (without the NUL); EFAULT or ENAMETOOLONG."""
        ffi, lib = self.sup.native
        buf = ffi.new("char[]", limit)
        n = lib.lx_mem_read_str(self.pid, addr, buf, limit)
        if n < 0:
            raise LinuxError(-n)
        return ffi.buffer(buf, n)[:]

    def write(self, addr: int, data: bytes) -> None:
        """Copy ``data`` to guest memory at ``addr``; EFAULT if not all writable."""
        if not data:
            return
        _, lib = self.sup.native
        if lib.lx_mem_write(self.pid, addr, data, len(data)) != len(data):
            raise LinuxError(abi.EFAULT)

    def still_waiting(self) -> bool:
        """True while the guest still waits for this call (SECCOMP_IOCTL_NOTIF_ID_VALID):
        check it after reading guest memory and before acting on what was read."""
        return bool(self.sup.native[1].lx_notif_id_valid(self.sup.listener, self.id))
