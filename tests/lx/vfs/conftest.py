"""Fixtures for lx.vfs (trees and the chroot oracle live in vfs_trees.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from vfs_trees import IS_ROOT, build_binds, build_zone, run_oracle


@pytest.fixture
def zone_tree(tmp_path: Path) -> Path:
    return build_zone(tmp_path / "root")


@pytest.fixture
def bind_tree(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    return build_binds(tmp_path)


@pytest.fixture
def oracle():
    if not IS_ROOT:
        pytest.skip("the chroot/mount oracle needs root")
    return run_oracle
