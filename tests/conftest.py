"""Shared test helpers: where the paper's workloads are, and a skip when they are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PAPER = SHARED / "instances" / "tarnawski2020"


def paper_path(relative: str) -> Path:
    """Path of a file under ../shared/instances/tarnawski2020; skips the test when absent."""
    path = PAPER / relative
    if not path.exists():
        pytest.skip(f"{path} is absent (the paper's workloads live in ../shared beside the repository)")
    return path


def paper_files(*folders: str) -> list[str]:
    """Relative paths of the paper's instance files under the given folders (empty when absent)."""
    out = []
    for folder in folders:
        base = PAPER / folder
        if base.is_dir():
            out += sorted(str(p.relative_to(PAPER)) for p in base.rglob("*.json"))
    return out
