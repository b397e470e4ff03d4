"""``placement-ilp bench milp``: formulations compared on the same instances.

For each instance, contiguity level and formulation it builds the model, solves
its LP relaxation (the root LP bound, before HiGHS' cuts) and then the MILP under a
time limit, and reports rows, columns, build seconds, root LP bound, final bound,
incumbent, gap and solve seconds as one pandas table (also written as CSV and
markdown on request). The warm start (``auto``: the DP's placement when it
applies) is found once per instance and shared by every formulation. With root
bounds (``--root-bound none,configuration``) each run is repeated per root bound,
so old and new are compared in one run: the time limit then covers the bound and
the MILP together.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from formulations import get_builder

from ..errors import InputError
from ..io.files import check_output, write_atomic
from ..io import load_instance
from ..solving.root_bound import check_root_bound
from ..solving.run import prepare, with_root_bound
from ..stopping import Budget
from ..milp.backends.highs import solve_relaxation
from ..solving.starts import find_start
from .bench import paper_throughput_files

COLUMNS = [
    "instance", "nodes", "contiguity", "formulation", "root_bound", "rows", "columns", "build_s", "start",
    "start_value", "start_s", "root_bound_value", "root_bound_s", "root_lp", "bound", "incumbent", "gap", "status",
    "solve_s",
    "total_s",
]


def milp_table(
    paths: list[Path],
    formulations: list[str],
    levels: list[str],
    *,
    time_limit: float = 300.0,
    warm_start: str = "auto",
    threads: int | None = None,
    root_bounds: tuple[str, ...] = ("none",),
    progress=None,
) -> pd.DataFrame:
    """Run every (instance, level, formulation, root bound) and return the table (COLUMNS).

    ``root_lp`` is the optimum of the LP relaxation of the model as built (HiGHS,
    same time limit; NaN if it did not finish). ``incumbent`` is the evaluator's
    value of the MILP's placement, ``start_s`` the seconds its start took (found once
    per instance, not counted in ``total_s``), and ``bound`` the final bound (HiGHS' dual bound,
    at least the root bound's value). ``root_bound_value`` / ``root_bound_s``: the
    bound proven before the MILP (:mod:`placement_ilp.solving.root_bound`) and its
    time; ``solve_s`` the MILP's; ``total_s`` both (the time limit covers both).
    The cost is that of the solves: up to ``2 * time_limit`` per row.

    Example: ``milp_table([Path("instances/default.json")], ["maxload", "maxload-strong"], ["pipeline"])``.
    """
    rows = []
    for path in paths:
        instance = load_instance(path)
        name = f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem
        start = find_start(instance, warm_start)
        for level in levels:
            for formulation, root_bound in ((f, r) for f in formulations for r in root_bounds):
                began = time.perf_counter()
                budget = Budget(time_limit)
                problem, level_start = prepare(instance, formulation, warm_start=start.placement if start else None,
                                               contiguity=level, root_bound=root_bound, budget=budget)
                left = budget.remaining()
                lp = solve_relaxation(problem.model, time_limit=time_limit)
                budget = Budget(left)  # the relaxation above is not the run's time (it was, until 2026-12-05)
                result = problem.solve(time_limit=budget.remaining(), threads=threads, budget=budget,
                                       warm_start=None if level_start is None else level_start.placement)
                result = with_root_bound(result, problem.root_bound)
                root = problem.root_bound
                rows.append({
                    "instance": name,
                    "nodes": len(instance.graph),
                    "contiguity": level,
                    "formulation": problem.formulation,
                    "root_bound": root_bound,
                    "rows": problem.model.num_rows,
                    "columns": problem.model.num_cols,
                    "build_s": round(problem.build_seconds, 3),
                    "start": start.source if start else "-",
                    "start_value": start.value if start else float("nan"),
                    "start_s": round(start.seconds, 2) if start else 0.0,
                    "root_bound_value": root.value if root else float("nan"),
                    "root_bound_s": round(root.seconds, 2) if root else 0.0,
                    "root_lp": lp,
                    "bound": result.bound,
                    "incumbent": result.objective,
                    "gap": result.gap,
                    "status": result.status,
                    "solve_s": round(result.solve_seconds, 2),
                    "total_s": round((root.seconds if root else 0.0) + result.build_seconds + result.solve_seconds, 2),
                })
                if progress is not None:
                    progress(rows[-1], time.perf_counter() - began)
    return pd.DataFrame(rows, columns=COLUMNS)


def to_markdown(table: pd.DataFrame) -> str:
    """The table as a markdown pipe table (numbers to 6 significant digits)."""
    def cell(x) -> str:
        if isinstance(x, float):
            return "-" if x != x else f"{x:.6g}"
        return "-" if x is None else str(x)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(cell(x) for x in row) + " |")
    return "\n".join(lines)


def run(args) -> str:
    """The CLI entry: files, options and outputs from ``args``; returns the table text."""
    files = [Path(p) for p in args.instances] if args.instances else paper_throughput_files()
    if not files:
        raise InputError("no instances given and ../shared/instances/tarnawski2020 is absent")
    check_output(args.csv, force=args.force, what="--csv")
    check_output(args.markdown, force=args.force, what="--markdown")
    formulations = [f for f in args.formulations.split(",") if f]
    for f in formulations:
        get_builder(f)  # unknown names fail here, before any solving
    root_bounds = tuple(check_root_bound(r) for r in args.root_bound.split(",") if r)
    levels = [lv for lv in args.contiguity.split(",") if lv]
    for lv in levels:
        if lv not in ("pipeline", "convex", "none"):
            raise InputError(f"unknown contiguity {lv!r} (pipeline, convex or none)")

    done: list[dict] = []

    def report(row, seconds):
        import sys

        print(f"  {row['instance']} {row['contiguity']} {row['formulation']} {row['root_bound']}: {row['status']} "
              f"{row['incumbent']} bound {row['bound']} ({seconds:.1f} s)", file=sys.stderr, flush=True)
        done.append(row)
        if args.csv:  # the rows so far, rewritten after each run: a stopped benchmark keeps what it measured
            write_atomic(args.csv, pd.DataFrame(done, columns=COLUMNS).to_csv(index=False), overwrite=True)

    table = milp_table(files, formulations, levels, time_limit=args.time_limit, warm_start=args.warm_start,
                       threads=args.threads, root_bounds=root_bounds, progress=report)
    if args.csv:
        write_atomic(args.csv, table.to_csv(index=False), overwrite=True)
    if args.markdown:
        write_atomic(args.markdown, to_markdown(table) + "\n", overwrite=True)
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_rows", 1000):
        return table.to_string(index=False)
