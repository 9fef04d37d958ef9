"""Identity: uname, host and domain name, and the uid/gid family.

uname is answered by lx from the zone's identity (the C fast handler
``uname`` in native/lxfast.c does the same as ``sys_uname`` below, which is
the reference the tests compare it against).  sethostname/setdomainname
change the zone's identity only, never the host's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import abi
from .args import Int, Ptr
from .registry import Support, passthrough, syscall

if TYPE_CHECKING:
    from lx.platform.call import Call

_UTS_FIELD = 65  # __NEW_UTS_LEN + 1


@syscall("uname", support=Support.EMULATED, fast="uname",
         note="The zone's hostname, domain name and kernel release; machine x86_64.")
def sys_uname(call: Call, buf: Ptr) -> int:
    """Implements uname(2) from the zone's identity."""
    call.write(buf, call.identity.utsname())
    return 0


def _privileged(call: Call) -> bool:
    """A zone's guest is its root; on the host root, the caller's real CAP_SYS_ADMIN decides."""
    if call.sup.zonefs is not None:
        return True
    from lx.procstatus import cap_effective
    return bool(cap_effective(call.pid) >> abi.CAP_SYS_ADMIN & 1)


def _set_uts_field(call: Call, field: str, name: int, length: int) -> int:
    # kernel/sys.c: no CAP_SYS_ADMIN -> EPERM; len < 0 || len > __NEW_UTS_LEN -> EINVAL;
    # then copy_from_user.
    if not _privileged(call):
        return -abi.EPERM
    if length < 0 or length > _UTS_FIELD - 1:
        return -abi.EINVAL
    value = call.read(name, length)
    call.identity.set(field, value)
    return 0


@syscall("sethostname", support=Support.EMULATED,
         note="Changes the zone's hostname only, never the host's; a zone's guest is its root, "
              "on the host root CAP_SYS_ADMIN is needed as natively.")
def sys_sethostname(call: Call, name: Ptr, length: Int) -> int:
    """Implements sethostname(2) on the zone's identity."""
    return _set_uts_field(call, "nodename", name, length)


@syscall("setdomainname", support=Support.EMULATED,
         note="Changes the zone's NIS domain name only; privilege as for sethostname.")
def sys_setdomainname(call: Call, name: Ptr, length: Int) -> int:
    """Implements setdomainname(2) on the zone's identity."""
    return _set_uts_field(call, "domainname", name, length)


passthrough(
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "setfsuid", "setfsgid",
    note="The invoking user's real ids: the zone's fake root arrives with the identity issue.",
)
