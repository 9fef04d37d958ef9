"""The x86-64 syscall table: number -> Entry, for every number Linux defines.

Importing the family modules fills the registry; ``build()`` then joins it
with the generated number table and the illumos LX brand column and fails
loudly when a number has no entry or a registered name is not a syscall.
"""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from . import _nr_x86_64 as _nr
from . import file, identity, ipc, misc, mm, net, path, process, signal, stat, time  # noqa: F401
from .registry import REGISTRY, Entry, Support

ARCH = _nr.ARCH
ILLUMOS_TSV = Path(__file__).with_name("illumos_lx.tsv")
ILLUMOS_CLASSES = ("kernel", "userland", "unsupported", "unknown")


class TableError(Exception):
    """The registry and the architecture's numbers disagree."""


def load_illumos(tsv: Path = ILLUMOS_TSV) -> dict[int, tuple[str, str]]:
    """nr -> (class, detail) from the illumos LX brand column."""
    if not tsv.exists():
        return {}
    lines = [ln for ln in tsv.read_text().splitlines() if ln and not ln.startswith("#")]
    out = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        cls = row["illumos"]
        if cls not in ILLUMOS_CLASSES:
            raise TableError(f"{tsv.name}: nr {row['nr']}: unknown illumos class {cls!r}")
        out[int(row["nr"])] = (cls, row.get("detail") or "")
    return out


def build(registry: dict[str, Entry] = REGISTRY,
          names: dict[int, str] = _nr.NAMES) -> dict[int, Entry]:
    """Join registry and numbers; raise TableError listing every problem."""
    by_name = {name: nr for nr, name in names.items()}
    missing = sorted(n for n in by_name if n not in registry)
    unknown = sorted(n for n in registry if n not in by_name)
    problems = []
    if missing:
        problems.append(f"no entry for: {', '.join(missing)}")
    if unknown:
        problems.append(f"registered but not an {ARCH} syscall: {', '.join(unknown)}")
    if problems:
        raise TableError("; ".join(problems))
    illumos = load_illumos()
    table = {}
    for nr, name in sorted(names.items()):
        cls, detail = illumos.get(nr, ("unknown", ""))
        table[nr] = dataclasses.replace(registry[name], nr=nr, illumos=cls, illumos_detail=detail)
    return table


TABLE: dict[int, Entry] = build()
BY_NAME: dict[str, Entry] = {e.name: e for e in TABLE.values()}


def counts() -> dict[Support, int]:
    """Number of entries per support level."""
    out = {s: 0 for s in Support}
    for e in TABLE.values():
        out[e.support] += 1
    return out
