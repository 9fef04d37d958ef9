"""The registry: every Linux syscall lx knows, keyed by its Linux name.

Family modules (file.py, process.py, ...) register their entries here with
``@syscall`` (a Python handler), ``passthrough(...)`` (runs on the host
unchanged) or ``nosys(...)`` (refused with ENOSYS, with a reason).  A name
may be registered once only; ``syscalls.table`` then checks that every
number of the architecture's ``.tbl`` has exactly one entry.
"""
from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from typing import Callable

from . import args as _args


class Support(str, enum.Enum):
    """How completely lx implements a call (rendered in docs/compat.md)."""

    FULL = "full"                # handled by lx, all of the man page
    PARTIAL = "partial"          # handled by lx, the note says what is missing
    EMULATED = "emulated"        # answered by lx itself, never reaches the host
    PASSTHROUGH = "passthrough"  # runs on the host unchanged (seccomp ALLOW)
    NOSYS = "nosys"              # refused with ENOSYS, counted, reason given


class Reason(str, enum.Enum):
    """Why a call is NOSYS (the illumos LX brand's NOSYS_* idea)."""

    OBSOLETE = "obsolete"        # removed from Linux or never implemented
    NO_EQUIV = "no-equivalent"   # nothing lx could map it onto
    SECURITY = "security"        # would let the guest reach past its zone
    TODO = "todo"                # planned, not written yet


# What a handler may return besides a value or -errno.
CONTINUE = -(1 << 40)   # let the guest's call run as it is (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
REPLIED = -(1 << 41)    # the handler answered the notification itself (fd installed with SEND,
                        # or a worker thread will answer it)


class LinuxError(Exception):
    """Raised by helpers to fail the current call with a Linux errno."""

    def __init__(self, errno: int, msg: str = "") -> None:
        super().__init__(errno, msg)
        self.errno = errno


Handler = Callable[..., int]


@dataclass(frozen=True)
class Entry:
    """One row of the syscall table."""

    name: str
    support: Support
    family: str
    handler: Handler | None = None
    note: str = ""
    reason: Reason | None = None
    urls: tuple[str, ...] = ()
    codes: bytes = b""           # argument decoder, see syscalls.args
    fast: str | None = None      # name of a C fast handler in native/, if any
    zone: bool = False           # the handler is for zones: on the host root the call passes through
    trace: bool = False          # in a zone the call stops at the anchor (SECCOMP_RET_TRACE): it must
                                 # change the guest's own state (cwd, image), which a notification cannot
    # filled in by syscalls.table:
    nr: int = -1
    illumos: str = "unknown"
    illumos_detail: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def man(self) -> str:
        """The man-page link for this call."""
        return self.urls[0] if self.urls else f"https://man7.org/linux/man-pages/man2/{self.name}.2.html"


class DuplicateEntry(Exception):
    """A syscall name was registered twice."""


REGISTRY: dict[str, Entry] = {}


def _family(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def _add(entry: Entry) -> Entry:
    if entry.name in REGISTRY:
        prev = REGISTRY[entry.name]
        raise DuplicateEntry(
            f"syscall {entry.name!r} registered twice ({prev.family} and {entry.family})")
    REGISTRY[entry.name] = entry
    return entry


def _codes_of(fn: Handler) -> bytes:
    """Compile a handler's ABI annotations into its decoder codes."""
    params = list(fn.__code__.co_varnames[1:fn.__code__.co_argcount])
    codes = []
    for p in params:
        t = fn.__annotations__.get(p)
        if isinstance(t, str):  # `from __future__ import annotations`
            t = eval(t, fn.__globals__)  # noqa: S307 - the handler's own annotation
        if not (isinstance(t, type) and issubclass(t, _args.ArgType)):
            raise TypeError(f"{fn.__qualname__}: parameter {p!r} needs an ABI type annotation")
        codes.append(t.code)
    if len(codes) > 6:
        raise TypeError(f"{fn.__qualname__}: a syscall has at most 6 arguments")
    return bytes(codes)


def syscall(name: str, *, support: Support = Support.FULL, note: str = "",
            urls: tuple[str, ...] = (), fast: str | None = None,
            zone: bool = False, trace: bool = False) -> Callable[[Handler], Handler]:
    """Register ``fn(call, *args) -> int`` as the handler of ``name``.

    The handler returns a value >= 0 or ``-errno`` (Linux numbering), or
    raises LinuxError; host OSErrors are converted by the dispatcher.
    """
    if support in (Support.PASSTHROUGH, Support.NOSYS):
        raise ValueError("use passthrough()/nosys() for entries without a handler")

    def register(fn: Handler) -> Handler:
        _add(Entry(name=name, support=support, family=_family(fn.__module__), handler=fn,
                   note=note, urls=tuple(urls), codes=_codes_of(fn), fast=fast, zone=zone,
                   trace=trace))
        return fn
    return register


def _caller_family() -> str:
    return _family(sys._getframe(2).f_globals["__name__"])


def passthrough(*names: str, note: str = "") -> None:
    """Register calls that run on the host unchanged (seccomp ALLOW)."""
    family = _caller_family()
    for name in names:
        _add(Entry(name=name, support=Support.PASSTHROUGH, family=family, note=note))


def nosys(*names: str, reason: Reason, note: str = "") -> None:
    """Register calls refused with ENOSYS; each is counted when a guest makes it."""
    family = _caller_family()
    for name in names:
        _add(Entry(name=name, support=Support.NOSYS, family=family, reason=reason, note=note))
