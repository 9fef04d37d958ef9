"""Rendering of the /proc files a zone cannot show as the host has them.

A zone's /proc is the host's procfs, bound in; files that carry host paths
are rendered here instead, with the zone's view: the path fields of
/proc/PID/maps are guest paths, and /proc/PID/mountinfo and mounts list the
zone's own mounts (its root and binds) rather than the host's, and
/proc/sys/kernel/{hostname,domainname,osrelease,ostype} and /proc/version
agree with uname(2), i.e. with the zone's identity.  The open
handler installs the rendered text in the guest as a memfd.  (The identity
issue brings the pid view and the rest of /proc here.)
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lx.identity import Identity
    from lx.vfs.resolve import ZoneFS

_PROC_FILE = re.compile(rb"^/proc/(\d+)(?:/task/\d+)?/(maps|mountinfo|mounts)$")
STUB_NAME = b"[lx-stub]"


_UTS_FILES = {b"/proc/sys/kernel/hostname": "nodename", b"/proc/sys/kernel/domainname": "domainname",
              b"/proc/sys/kernel/osrelease": "release", b"/proc/sys/kernel/ostype": "sysname"}


def render(zone: "ZoneFS", path: bytes, stub: bytes | None = None, identity: "Identity | None" = None
           ) -> bytes | None:
    """The zone's text for ``path`` (already /proc/self-substituted), or None
    when lx does not render that file (it is then opened as it is)."""
    if identity is not None:
        if path in _UTS_FILES:       # agree with uname(2): the zone's identity
            return getattr(identity, _UTS_FILES[path]).split(b"\0", 1)[0] + b"\n"
        if path == b"/proc/version":
            return _version(identity)
    if path in (b"/proc/mounts", b"/proc/self/mounts"):
        path = b"/proc/%d/mounts" % os.getpid()
    m = _PROC_FILE.match(path)
    if not m:
        return None
    pid, what = int(m.group(1)), m.group(2)
    try:
        if what == b"maps":
            return _maps(zone, pid, stub)
        return _mounts(zone, pid, what == b"mountinfo")
    except FileNotFoundError:
        return None            # no such process: let the open fail as it would


def _version(identity: "Identity") -> bytes:
    """The host's /proc/version with the zone's kernel release in it."""
    with open("/proc/version", "rb") as f:
        words = f.read().split(b" ", 3)
    if len(words) == 4 and words[:2] == [b"Linux", b"version"]:
        words[2] = identity.release
    return b" ".join(words)


def _maps(zone: "ZoneFS", pid: int, stub: bytes | None) -> bytes:
    with open(f"/proc/{pid}/maps", "rb") as f:
        lines = f.read().splitlines(keepends=True)
    out = []
    for line in lines:
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[5].startswith(b"/"):
            host = fields[5].rstrip(b"\n")
            deleted = host.endswith(b" (deleted)")
            if deleted:
                host = host[:-len(b" (deleted)")]
            guest = STUB_NAME if stub is not None and host == stub else zone.to_guest(host)
            if guest is not None:
                head = line[:len(line) - len(fields[5])]
                line = head + guest + (b" (deleted)" if deleted else b"") + b"\n"
        out.append(line)
    return b"".join(out)


def _host_mounts(pid: int) -> list[list[bytes]]:
    with open(f"/proc/{pid}/mountinfo", "rb") as f:
        return [ln.split() for ln in f.read().splitlines() if ln]


def _containing(host_mounts: list[list[bytes]], host: bytes) -> list[bytes]:
    """The host mountinfo entry whose mount point holds ``host`` (longest match)."""
    best = None
    for fields in host_mounts:
        mp = fields[4]
        if host == mp or host.startswith(mp.rstrip(b"/") + b"/"):
            if best is None or len(mp) >= len(best[4]):
                best = fields
    return best


def _mounts(zone: "ZoneFS", pid: int, info: bool) -> bytes:
    host_mounts = _host_mounts(pid)
    table = sorted(zone.mounts.by_guest.values(), key=lambda m: (len(m.parts), m.guest))
    ids: dict[bytes, int] = {}
    out = []
    for n, m in enumerate(table):
        hm = _containing(host_mounts, m.host)
        if hm is None:
            continue
        sep = hm.index(b"-")
        opts = hm[5]
        if m.readonly:
            opts = b"ro" + opts[2:] if opts.startswith(b"rw") else opts
        fstype, source, super_opts = hm[sep + 1], hm[sep + 2], hm[sep + 3] if len(hm) > sep + 3 else b"rw"
        mid = 1000 + n
        ids[m.guest] = mid
        if info:
            parent = mid if m.guest == b"/" else _parent_id(ids, m.guest)
            # the mount's root within its filesystem would name a host path: "/"
            out.append(b" ".join([b"%d" % mid, b"%d" % parent, hm[2], b"/", m.guest, opts,
                                  *hm[6:sep], b"-", fstype, source, super_opts]) + b"\n")
        else:
            out.append(b" ".join([source, m.guest, fstype, opts, b"0", b"0"]) + b"\n")
    return b"".join(out)


def _parent_id(ids: dict[bytes, int], guest: bytes) -> int:
    p = guest
    while p != b"/":
        p = p.rsplit(b"/", 1)[0] or b"/"
        if p in ids:
            return ids[p]
    return ids.get(b"/", 1000)
