"""Path resolution inside a zone: the root, its binds, and guest paths turned into fds.

``ZoneFS(root, binds).resolve(guest_path, cwd=...)`` -> :class:`Resolved` (an
O_PATH fd the caller owns).  See :mod:`lx.vfs.resolve` for when one openat2
suffices and which errors come back, :mod:`lx.vfs.walk` for the component walk
binds need, :mod:`lx.vfs.resolved` for how to act on a result (the TOCTOU
contract), :mod:`lx.vfs.binds` for the mount table and ``to_guest``.
"""
from .binds import Bind, Mount, MountTable, ZoneConfigError, normalize_guest, parse_bind
from .resolve import ZoneFS
from .resolved import Resolved
from ._sys import host_path_of

__all__ = ["Bind", "Mount", "MountTable", "Resolved", "ZoneConfigError", "ZoneFS",
           "host_path_of", "normalize_guest", "parse_bind"]
