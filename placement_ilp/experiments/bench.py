"""Benchmarks that print tables (never timed unit tests).

``placement-ilp bench dp`` runs the ideal DP on each instance in a process of its
own and reports nodes, DP nodes, ideals, pairs examined, the optimum, the seconds
of the whole process and its peak memory (the kernel's maximum resident size).

``placement-ilp bench build`` loads each instance and builds each max-load
formulation, reporting model size and the seconds spent building: the first build after
loading (which also computes the instance's arrays) and the best of three.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from formulations import MaxLoad

from ..errors import InputError
from ..io import load_instance
from ..solving.direct import solve_dp_method

#: ../shared beside the repository (this file is placement_ilp/experiments/bench.py)
PAPER = Path(__file__).resolve().parents[3] / "shared" / "instances" / "tarnawski2020"


def paper_throughput_files() -> list[Path]:
    """The paper's 16 throughput workloads, if ../shared is beside the repository."""
    base = PAPER / "throughput"
    return sorted(base.rglob("*.json")) if base.is_dir() else []


def build_table(paths: list[str] | None, levels: list[str]) -> str:
    """Rows, columns, nonzeros and build seconds of each max-load formulation.

    Example: ``print(build_table(["instances/default.json"], ["pipeline"]))``.
    """
    files = [Path(p) for p in paths] if paths else paper_throughput_files()
    if not files:
        raise InputError("no instances given and ../shared/instances/tarnawski2020 is absent")
    rows = []
    for path in files:
        instance = load_instance(path)
        for level in levels:
            times = []
            try:
                for _ in range(3):
                    start = time.perf_counter()
                    model = MaxLoad(instance, contiguity=level).build()
                    times.append(time.perf_counter() - start)
            except InputError as exc:  # e.g. device-pair links at the pipeline level
                rows.append({"instance": f"{path.parent.name}/{path.stem}", "nodes": len(instance.graph),
                             "contiguity": level, "not built": str(exc)})
                continue
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


def dp_once(path: str) -> dict:
    """Solve one instance with the DP and return its figures (run in a child process)."""
    instance = load_instance(path)
    result = solve_dp_method(instance)
    return {"nodes": len(instance.graph), **result.stats, "optimum": result.objective, "status": result.status}


def dp_table(paths: list[str] | None, time_limit: float) -> str:
    """One row per instance: the DP in a fresh process, timed and measured from outside.

    Example: ``print(dp_table(["instances/default.json"], 60))``.
    """
    import pandas as pd  # here, not at the top: the child processes (dp-once) do not need it

    files = [Path(p) for p in paths] if paths else paper_throughput_files()
    if not files:
        raise InputError("no instances given and ../shared/instances/tarnawski2020 is absent")
    rows = []
    for path in files:
        row = {"instance": f"{path.parent.name}/{path.stem}"}
        code, out, err, seconds, peak_mb = _run_measured(
            [sys.executable, "-m", "placement_ilp.experiments.bench", "dp-once", str(path)], time_limit
        )
        if code is None:
            row.update(status="timeout")
        elif code != 0:
            lines = err.strip().splitlines()
            row.update(status=f"error: {lines[-1] if lines else code}")
        else:
            data = json.loads(out)
            row.update(
                nodes=data["nodes"],
                dp_nodes=data["dp_nodes"],
                ideals=data["ideals"],
                pairs=data["pairs"],
                optimum=None if data["optimum"] is None else round(data["optimum"], 6),
                status=data["status"],
            )
        row.update(seconds=round(seconds, 2), peak_mb=peak_mb)
        rows.append(row)
    return pd.DataFrame(rows).to_string(index=False)


def _run_measured(argv: list[str], time_limit: float):
    """Run a command; return (exit code or None on timeout, stdout, stderr, wall
    seconds, peak resident MB of that process from os.wait4)."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        code = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() - start > time_limit:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        proc.returncode = code if code is not None else -9  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return code, out.read(), err.read(), seconds, round(usage.ru_maxrss / 1024, 1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "dp-once":
        print(json.dumps(dp_once(sys.argv[2])))
    else:
        sys.exit("usage: python -m placement_ilp.bench dp-once INSTANCE")
