"""docs/compat.md and docs/compat.csv are generated from the registry; stale copies fail."""
from pathlib import Path

from lx.compat import render
from syscalls.table import ARCH, TABLE

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_compat_md_is_fresh():
    assert (DOCS / "compat.md").read_text() == render(TABLE.values(), "md", ARCH), \
        "docs/compat.md is stale: run `make compat`"


def test_compat_csv_is_fresh():
    assert (DOCS / "compat.csv").read_text() == render(TABLE.values(), "csv", ARCH), \
        "docs/compat.csv is stale: run `make compat`"


def test_md_has_counts_and_one_row_per_number():
    md = render(TABLE.values(), "md", ARCH)
    assert "Counts: " in md
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and ln[2:3].isdigit()]
    assert len(rows) == len(TABLE)
