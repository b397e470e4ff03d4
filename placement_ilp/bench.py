"""Benchmarks that print tables (never timed unit tests).

``placement-ilp bench build`` loads each instance and builds each max-load
formulation, reporting model size and the seconds spent building: the first build after
loading (which also computes the instance's arrays) and the best of three.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from .errors import InputError
from .io import load_instance

PAPER = Path(__file__).resolve().parents[1].parent / "shared" / "instances" / "tarnawski2020"


def paper_throughput_files() -> list[Path]:
    """The paper's 16 throughput workloads, if ../shared is beside the repository."""
    base = PAPER / "throughput"
    return sorted(base.rglob("*.json")) if base.is_dir() else []


def build_table(paths: list[str] | None, levels: list[str]) -> str:
    """Rows, columns, nonzeros and build seconds of each max-load formulation.

    Example: ``print(build_table(["instances/default.json"], ["pipeline"]))``.
    """
    from formulations import MaxLoad

    files = [Path(p) for p in paths] if paths else paper_throughput_files()
    if not files:
        raise InputError("no instances given and ../shared/instances/tarnawski2020 is absent")
    rows = []
    for path in files:
        instance = load_instance(path)
        for level in levels:
            times = []
            for _ in range(3):
                start = time.perf_counter()
                model = MaxLoad(instance, contiguity=level).build()
                times.append(time.perf_counter() - start)
            rows.append(
                {
                    "instance": f"{path.parent.name}/{path.stem}",
                    "nodes": len(instance.graph),
                    "contiguity": level,
                    "rows": model.num_rows,
                    "columns": model.num_cols,
                    "nonzeros": model.num_entries,
                    "first_build_s": round(times[0], 4),
                    "best_build_s": round(min(times), 4),
                }
            )
    return pd.DataFrame(rows).to_string(index=False)
