"""A zone's mount table: the root plus its binds, as the guest's kernel would keep them.

A bind (``-b HOST:GUEST``) makes the host file or directory HOST appear at the
guest path GUEST, exactly like ``mount --bind``: it hides whatever the root has
there, ``..`` from its top goes to GUEST's parent (not HOST's), and when
several mounts contain a path the deepest (longest guest path) wins.  Every
mount is opened once, as an O_PATH fd, when the table is built; resolution
works from those fds, so renaming HOST later does not move the bind (a mount
holds its directory, not its name).

Guest paths of binds are taken literally (normalized, never resolved through
the root's symlinks): a bind at /var/run shadows the root's ``var/run`` even if
that is a symlink.  ``mount(8)`` would have followed the symlink when mounting;
lx keeps the table independent of the root's contents so it can be validated
before the root exists.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from syscalls import abi

from ._sys import NAME_MAX, O_PATH_FLAGS, PATH_MAX, host_path_of


class ZoneConfigError(ValueError):
    """A zone root or bind that cannot be used, with a message naming it and why."""


@dataclass(frozen=True)
class Bind:
    """What the user asked for: show ``host`` at ``guest``, read-only or not."""

    host: bytes
    guest: bytes
    readonly: bool = False


@dataclass(eq=False)
class Mount:
    """One entry of the table: an opened host directory or file and where the guest sees it."""

    guest: bytes                 # normalized absolute guest path; b"/" for the zone root
    host: bytes                  # canonical host path (the kernel's, from /proc/self/fd)
    fd: int                      # O_PATH|O_CLOEXEC fd, owned by the MountTable
    readonly: bool
    is_dir: bool
    parts: tuple[bytes, ...] = field(default=())   # guest split into components

    @property
    def is_root(self) -> bool:
        """True for the zone root (the mount at b"/")."""
        return not self.parts


def _fsencode(p: str | bytes | os.PathLike) -> bytes:
    return os.fsencode(p)


def normalize_guest(path: str | bytes) -> bytes:
    """``path`` as an absolute guest path without ``//``, ``.`` or a trailing slash.

    ``..`` is refused rather than folded: whether ``/a/b/..`` is ``/a`` depends
    on what ``b`` is, so a mount table must not guess.
    """
    p = _fsencode(path)
    if not p.startswith(b"/"):
        raise ZoneConfigError(f"bind guest path {p!r} is not absolute")
    if b"\0" in p:
        raise ZoneConfigError(f"bind guest path {p!r} contains a NUL byte")
    parts = [c for c in p.split(b"/") if c and c != b"."]
    if b".." in parts:
        raise ZoneConfigError(f"bind guest path {p!r} contains '..'")
    for c in parts:
        if len(c) > NAME_MAX:
            raise ZoneConfigError(f"bind guest path {p!r}: component longer than {NAME_MAX} bytes")
    out = b"/" + b"/".join(parts)
    if len(out) >= PATH_MAX:
        raise ZoneConfigError(f"bind guest path {p!r} is longer than {PATH_MAX - 1} bytes")
    return out


def parse_bind(spec: str | bytes) -> Bind:
    """``HOST:GUEST[:ro|:rw]`` (or just ``HOST``, shown at the same path) -> Bind.

    The form of ``-b``; a path containing ``:`` cannot be written this way.
    """
    s = _fsencode(spec)
    ro = False
    fields = s.split(b":")
    if len(fields) >= 2 and fields[-1] in (b"ro", b"rw"):
        ro = fields.pop() == b"ro"
    if len(fields) == 1:
        fields.append(fields[0])
    if len(fields) != 2 or not fields[0] or not fields[1]:
        raise ZoneConfigError(f"bind {spec!r}: expected HOST:GUEST[:ro]")
    return Bind(fields[0], fields[1], ro)


def _open_host(path: bytes, what: str, want_dir: bool) -> tuple[int, os.stat_result]:
    """Open a host path (symlinks followed, as ``mount --bind`` does) as an O_PATH fd."""
    flags = O_PATH_FLAGS | (abi.O_DIRECTORY if want_dir else 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ZoneConfigError(f"{what} {path!r} does not exist") from None
    except NotADirectoryError:
        raise ZoneConfigError(f"{what} {path!r} is not a directory") from None
    except OSError as e:
        raise ZoneConfigError(f"{what} {path!r}: {e.strerror}") from None
    return fd, os.fstat(fd)


class MountTable:
    """The zone root and its binds, keyed by guest path; owns their fds (see :meth:`close`)."""

    def __init__(self, root: str | bytes | os.PathLike, binds: Iterable[Bind | tuple] = ()) -> None:
        self.by_guest: dict[bytes, Mount] = {}
        opened: list[int] = []
        try:
            fd, _ = _open_host(_fsencode(root), "zone root", True)
            opened.append(fd)
            self.root = Mount(b"/", host_path_of(fd), fd, False, True, ())
            self.by_guest[b"/"] = self.root
            for b in binds:
                b = b if isinstance(b, Bind) else Bind(*b)
                guest = normalize_guest(b.guest)
                if guest == b"/":
                    raise ZoneConfigError("a bind cannot replace the zone root; use the zone's root instead")
                if guest in self.by_guest:
                    raise ZoneConfigError(f"two binds at guest path {guest!r}")
                fd, st = _open_host(os.path.abspath(_fsencode(b.host)), "bind host path", False)
                opened.append(fd)
                parts = tuple(guest[1:].split(b"/"))
                self.by_guest[guest] = Mount(guest, host_path_of(fd), fd, bool(b.readonly),
                                             stat.S_ISDIR(st.st_mode), parts)
            for m in self.binds:
                outer = self.mount_for(m.parts[:-1])
                if not outer.is_dir:
                    raise ZoneConfigError(f"bind at {m.guest!r} lies under the file bind at {outer.guest!r}")
        except BaseException:
            for fd in opened:
                os.close(fd)
            raise
        self.static_fds = frozenset(m.fd for m in self.by_guest.values())
        # first components of every bind: a path starting elsewhere cannot touch a bind
        self.tops = frozenset(m.parts[0] for m in self.binds)
        self._by_host = sorted(self.by_guest.values(), key=lambda m: (len(m.host), not m.is_root),
                                reverse=True)

    @property
    def binds(self) -> list[Mount]:
        """The bind mounts (everything but the root)."""
        return [m for m in self.by_guest.values() if not m.is_root]

    def mount_for(self, parts: list[bytes] | tuple[bytes, ...]) -> Mount:
        """The mount a canonical guest path (as components) lies in: the deepest containing it."""
        if len(self.by_guest) == 1:
            return self.root
        for i in range(len(parts), 0, -1):
            m = self.by_guest.get(b"/" + b"/".join(parts[:i]))
            if m is not None:
                return m
        return self.root

    def to_guest(self, host: bytes) -> bytes | None:
        """Where the guest sees host path ``host``; None when no mount contains it.

        The mount with the longest host path containing ``host`` wins, the root
        last among equals.  ``host`` must be canonical (as the kernel reports
        it for an fd).  A host file reachable through two mounts gets one
        answer; a root file hidden under a bind maps to the bind's path, as the
        kernel's d_path would print it.
        """
        for m in self._by_host:
            h = m.host
            if host == h:
                return m.guest
            if host.startswith(h) and (h == b"/" or host[len(h):len(h) + 1] == b"/"):
                rest = host[len(h):] if h != b"/" else host
                return rest if m.is_root else m.guest + rest
        return None

    def close(self) -> None:
        """Close every mount's fd (the table is unusable afterwards)."""
        for m in self.by_guest.values():
            if m.fd >= 0:
                os.close(m.fd)
                m.fd = -1
