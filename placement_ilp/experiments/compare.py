"""Compare methods on instances: one table row per (instance, method).

``compare(instances, methods)`` runs every method on every instance, each run in
a process of its own (a local ``ProcessPoolExecutor``, or the workers of a Dask
distributed cluster with ``scheduler="ADDRESS"``), and returns a pandas table::

    instance  method  objective  status  bound  gap  seconds  ratio

``ratio`` is the objective over the best objective any row reached on that
instance (1.0 for the best; NaN without an objective). A run that fails (bad
input, the DP's memory guard, a missing file) is a row whose status is
``"error: <message>"``, never an exception; ``expert`` without a split file is a
row with status ``"n/a"``.

Method names are the max-load ones of :mod:`placement_ilp.solving.methods` plus two MILP
variants: ``milp`` is the pipeline-contiguous MILP (the DP's problem),
``milp-none`` the non-contiguous MILP and ``milp-convex`` the convex one (the
paper's IP).

The command line (registered by :func:`register`)::

    placement-ilp compare INSTANCES... --methods dp,milp,pipedream [--time-limit S]
        [--workers N] [--scheduler ADDRESS] [--expert-dir DIR] [--csv FILE] [--markdown] [--force]

Dask (``distributed``) is an optional dependency, imported only with a scheduler:
``pip install 'placement-ilp[cluster]'``.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import InputError
from ..io.files import check_output, write_atomic
from ..io import load_instance
from ..solving.methods import method_names
from ..solving.run import solve

#: MILP variants of the table and the contiguity each one solves.
MILP_VARIANTS = {"milp-none": "none", "milp-convex": "convex"}
#: Every method name :func:`compare` accepts, in a stable order.
COMPARE_METHODS: tuple[str, ...] = ("milp", "milp-none", "milp-convex") + tuple(m for m in method_names("maxload") if m != "milp")
#: The methods of ``placement-ilp compare`` when ``--methods`` is not given.
DEFAULT_METHODS: tuple[str, ...] = ("dp", "milp", "milp-none", "pipedream", "local-search", "partition",
                                    "one-accelerator")
#: The columns of the table, in order.
COLUMNS = ("instance", "method", "objective", "status", "bound", "gap", "seconds", "ratio")
_CONTIGUITIES = ("pipeline", "convex", "none")
_CLUSTER_HINT = "pip install 'placement-ilp[cluster]'"


# ---------------------------------------------------------------------------
# One run (executed in a worker process)
# ---------------------------------------------------------------------------


def run_one(path: str, method: str, options: dict) -> dict:
    """Run one method on one instance file and return a plain, picklable dict.

    Problem: the unit of work of :func:`compare`; it is what a local worker process
    or a Dask worker executes, so it takes plain arguments (the instance path, a
    method name of :data:`COMPARE_METHODS`, an options dict with ``time_limit``,
    ``expert_dir`` and ``milp_contiguity``) and never raises for a failing run.

    Returns ``{"objective", "status", "bound", "gap", "seconds"}``: floats or None,
    ``status`` the :class:`~placement_ilp.solving.run.Result`'s status, ``"n/a"`` (expert
    without a split file) or ``"error: <message>"``. ``seconds`` is build + solve
    time of the result (the run's wall time for an error, None for n/a).
    Complexity: that of the method.

    Example::

        >>> run_one("instances/default.json", "dp", {})["objective"]
        60.68
    """
    start = time.perf_counter()
    try:
        return _run(path, method, options or {})
    except InputError as exc:
        status = f"error: {_one_line(str(exc))}"
    except Exception as exc:  # noqa: BLE001 - a failing run is a row, never an exception
        status = f"error: {type(exc).__name__}: {_one_line(str(exc))}"
    return _row(None, status, None, None, time.perf_counter() - start)


def _run(path: str, method: str, options: dict) -> dict:
    if method not in COMPARE_METHODS:
        raise InputError(f"unknown method {method!r} (one of {', '.join(COMPARE_METHODS)})")
    instance = load_instance(path)
    time_limit = options.get("time_limit")
    kwargs: dict[str, Any] = {}
    if method == "milp" or method in MILP_VARIANTS:
        kwargs = dict(method="milp", contiguity=MILP_VARIANTS.get(method, options.get("milp_contiguity", "pipeline")),
                      time_limit=time_limit)
    elif method == "expert":
        expert_dir = options.get("expert_dir")
        split = None if expert_dir is None else Path(expert_dir) / f"{Path(path).stem}_expert.json"
        if split is None or not split.is_file():
            return _row(None, "n/a", None, None, None)
        kwargs = dict(method="expert", baseline_options={"path": str(split)})
    elif method == "local-search" and time_limit is not None:
        kwargs = dict(method=method, baseline_options={"time_limit": time_limit})
    else:
        kwargs = dict(method=method)
    result = solve(instance, **kwargs)
    return _row(result.objective, result.status, result.bound, result.gap,
                result.build_seconds + result.solve_seconds)


def _row(objective, status, bound, gap, seconds) -> dict:
    def num(x):
        return None if x is None else float(x)

    return {"objective": num(objective), "status": str(status), "bound": num(bound), "gap": num(gap),
            "seconds": num(seconds)}


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def compare(
    instances: list[str],
    methods: list[str],
    *,
    time_limit: float | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    expert_dir: str | None = None,
    contiguity_for_milp: str = "pipeline",
    progress: bool | None = None,
):
    """Run each method on each instance and return the comparison table.

    Problem: a table of one row per (instance, method) with columns
    :data:`COLUMNS`: ``instance`` (the file's stem; the path as given when two
    inputs share a stem), ``method``, ``objective`` (the evaluator's max-load; NaN
    without a placement), ``status``, ``bound``, ``gap``, ``seconds`` (build +
    solve) and ``ratio`` = objective / the smallest objective of that instance's
    rows (1.0 for the best, NaN without an objective). Rows are in the order of
    ``instances``, then of ``methods`` (duplicates dropped).

    methods: names of :data:`COMPARE_METHODS` -- ``milp`` solves with
        ``contiguity_for_milp`` ("pipeline" by default, the DP's problem),
        ``milp-none`` / ``milp-convex`` with that contiguity; ``expert`` scores
        ``expert_dir/<instance stem>_expert.json`` (status "n/a" when absent).
    time_limit: seconds per MILP run (also the local search's budget). Runs that hit
        it may differ from one call to the next; all other runs are deterministic.
    workers: local worker processes (each run in a process; ignored with a scheduler).
    scheduler: address of a Dask distributed scheduler (``"tcp://host:8786"``); the
        same runs go to its workers (which must be able to import placement_ilp and
        read the instance paths, made absolute here). Needs the optional
        ``distributed`` package (``pip install 'placement-ilp[cluster]'``).
    progress: a line ``[k/N] instance method status`` on stderr as each run ends (on a
        terminal, one bar redrawn in place: :func:`progress_bar`); None (the default)
        shows it only when stderr is a terminal.

    A failing run is a row with status ``"error: <message>"``, never an exception.
    InputError for bad arguments (an unknown method, no instance, workers < 1,
    a non-positive time limit, no ``distributed`` package, an unreachable scheduler).
    Complexity: the sum of the runs' costs, spread over ``workers`` processes.

    Example::

        >>> table = compare(["instances/default.json"], ["dp", "milp", "pipedream"])
        >>> table.loc[table.method == "dp", "ratio"].item()
        1.0
    """
    paths = _unique([os.fspath(p) for p in instances])
    wanted = parse_methods(methods)
    if not paths:
        raise InputError("no instance given")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers must be a whole number >= 1, got {workers!r}")
    if time_limit is not None and not (time_limit > 0 and math.isfinite(time_limit)):
        raise InputError(f"time limit must be a positive number of seconds, got {time_limit!r}")
    if contiguity_for_milp not in _CONTIGUITIES:
        raise InputError(f"contiguity_for_milp must be one of {', '.join(_CONTIGUITIES)}, got {contiguity_for_milp!r}")
    if expert_dir is not None and scheduler is None and not Path(expert_dir).is_dir():
        raise InputError(f"{expert_dir}: expert directory does not exist")
    options = {
        "time_limit": None if time_limit is None else float(time_limit),
        "expert_dir": None if expert_dir is None else os.path.abspath(expert_dir),
        "milp_contiguity": contiguity_for_milp,
    }
    names = _names(paths)
    jobs = [(i, j, os.path.abspath(path), method) for i, path in enumerate(paths) for j, method in enumerate(wanted)]
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = show and sys.stderr.isatty()  # a bar redrawn in place on a terminal, plain lines elsewhere
    done = [0]
    started = time.perf_counter()

    def report(job, row) -> None:
        done[0] += 1
        if show:
            i, _, _, method = job
            status = row["status"].split(":", 1)[0] if row["status"].startswith("error") else row["status"]
            if bar:
                line = progress_bar(done[0], len(jobs), time.perf_counter() - started,
                                    f"{names[i]} {method} {status}")
                columns = shutil.get_terminal_size().columns  # a wrapped line would not redraw in place
                print(f"\r{line[:max(columns - 1, 20)]}\x1b[K", end="", file=sys.stderr, flush=True)
            else:
                print(f"[{done[0]}/{len(jobs)}] {names[i]} {method} {status}", file=sys.stderr, flush=True)

    runner = _run_local if scheduler is None else _run_dask
    if bar:
        print(progress_bar(0, len(jobs), 0.0, "starting"), end="", file=sys.stderr, flush=True)
    try:
        results = runner(jobs, options, workers if scheduler is None else scheduler, report)
    finally:
        if bar:
            print(file=sys.stderr, flush=True)
    for (i, _), row in results.items():  # messages name the file as the caller did
        if row["status"].startswith("error: "):
            row["status"] = row["status"].replace(os.path.abspath(paths[i]), paths[i])
    return _table(jobs, results, names)


def progress_bar(done: int, total: int, seconds: float, label: str = "", width: int = 24) -> str:
    """One line of the terminal progress bar of :func:`compare`, without a line ending.

    Problem: show how many of ``total`` runs have ended, the time so far and the last
    finished run (``label``) in a line short enough for a terminal. O(width + len(label)).

    Example: ``progress_bar(3, 12, 4.2, "default dp optimal")`` is
    ``"[######------------------]  3/12  25%  4.2 s  default dp optimal"``.
    """
    total = max(total, 1)
    filled = min(width, max(0, round(width * done / total)))
    digits = len(str(total))
    counts = f"{done:>{digits}}/{total} {100 * done // total:>3}%"
    text = f"[{'#' * filled}{'-' * (width - filled)}] {counts}  {seconds:.1f} s"
    return f"{text}  {label}" if label else text


def parse_methods(methods: str | Iterable[str]) -> list[str]:
    """Method names from a list or a comma-separated string, duplicates dropped.

    Problem: validate the ``--methods`` of ``placement-ilp compare`` and the
    ``methods`` of :func:`compare`. InputError naming the valid methods for an
    unknown one, or when none is given. O(number of names).

    Example: ``parse_methods("dp, milp,dp") == ["dp", "milp"]``.
    """
    items = methods.split(",") if isinstance(methods, str) else list(methods)
    names = _unique(str(m).strip() for m in items if str(m).strip())
    unknown = [m for m in names if m not in COMPARE_METHODS]
    if unknown:
        raise InputError(f"unknown method{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                         f"(valid: {', '.join(COMPARE_METHODS)})")
    if not names:
        raise InputError(f"no method given (valid: {', '.join(COMPARE_METHODS)})")
    return names


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _names(paths: list[str]) -> list[str]:
    stems = [Path(p).stem for p in paths]
    return [stem if stems.count(stem) == 1 else path for stem, path in zip(stems, paths)]


def _run_local(jobs, options, workers: int, report: Callable) -> dict:
    """Each job in a worker process of a local pool. Workers come from a fork server, not
    from forking the caller: a caller that has already run HiGHS holds its thread pool,
    and a child forked from a threaded process can deadlock. So, as with any spawned
    worker, a script that calls :func:`compare` needs the ``if __name__ == "__main__":`` guard."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results: dict[tuple[int, int], dict] = {}
    start = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context(start))
    try:
        futures = {pool.submit(run_one, path, method, options): (i, j, path, method) for i, j, path, method in jobs}
        for future in as_completed(futures):
            job = futures[future]
            results[job[:2]] = _collect(future.result, job)
            report(job, results[job[:2]])
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C: drop the queued runs, do not wait
        raise
    pool.shutdown(wait=True)
    return results


def _run_dask(jobs, options, address: str, report: Callable) -> dict:
    """The same jobs on the workers of a Dask distributed cluster."""
    try:
        import distributed
    except ImportError:
        raise InputError(f"--scheduler needs Dask's distributed package: {_CLUSTER_HINT}") from None
    try:
        client = distributed.Client(address)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address!r}: {_one_line(str(exc))}") from None
    results: dict[tuple[int, int], dict] = {}
    try:
        futures = {
            client.submit(run_one, path, method, options, pure=False): (i, j, path, method)
            for i, j, path, method in jobs
        }
        try:
            for future in distributed.as_completed(list(futures)):
                job = futures[future]
                results[job[:2]] = _collect(future.result, job)
                report(job, results[job[:2]])
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        client.close()
    return results


def _collect(get: Callable[[], dict], job) -> dict:
    """The run's dict, or an error row when its process died (killed, out of memory)."""
    try:
        return get()
    except Exception as exc:  # noqa: BLE001 - a lost worker is a row, never an exception
        return _row(None, f"error: {type(exc).__name__}: {_one_line(str(exc)) or 'the worker process died'}",
                    None, None, None)


def _table(jobs, results: dict, names: list[str]):
    import pandas as pd

    best: dict[int, float] = {}
    for (i, _), row in results.items():
        value = row["objective"]
        if value is not None and (i not in best or value < best[i]):
            best[i] = value
    rows = []
    for i, j, _, method in jobs:
        row = results[(i, j)]
        value = row["objective"]
        if value is None:
            ratio = math.nan
        elif best[i] == 0:
            ratio = 1.0 if value == 0 else math.inf
        else:
            ratio = value / best[i]
        rows.append({"instance": names[i], "method": method, **{k: row[k] for k in COLUMNS[2:7]}, "ratio": ratio})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("objective", "bound", "gap", "seconds", "ratio"):
        table[column] = table[column].astype("float64")
    return table


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------


def _display(table):
    """A copy of ``table`` with every cell a string: numbers rounded, '-' for missing."""

    def fmt(spec: str) -> Callable[[float], str]:
        return lambda x: "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)

    out = table.copy()
    for column, spec in (("objective", ".6g"), ("bound", ".6g"), ("gap", ".3g"), ("seconds", ".2f"),
                         ("ratio", ".4f")):
        out[column] = [fmt(spec)(x) for x in table[column]]
    return out.astype(str)


def format_table(table) -> str:
    """The table of :func:`compare` as aligned text (pandas ``to_string``), numbers rounded.

    Problem: print a comparison for a terminal. O(rows x columns).
    Example: ``print(format_table(compare(["instances/default.json"], ["dp"])))``.
    """
    return _display(table).to_string(index=False)


def markdown_table(table) -> str:
    """The table of :func:`compare` as a GitHub-flavoured Markdown table (no ``tabulate``).

    Problem: paste a comparison into a document or an issue. Numeric columns are
    right-aligned, '|' inside cells is escaped, numbers are rounded as in
    :func:`format_table`. O(rows x columns).

    Example::

        >>> print(markdown_table(compare(["instances/default.json"], ["dp"])))
        | instance | method | objective | status | bound | gap | seconds | ratio |
        | :-- | :-- | --: | :-- | --: | --: | --: | --: |
        | default | dp | 60.68 | optimal | 60.68 | 1.17e-16 | 0.04 | 1.0000 |
    """
    shown = _display(table)
    numeric = {"objective", "bound", "gap", "seconds", "ratio"}

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in shown.columns) + " |",
             "| " + " | ".join("--:" if c in numeric else ":--" for c in shown.columns) + " |"]
    for values in shown.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in values) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def cmd_compare(args: argparse.Namespace) -> int:
    """Handler of ``placement-ilp compare``: print the table, write the CSV when asked.

    Exit code 0 when some run found a placement, 1 when none did, 2 when a run failed
    (a broken instance: the table, then one line naming the first); InputError (exit 2)
    for bad options, and before any run for an existing ``--csv`` file without
    ``--force``. Example: ``main(["compare", "instances/default.json", "--methods", "dp"])``.
    """
    methods = parse_methods(args.methods)
    check_output(args.csv, force=args.force, what="--csv")
    table = compare(
        args.instances,
        methods,
        time_limit=args.time_limit,
        workers=args.workers,
        scheduler=args.scheduler,
        expert_dir=args.expert_dir,
    )
    print(markdown_table(table) if args.markdown else format_table(table))
    if args.csv:
        write_csv(table, args.csv, overwrite=args.force)
    failed = table[table["status"].str.startswith("error")]
    if len(failed):
        first = failed.iloc[0]
        more = f" (and {len(failed) - 1} more failed runs)" if len(failed) > 1 else ""
        print(f"error: {first['instance']} {first['method']}: {first['status'][len('error: '):]}{more}",
              file=sys.stderr)
        return 2
    return 0 if table["objective"].notna().any() else 1


def write_csv(table, path: str | os.PathLike, *, overwrite: bool = False) -> None:
    """Write the table as CSV (full precision, empty cells for missing values).

    Problem: keep a comparison for later analysis. InputError when ``path`` exists
    and ``overwrite`` is False, or cannot be written. O(rows x columns).
    Example: ``write_csv(compare(["instances/default.json"], ["dp"]), "out.csv")``.
    """
    write_atomic(path, table.to_csv(index=False), overwrite=overwrite)


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``compare`` subcommand to the CLI's subparsers and return its parser.

    Problem: plug ``placement-ilp compare`` into :func:`placement_ilp.cli.build_parser`
    (``compare.register(sub)``); the handler is :func:`cmd_compare`, set as ``run``.
    O(1). Example::

        parser = argparse.ArgumentParser()
        register(parser.add_subparsers(dest="command"))
        args = parser.parse_args(["compare", "a.json", "--methods", "dp,milp"])
        args.run(args)
    """
    p = subparsers.add_parser(
        "compare",
        help="run several methods on several instances and print one table",
        description="Run each method on each instance (each run in a process of its own) and print one row per "
        "(instance, method): objective, status, bound, gap, seconds and ratio to the best objective.",
    )
    p.add_argument("instances", nargs="+", metavar="INSTANCE", help="instance files")
    p.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        metavar="M1,M2,...",
        help=f"comma-separated, of: {', '.join(COMPARE_METHODS)} (default: {','.join(DEFAULT_METHODS)}); "
        "milp is the pipeline-contiguous MILP, milp-none / milp-convex the non-contiguous / convex one",
    )
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="seconds per MILP run")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="local worker processes (default 2)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=f"run on a Dask distributed cluster (e.g. tcp://host:8786); needs {_CLUSTER_HINT}",
    )
    p.add_argument("--expert-dir", metavar="DIR", help="where the expert method finds <instance>_expert.json")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--force", action="store_true", help="overwrite the --csv file if it exists")
    p.set_defaults(run=cmd_compare)
    return p
