"""Sockets.  On the host root they run unchanged.  In a zone, an AF_UNIX
address that is a path names a file in the zone: bind, connect and sendto
are performed by the supervisor on its own copy of the guest's socket
(pidfd_getfd: the same open socket), with the path resolved in the zone,
so a guest can neither reach a host socket by its path nor create one
outside the zone.  Other families take the same route (never CONTINUE: the
guest could rewrite the address after lx read it).
"""
from __future__ import annotations

import ctypes
import os
import struct
import threading
from typing import TYPE_CHECKING

from lx.procstatus import tgid
from lx.vfs.guest import at, check_writable, raw, umask_of

from . import abi
from .args import Fd, Int, Ptr, SizeT
from .registry import CONTINUE, REPLIED, LinuxError, Support, passthrough, syscall

if TYPE_CHECKING:
    from lx.platform.call import Call

_SOCKADDR_MAX = 128            # sizeof(struct sockaddr_storage): move_addr_to_kernel's limit
_SUN_PATH = 108
_NOTE = ("Zones: AF_UNIX paths are resolved in the zone and the call is made by the supervisor on the "
         "guest's socket; getsockname/getpeername show the guest's path, accept/recvfrom show lx's.")

passthrough(
    "socket", "socketpair", "listen", "accept", "accept4", "recvfrom", "sendmsg", "recvmsg",
    "sendmmsg", "recvmmsg", "shutdown", "setsockopt", "getsockopt",
    note="No path involved (sendmsg to an AF_UNIX path in a zone: see the README).",
)


def _guest_socket(call: Call, fd: int) -> int:
    """Our copy of the guest's fd ``fd`` (the same open file)."""
    pidfd = raw("pidfd_open", tgid(call.pid), 0)
    try:
        return raw("pidfd_getfd", pidfd, fd, 0)
    except OSError as e:
        raise LinuxError(abi.EBADF if e.errno == abi.EBADF else abi.linux_errno(e)) from None
    finally:
        os.close(pidfd)


def _read_addr(call: Call, addr: int, length: int) -> bytes:
    if length < 0 or length > _SOCKADDR_MAX:
        raise LinuxError(abi.EINVAL)
    return call.read(addr, length) if length else b""


def _unix_path(data: bytes) -> bytes | None:
    """The path of an AF_UNIX pathname address (None: another family, abstract or unnamed)."""
    if len(data) > 2 and struct.unpack_from("<H", data)[0] == abi.AF_UNIX and data[2] != 0:
        return data[2:].split(b"\0", 1)[0]
    return None


def _sockaddr_un(path: bytes) -> bytes:
    if len(path) >= _SUN_PATH:
        raise LinuxError(abi.ENAMETOOLONG)
    return struct.pack("<H", abi.AF_UNIX) + path + b"\0"


def _names(call: Call) -> dict[bytes, bytes]:
    """Host sun_path -> the guest's, for the sockets this zone bound."""
    sup = call.sup
    if not hasattr(sup, "unix_names"):
        sup.unix_names = {}
    return sup.unix_names


def _call_on(call: Call, name: str, sock: int, addr: bytes) -> int:
    """``name``(sock, addr, len) -- bind or connect -- with errors as LinuxError."""
    buf = ctypes.create_string_buffer(addr, len(addr))
    try:
        return raw(name, sock, buf, len(addr))
    except OSError as e:
        raise LinuxError(abi.linux_errno(e)) from None


def _blocking(sock: int) -> bool:
    import fcntl
    return not fcntl.fcntl(sock, fcntl.F_GETFL) & os.O_NONBLOCK


@syscall("connect", support=Support.PARTIAL, note=_NOTE, zone=True)
def sys_connect(call: Call, fd: Fd, addr: Ptr, length: Int) -> int:
    """Implements connect(2) in a zone."""
    data = _read_addr(call, addr, length)
    path = _unix_path(data)
    keep = at(call, abi.AT_FDCWD, path) if path is not None else None   # ENOENT, ELOOP... as the kernel
    try:
        sock = _guest_socket(call, fd)
    except BaseException:
        if keep is not None:
            keep.close()
        raise
    if keep is not None:
        data = _sockaddr_un(b"/proc/self/fd/%d" % keep.fd)

    def finish() -> int:
        try:
            return _call_on(call, "connect", sock, data)
        finally:
            os.close(sock)
            if keep is not None:
                keep.close()

    if not _blocking(sock):
        return finish()

    def work() -> None:          # a blocking connect waits in a thread, never in the loop
        try:
            finish()
            call.reply_error(0)
        except LinuxError as e:
            call.reply_error(e.errno)
    threading.Thread(target=work, name="lx-connect", daemon=True).start()
    return REPLIED


@syscall("bind", support=Support.PARTIAL, note=_NOTE, zone=True)
def sys_bind(call: Call, fd: Fd, addr: Ptr, length: Int) -> int:
    """Implements bind(2) in a zone."""
    data = _read_addr(call, addr, length)
    sock = _guest_socket(call, fd)
    try:
        path = _unix_path(data)
        if path is None:
            return _call_on(call, "bind", sock, data)
        with at(call, abi.AT_FDCWD, path, must_exist=False, follow=False) as r:
            if r.exists:
                return -abi.EADDRINUSE
            check_writable(r)
            host = b"/proc/self/fd/%d/%s" % (r.parent_fd, r.name)
            with umask_of(call):
                _call_on(call, "bind", sock, _sockaddr_un(host))
            _names(call)[host] = path
        return 0
    finally:
        os.close(sock)


@syscall("sendto", support=Support.PARTIAL, note=_NOTE, zone=True)
def sys_sendto(call: Call, fd: Fd, buf: Ptr, size: SizeT, flags: Int, addr: Ptr, length: Int) -> int:
    """Implements sendto(2) in a zone: an address means the supervisor sends."""
    if addr == 0:
        return CONTINUE            # a connected socket: no address, nothing to translate
    data = _read_addr(call, addr, length)
    path = _unix_path(data)
    payload = call.read(buf, min(size, 1 << 20)) if size else b""
    sock = _guest_socket(call, fd)
    try:
        keep = None
        if path is not None:
            keep = at(call, abi.AT_FDCWD, path)
            data = _sockaddr_un(b"/proc/self/fd/%d" % keep.fd)
        try:
            pbuf = ctypes.create_string_buffer(payload, len(payload))
            abuf = ctypes.create_string_buffer(data, len(data))
            return raw("sendto", sock, pbuf, len(payload), flags | abi.MSG_DONTWAIT, abuf, len(data))
        except OSError as e:
            raise LinuxError(abi.linux_errno(e)) from None
        finally:
            if keep is not None:
                keep.close()
    finally:
        os.close(sock)


def _name_call(call: Call, name: str, fd: int, addr: int, lenp: int) -> int:
    """getsockname/getpeername: the kernel's answer, with a zone-bound path shown as the guest gave it."""
    (want,) = struct.unpack("<i", call.read(lenp, 4))
    if want < 0:
        return -abi.EINVAL
    sock = _guest_socket(call, fd)
    try:
        out = ctypes.create_string_buffer(_SOCKADDR_MAX)
        n = ctypes.c_int(_SOCKADDR_MAX)
        try:
            raw(name, sock, out, ctypes.byref(n))
        except OSError as e:
            raise LinuxError(abi.linux_errno(e)) from None
    finally:
        os.close(sock)
    data = out.raw[:n.value]
    path = _unix_path(data)
    if path is not None and path in _names(call):   # a socket the zone bound: its guest path
        data = struct.pack("<H", abi.AF_UNIX) + _names(call)[path] + b"\0"
    call.write(addr, data[:want])
    call.write(lenp, struct.pack("<i", len(data)))
    return 0


@syscall("getsockname", support=Support.PARTIAL, note=_NOTE, zone=True)
def sys_getsockname(call: Call, fd: Fd, addr: Ptr, lenp: Ptr) -> int:
    """Implements getsockname(2) in a zone."""
    return _name_call(call, "getsockname", fd, addr, lenp)


@syscall("getpeername", support=Support.PARTIAL, note=_NOTE, zone=True)
def sys_getpeername(call: Call, fd: Fd, addr: Ptr, lenp: Ptr) -> int:
    """Implements getpeername(2) in a zone."""
    return _name_call(call, "getpeername", fd, addr, lenp)
