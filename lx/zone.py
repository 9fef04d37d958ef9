"""A zone: the directory the guest sees as ``/``, its binds, identity and environment.

:meth:`Zone.from_root` validates everything a run needs before anything starts,
and every problem is a :class:`ZoneError` whose text is one line saying what is
wrong and what to do (the CLI prints it as is).

Defaults, and why:

* **hostname** -- a zone kept under the zones directory
  (``$LX_HOME/zones/NAME/root``) is called ``lx-NAME`` (sanitized to a valid
  host name), so a shell prompt tells zones apart; any other root directory
  reports the host's hostname, as ``lx run`` always has.
* **kernel release** -- the host's (the guest runs on the host's kernel).
* **binds** -- unless ``default_binds=False``, the host's ``/proc`` (until lx
  emulates it), the usual ``/dev`` nodes, ``/dev/pts``, ``/dev/shm`` and
  ``/sys`` (read-only), each only if the host has it.  A user bind at, or
  above, a default bind's guest path replaces it.
* **environment** -- what podman gives a container, not the caller's:
  ``PATH`` (the OCI default), ``HOME=/root``, ``HOSTNAME``, ``TERM`` (the
  caller's, else ``xterm``) and ``container=lx`` (systemd's container
  interface).  No ``LANG``: podman sets none, and a locale the root does not
  ship makes programs complain.

``LX_HOME`` (``$LX_HOME``, else ``$XDG_DATA_HOME/lx``, else
``~/.local/share/lx``) holds the zones: ``$LX_HOME/zones/NAME/root``.
"""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .identity import Identity
from .vfs.binds import Bind, ZoneConfigError, normalize_guest, parse_bind
from .vfs.resolve import ZoneFS

GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_BINDS: tuple[Bind, ...] = tuple(
    Bind(p, p, p == b"/sys") for p in (
        b"/proc", b"/dev/null", b"/dev/zero", b"/dev/full", b"/dev/random", b"/dev/urandom",
        b"/dev/tty", b"/dev/ptmx", b"/dev/pts", b"/dev/shm", b"/sys"))
UTS_MAX = 64  # bytes uname keeps of a field


class ZoneError(ZoneConfigError):
    """A zone that cannot be used; ``str()`` is the whole one-line message for the user."""


def lx_home() -> Path:
    """``$LX_HOME``, else ``$XDG_DATA_HOME/lx``, else ``~/.local/share/lx`` (not created)."""
    if os.environ.get("LX_HOME"):
        return Path(os.environ["LX_HOME"]).absolute()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "lx"


def zones_dir() -> Path:
    """Where named zones live: ``$LX_HOME/zones`` (each as ``NAME/root``)."""
    return lx_home() / "zones"


def default_hostname(root: str | os.PathLike) -> str:
    """``lx-NAME`` for ``$LX_HOME/zones/NAME/root``; the host's hostname for any other root."""
    root = Path(os.path.abspath(root))
    if root.name == "root" and root.parent.parent == Path(os.path.abspath(zones_dir())):
        name = re.sub(r"[^a-z0-9-]+", "-", root.parent.name.lower()).strip("-")
        if name:
            return ("lx-" + name)[:UTS_MAX].rstrip("-")
    return os.uname().nodename


def _show(p: bytes | str | os.PathLike) -> str:
    return os.fsdecode(p)


def _to_bind(b: Bind | str | bytes | tuple) -> Bind:
    """A user bind (Bind, ``HOST:GUEST[:ro]`` spec or tuple), guest path normalized, host absolute."""
    try:
        b = b if isinstance(b, Bind) else Bind(*b) if isinstance(b, tuple) else parse_bind(b)
    except ZoneConfigError as e:
        raise ZoneError(f"lx: {e}") from None
    spec = f"{_show(b.host)}:{_show(b.guest)}"
    guest = os.fsencode(b.guest)
    if not guest.startswith(b"/"):
        raise ZoneError(f"lx: bind {spec}: the guest path must be absolute (e.g. {_show(b.host)}:/mnt)")
    if b".." in guest.split(b"/"):
        raise ZoneError(f"lx: bind {spec}: the guest path must not contain '..' (write it out)")
    try:
        guest = normalize_guest(guest)
    except ZoneConfigError as e:
        raise ZoneError(f"lx: bind {spec}: {e}") from None
    if guest == b"/":
        raise ZoneError(f"lx: bind {spec}: cannot replace the zone's / (use --root instead)")
    host = os.path.abspath(os.fsencode(b.host))
    try:
        os.stat(host)
    except FileNotFoundError:
        raise ZoneError(f"lx: bind {spec}: {_show(host)} does not exist on the host "
                        "(create it, or fix the bind)") from None
    except OSError as e:
        raise ZoneError(f"lx: bind {spec}: {_show(host)}: {e.strerror}") from None
    return Bind(host, guest, bool(b.readonly))


def _under(path: bytes, top: bytes) -> bool:
    return path == top or path.startswith(top + b"/")


def _check_uts(value: str, what: str) -> str:
    if not value or len(value.encode()) > UTS_MAX or "\0" in value:
        raise ZoneError(f"lx: {what} {value!r}: must be 1 to {UTS_MAX} bytes, without NUL")
    return value


@dataclass
class Zone:
    """A validated zone (build it with :meth:`from_root`); ``binds`` are the user's only."""

    root: Path
    binds: tuple[Bind, ...] = ()
    workdir: bytes = b"/"
    hostname: str = field(default_factory=lambda: os.uname().nodename)
    kernel_release: str = field(default_factory=lambda: os.uname().release)
    env: dict[str, str] = field(default_factory=dict)
    default_binds: bool = True

    @classmethod
    def from_root(cls, root: str | bytes | os.PathLike, binds: Iterable[Bind | str | bytes | tuple] = (),
                  workdir: str | bytes | None = None, hostname: str | None = None,
                  kernel_release: str | None = None, default_binds: bool = True,
                  env: Mapping[str, str] | None = None, require_shell: bool = False) -> "Zone":
        """Check ``root`` and the binds and fill in the defaults (module doc); ZoneError if unusable.

        ``require_shell``: the caller gave no command, so ``/bin/sh`` must exist
        in the zone.  ``env`` entries are added to (and override) the defaults.
        """
        shown = _show(root)
        path = Path(os.path.abspath(os.fsdecode(root)))
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise ZoneError(f"lx: --root {shown}: no such directory "
                            "(create it, or use `lx zone create`)") from None
        except OSError as e:
            raise ZoneError(f"lx: --root {shown}: {e.strerror}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise ZoneError(f"lx: --root {shown}: not a directory (give the directory to use as /)")
        user: list[Bind] = []
        for b in binds:
            b = _to_bind(b)
            if any(u.guest == b.guest for u in user):
                raise ZoneError(f"lx: two binds at {_show(b.guest)} (keep one)")
            user.append(b)
        host = hostname if hostname is not None else default_hostname(path)
        zone = cls(root=path, binds=tuple(user), workdir=b"/",
                   hostname=_check_uts(host, "--hostname"),
                   kernel_release=_check_uts(os.uname().release if kernel_release is None else kernel_release,
                                                  "--kernel-release"),
                   default_binds=default_binds)
        zone.env = zone._default_env()
        zone.env.update(env or {})
        wd = b"/" if workdir is None else os.fsencode(workdir)
        with zone.fs() as fs:
            if not wd.startswith(b"/"):
                raise ZoneError(f"lx: --workdir {_show(wd)}: must be an absolute path in the zone")
            try:
                with fs.resolve(wd) as r:
                    ok = stat.S_ISDIR(r.stat().st_mode)
            except OSError:
                ok = False
            if not ok:
                raise ZoneError(f"lx: --workdir {_show(wd)}: no such directory in the zone "
                                "(create it under the root, or pick another)")
            zone.workdir = wd
            if require_shell and not _has_shell(fs):
                raise ZoneError(f"lx: --root {shown}: no shell at /bin/sh inside it "
                                "(is it a root filesystem? or give the command to run)")
        return zone

    def all_binds(self) -> tuple[Bind, ...]:
        """User binds, then the default binds they do not cover (if enabled) that the host has."""
        out = list(self.binds)
        if self.default_binds:
            for d in DEFAULT_BINDS:
                if any(_under(d.guest, u.guest) for u in self.binds):
                    continue
                if os.path.exists(d.host):
                    out.append(d)
        return tuple(out)

    def make_mountpoints(self) -> None:
        """Create the missing mountpoints of the binds in the root (empty
        directories, or an empty file for a file bind; parents too), as
        container runtimes do: a bind is reached through its mountpoint.
        Created name by name under held directory fds, never following a
        symlink, so nothing is ever made outside the root; a mountpoint that
        cannot be made (a symlink on the way, a read-only root) is left
        alone, and that bind stays unreachable, as a mount would fail."""
        for b in self.all_binds():
            _make_mountpoint(self.root, b.guest, os.path.isdir(b.host))

    def fs(self) -> ZoneFS:
        """A new :class:`ZoneFS` of the root and :meth:`all_binds` (the caller closes it)."""
        self.make_mountpoints()
        try:
            return ZoneFS(self.root, self.all_binds())
        except ZoneConfigError as e:   # a bind's host path vanished since from_root
            raise ZoneError(f"lx: --root {_show(self.root)}: {e}") from None

    def identity(self) -> Identity:
        """uname's fields: the host's, with the zone's hostname and kernel release."""
        return Identity.host(nodename=self.hostname, release=self.kernel_release)

    def guest_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of the zone's first process: :attr:`env` updated with ``extra``."""
        env = dict(self.env)
        env.update(extra or {})
        return env

    def host_path(self, guest: bytes | str) -> bytes:
        """Host path of guest path ``guest`` (resolved in the zone; OSError if missing).

        A string, so a window: for choices such as which file to exec first,
        never for acting on the file on the guest's behalf.
        """
        with self.fs() as fs, fs.resolve(os.fsencode(guest), cwd=self.workdir) as r:
            return r.host

    def _default_env(self) -> dict[str, str]:
        return {"PATH": GUEST_PATH, "HOME": "/root", "HOSTNAME": self.hostname,
                "TERM": os.environ.get("TERM") or "xterm", "container": "lx"}


def _has_shell(fs: ZoneFS) -> bool:
    try:
        with fs.resolve(b"/bin/sh") as r:
            st = r.stat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and bool(st.st_mode & 0o111)


def _make_mountpoint(root: Path, guest: bytes, is_dir: bool) -> None:
    names = [n for n in guest.split(b"/") if n]
    if not names or b".." in names:
        return
    try:
        fd = os.open(root, os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        for i, name in enumerate(names):
            last = i == len(names) - 1
            try:
                nxt = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
                os.close(nxt)
                if last:
                    return                      # it exists (whatever it is)
            except FileNotFoundError:
                if last and not is_dir:
                    os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_WRONLY | os.O_CLOEXEC,
                                     0o644, dir_fd=fd))
                    return
                os.mkdir(name, 0o755, dir_fd=fd)
            if last:
                return
            nxt = os.open(name, os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)   # ELOOP: a symlink
            os.close(fd)
            fd = nxt
    except OSError:
        return
    finally:
        os.close(fd)
