"""The identity a zone reports: uname's six fields.

The C fast handler for uname(2) copies ``utsname()`` from a buffer the
supervisor keeps current; sethostname/setdomainname (Python handlers)
change it through ``set``.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

UTS_FIELDS = ("sysname", "nodename", "release", "version", "machine", "domainname")
UTS_LEN = 65  # __NEW_UTS_LEN + 1


@dataclass
class Identity:
    """uname's fields as bytes (at most 64 bytes each)."""

    sysname: bytes = b"Linux"
    nodename: bytes = b"localhost"
    release: bytes = b"6.18.0"
    version: bytes = b"#1 SMP"
    machine: bytes = b"x86_64"
    domainname: bytes = b"(none)"
    on_change: Callable[["Identity"], None] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def host(cls, nodename: str | None = None, release: str | None = None) -> "Identity":
        """The host's own identity, with the hostname or release overridden."""
        u = os.uname()
        return cls(sysname=u.sysname.encode(), nodename=(nodename or u.nodename).encode(),
                   release=(release or u.release).encode(), version=u.version.encode(),
                   machine=u.machine.encode(), domainname=_host_domainname())

    def utsname(self) -> bytes:
        """struct new_utsname: six NUL-padded 65-byte fields."""
        return b"".join(getattr(self, f)[:UTS_LEN - 1].ljust(UTS_LEN, b"\0") for f in UTS_FIELDS)

    def set(self, name: str, value: bytes) -> None:
        """Change one field as sethostname(2) does: all ``len`` bytes are kept,
        embedded NULs too, and the rest of the field is zeroed (kernel/sys.c)."""
        if name not in UTS_FIELDS:
            raise KeyError(name)
        setattr(self, name, value[:UTS_LEN - 1])
        if self.on_change:
            self.on_change(self)


def _host_domainname() -> bytes:
    try:
        with open("/proc/sys/kernel/domainname", "rb") as f:
            return f.read().strip() or b"(none)"
    except OSError:
        return b"(none)"
