"""The ``lx`` command line: one subcommand per job, a thin layer over the API.

Bad input gets one line naming the problem plus the usage, and exit 2, never
a traceback (argparse's own behaviour, squeezed onto one line).
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from lx import __version__


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line: `lx: MSG (usage: ...)`."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        self.exit(2, f"{self.prog}: {message} ({usage})\n")


def _cmd_version(opts: argparse.Namespace) -> int:
    import platform

    from syscalls.table import ARCH, TABLE
    print(f"lx {__version__} ({ARCH}, {len(TABLE)} syscalls in the table; "
          f"host kernel {platform.release()}, Python {platform.python_version()})")
    return 0


def _cmd_syscalls(opts: argparse.Namespace) -> int:
    from lx.compat import render
    from syscalls.table import ARCH, TABLE
    entries = [e for e in TABLE.values() if opts.level is None or e.support.value == opts.level]
    sys.stdout.write(render(entries, opts.format, ARCH))
    return 0


def _cmd_run(opts: argparse.Namespace) -> int:
    import os

    from lx.identity import Identity
    from lx.platform.supervisor import SpawnError
    from lx.runner import run, shell_status
    from lx.zone import Zone, ZoneError

    cmd = list(opts.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    zone = None
    try:
        if opts.root is not None or not cmd:
            if opts.root is None:                 # no root and no command: the default zone's shell
                from lx.defaultzone import ensure_default_zone
                opts.root = ensure_default_zone()
            zone = Zone.from_root(opts.root, binds=opts.bind, workdir=opts.workdir, hostname=opts.hostname,
                                  kernel_release=opts.kernel_release,
                                  default_binds=not opts.no_default_binds, require_shell=not cmd)
            cmd = cmd or ["/bin/sh"]
    except ZoneError as e:
        print(str(e), file=sys.stderr)
        return 2
    try:
        if zone is not None:
            cp = run(cmd, close_fds=False, verbose=opts.verbose, strict=opts.strict, zone=zone)
        else:
            ident = Identity.host(nodename=opts.hostname, release=opts.kernel_release)
            cp = run(cmd, cwd=opts.workdir, close_fds=False, verbose=opts.verbose,
                     strict=opts.strict, identity=ident, loader=opts.loader)
    except FileNotFoundError:
        print(f"lx: {cmd[0]}: No such file or directory", file=sys.stderr)
        return 127
    except (PermissionError, SpawnError) as e:
        print(f"lx: {cmd[0]}: {e.strerror}", file=sys.stderr)
        return 126
    report = cp.lx
    if report.exec_errno:
        print(f"lx: {cmd[0]}: {os.strerror(report.exec_errno)}", file=sys.stderr)
    if report.fault is not None and os.WIFSIGNALED(report.status):
        print(report.fault.line(), file=sys.stderr)
    status = shell_status(report)
    if opts.strict and report.unsupported and status == 0:
        names = ", ".join(sorted(report.unsupported))
        print(f"lx: --strict: the guest made unsupported calls: {names}", file=sys.stderr)
        return 1
    return status


def build_parser() -> argparse.ArgumentParser:
    from lx.compat import FORMATS
    from syscalls.registry import Support

    ap = _Parser(prog="lx", description="Run Linux programs in user-space zones.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("version", help="print lx's version and the table's size")
    p.set_defaults(func=_cmd_version)

    p = sub.add_parser("run", help="run a command under lx (no command: a shell in the default zone)")
    p.add_argument("--root", "-r", metavar="DIR", help="run in a zone whose / is DIR")
    p.add_argument("--bind", "-b", action="append", default=[], metavar="HOST[:GUEST[:ro]]",
                   help="make HOST visible at GUEST in the zone (repeatable)")
    p.add_argument("--no-default-binds", action="store_true",
                   help="do not bind /proc, /dev's standard nodes and /sys into the zone")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="report each unsupported syscall once per process")
    p.add_argument("--strict", action="store_true",
                   help="report unsupported syscalls and exit non-zero if any was made")
    p.add_argument("--hostname", help="the hostname uname reports (default: the host's)")
    p.add_argument("--kernel-release", help="the kernel release uname reports (default: the host's)")
    p.add_argument("-w", "--workdir", help="the guest's working directory (a guest path in a zone)")
    p.add_argument("--loader", action="store_true", default=None,
                   help="run every exec through lx's ELF loader, as zones do")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("syscalls", help="print the syscall table (the compatibility document)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--level", choices=[s.value for s in Support],
                   help="only entries with this support level")
    p.set_defaults(func=_cmd_syscalls)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    opts = ap.parse_args(argv)
    try:
        return opts.func(opts)
    except BrokenPipeError:
        # `lx syscalls | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
