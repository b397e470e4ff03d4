"""The ``placement-ilp`` command line.

Exit codes: 0 success; 1 the problem has no placement (infeasible, or none found
in time) or the evaluated placement breaks a constraint; 2 invalid input or usage,
reported as one line ``error: ...``; 130 a second interrupt (the first one stops the
solve and reports the best placement so far, see :mod:`placement_ilp.stopping`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from . import io
from .errors import InputError
from .io import files
from .stopping import Budget, catch_signals, check_time_limit
from .structure import forward_graph, width

EXIT_OK, EXIT_NO_PLACEMENT, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message} (see '{self.prog} --help')")


def _load(path: str, strict: bool):
    instance = io.load_instance(path)
    if strict:
        instance.graph.check_strict()
    return instance


# -- info ---------------------------------------------------------------------
def cmd_info(args: argparse.Namespace) -> int:
    instance = _load(args.instance, args.strict)
    g = instance.graph
    backward = sum(n.backward for n in g.nodes)
    groups = g.colour_groups()
    facts = {
        "name": instance.name,
        "nodes": len(g),
        "edges": len(g.edges),
        "forward_nodes": len(g) - backward,
        "backward_nodes": backward,
        "training": g.is_training,
        "colour_classes": sum(1 for grp in groups if len(grp) > 1 or g.node(grp[0]).color_class is not None),
        "colocation_groups": len(groups),
        "orphan_backward_classes": len(g.orphan_backward_classes()),
        "forward_width": width(forward_graph(g)),
        "devices": {
            c.name: {
                "kind": c.kind,
                "count": c.count,
                "memory": c.memory,
                "pays_communication": c.pays_communication,
                **({"bandwidth": c.bandwidth, "latency": c.latency} if c.bandwidth is not None else {}),
            }
            for c in instance.topology.classes
        },
        "unsupported": {
            c.name: sum(1 for n in g.nodes if c.name not in n.supported) for c in instance.topology.classes
        },
        "links": [
            {"between": [k.a, k.b], "bandwidth": k.bandwidth, "latency": k.latency} for k in instance.topology.links
        ],
    }
    if args.json:
        print(json.dumps(facts, indent=1))
        return EXIT_OK
    print(f"instance        {facts['name']}")
    print(f"nodes           {facts['nodes']} ({facts['forward_nodes']} forward, {facts['backward_nodes']} backward)")
    print(f"edges           {facts['edges']}")
    print(
        f"colour classes  {facts['colour_classes']} "
        f"({facts['colocation_groups']} colocation groups, {facts['orphan_backward_classes']} backward-only)"
    )
    print(f"forward width   {facts['forward_width']} (largest antichain of the forward graph)")
    for c in instance.topology.classes:
        mem = "unlimited" if c.memory is None else f"{c.memory:g}"
        comm = "pays communication" if c.pays_communication else "free communication"
        link = f", {c.bandwidth:g} bytes/time + {c.latency:g} per transfer" if c.bandwidth is not None else ""
        print(
            f"devices         {c.count} x {c.name} ({c.kind}; memory {mem}; {comm}{link}; "
            f"{facts['unsupported'][c.name]} nodes unsupported)"
        )
    for k in instance.topology.links:
        print(f"link            {k.a} - {k.b}: {k.bandwidth:g} bytes/time + {k.latency:g} per transfer")
    return EXIT_OK


# -- evaluate -----------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate

    instance = _load(args.instance, args.strict)
    if args.objective == "latency":
        from .latency import evaluate_latency

        placement = io.load_placement(args.placement, instance, unlimited_cpus=True)
        report = evaluate_latency(instance, placement, max_subgraphs=args.subgraphs_per_accelerator)
        print(json.dumps(report.to_dict(), indent=1) if args.json else report.summary())
        return EXIT_OK if report.feasible else EXIT_NO_PLACEMENT
    placement = io.load_placement(args.placement, instance)
    result = evaluate(
        instance,
        placement,
        objective=args.objective,
        overlap=args.overlap,
        cpu_contiguity=not args.accelerators_only,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(result.summary())
    return EXIT_OK if result.feasible else EXIT_NO_PLACEMENT


# -- generate -----------------------------------------------------------------
def cmd_generate(args: argparse.Namespace) -> int:
    from . import generators

    files.check_output(args.output, force=args.force, what="-o")
    if args.family == "layered":
        if args.topology or args.granularity != "operator":
            raise InputError("--topology and --granularity go with the costed families (transformer, resnet, inception)")
        instance = generators.layered_dag(
            args.layers,
            args.width,
            seed=args.seed,
            accelerators=args.accelerators,
            cpus=args.cpus,
            training=args.training,
        )
    else:
        from .importers import load_cost_topology

        options = dict(
            topology=load_cost_topology(args.topology) if args.topology else None,
            accelerators=args.accelerators, cpus=args.cpus, training=args.training,
            granularity=args.granularity, seed=args.seed,
        )
        if args.family == "transformer":
            instance = generators.transformer_encoder(args.layers, **options)
        elif args.family == "resnet":
            instance = generators.residual_cnn(args.layers, **options)
        else:
            instance = generators.inception_like(args.layers, max_branches=args.width, **options)
    fmt = args.format or ("paper" if args.family == "layered" else "native")
    io.save_instance(instance, args.output, fmt=fmt, overwrite=args.force)
    print(f"wrote {args.output}: {len(instance.graph)} nodes, {len(instance.graph.edges)} edges")
    return EXIT_OK


# -- import -------------------------------------------------------------------
def cmd_import(args: argparse.Namespace) -> int:
    from .importers import import_model, load_cost_topology

    files.check_output(args.output, force=args.force, what="-o")
    dims = {}
    for item in args.dim:
        key, sep, value = item.partition("=")
        if not sep or not key or not value.isdigit() or int(value) < 1:
            raise InputError(f"--dim {item!r}: expected NAME=SIZE with a whole SIZE >= 1")
        dims[key] = int(value)
    topology = load_cost_topology(args.topology)
    imported = import_model(
        args.model,
        topology,
        training=args.training,
        granularity=args.granularity,
        layer_depth=args.layer_depth,
        measure=args.measure_cpu,
        repeats=args.repeats,
        threads=args.threads,
        dims=dims,
        unknown_ops=args.unknown_ops,
        name=args.name,
    )
    io.save_instance(imported.instance, args.output, fmt="native", overwrite=args.force)
    print(f"wrote {args.output}: {imported.instance.name}")
    print(imported.summary())
    return EXIT_OK


# -- solve --------------------------------------------------------------------
def cmd_solve(args: argparse.Namespace) -> int:
    from .solve import cap_threads, check_gap, solve

    budget = Budget(check_time_limit(args.time_limit, "--time-limit"))  # the whole run, from here
    check_gap(args.gap, "--gap")
    _check_outputs(args)
    instance = _load(args.instance, strict=False)
    contiguity = args.contiguity or ("none" if args.non_contiguous else "pipeline")
    threads, note = cap_threads(args.threads, "--threads")
    if note:
        print(f"note: {note}", file=sys.stderr)
    if args.objective == "latency":
        return _solve_latency(instance, args, budget, threads)
    if args.method != "milp":
        result = _solve_other(instance, args, contiguity, budget)
        return _report(instance, result, contiguity, args)
    live = _live_progress(args)
    try:
        result = solve(
            instance,
            formulation=args.formulation,
            warm_start=_warm_start(instance, args.warm_start),
            contiguity=contiguity,
            cpu_contiguity=not args.accelerators_only,
            objective=args.objective,
            overlap=args.overlap,
            gap=args.gap,
            threads=threads,
            backend=args.backend,
            log=args.log,
            log_file=args.log_file,
            progress=live,
            export=args.export,
            budget=budget,
        )
    finally:
        if live is not None:
            live.close()
    return _report(instance, result, contiguity, args)


def _check_outputs(args: argparse.Namespace) -> None:
    """Every file ``solve`` will write, checked before any work: its folder exists and
    takes a file, it does not exist yet (unless --force), and no two are the same."""
    outputs = {"-o": args.output, "--export": args.export, "--log-file": args.log_file}
    named = [(flag, path) for flag, path in outputs.items() if path is not None]
    for i, (flag, path) in enumerate(named):
        for other, second in named[i + 1:]:
            if files.same_file(path, second):
                raise InputError(f"{flag} and {other} name the same file {path}; give two files")
    if args.export and args.method != "milp":
        raise InputError("--export writes a MILP; it goes with --method milp")
    for flag, path in named:
        if files.same_file(path, args.instance):
            raise InputError(f"{flag} {path} is the instance file; write the result elsewhere")
        files.check_output(path, force=args.force, what=flag)


class _LiveProgress:
    """The MILP's progress on stderr: elapsed time, incumbent, bound and gap.

    On a terminal one line redrawn in place: at each report (at most every 0.25 s, and
    always for the final one) and, from a background thread, every 0.5 s in between so
    that the clock keeps running while HiGHS is busy (``run()`` releases the GIL).
    Elsewhere a plain line at most every second. O(1) per report.
    Example: ``problem.solve(progress=_LiveProgress(sys.stderr))``.
    """

    def __init__(self, stream) -> None:
        import threading

        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = 0.25 if self.tty else 1.0
        self.drawn: float | None = None
        self.open = False
        self.last = None  # the latest report and when it came
        self.at = 0.0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ticker = None
        if self.tty:
            self.ticker = threading.Thread(target=self._tick, name="milp-progress", daemon=True)
            self.ticker.start()

    def _draw(self, p, elapsed: float) -> None:
        gap = "-" if p.gap is None else f"{100 * p.gap:.2f}%"
        text = f"milp {elapsed:8.1f} s   incumbent {_num(p.incumbent)}   bound {_num(p.bound)}   gap {gap}"
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
            self.open = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _tick(self) -> None:
        import time

        while not self.stopped.wait(0.5):
            with self.lock:
                if self.last is not None and not self.last.final and not self.stopped.is_set():
                    now = time.monotonic()
                    self._draw(self.last, self.last.elapsed + (now - self.at))
                    self.drawn = now

    def __call__(self, p) -> None:
        import time

        now = time.monotonic()
        with self.lock:
            self.last, self.at = p, now
            if p.final or self.drawn is None or now - self.drawn >= self.interval:
                self.drawn = now
                self._draw(p, p.elapsed)
        if p.final:
            self.close()

    def close(self) -> None:
        """Stop the clock and end the live line (a newline on a terminal), so later
        output starts on a line of its own."""
        self.stopped.set()
        if self.ticker is not None and self.ticker.is_alive():
            self.ticker.join()
        with self.lock:
            if self.open:
                self.stream.write("\n")
                self.stream.flush()
                self.open = False


def _live_progress(args: argparse.Namespace):
    """The progress display of ``solve --method milp``, or None (--no-progress, CBC, or
    stderr not a terminal and no --progress; --log, which prints HiGHS' own log, turns
    the default off)."""
    wanted = args.progress
    if wanted is None:
        wanted = sys.stderr.isatty() and not args.log
    if not wanted or args.backend != "highs":
        return None
    return _LiveProgress(sys.stderr)


LATENCY_METHODS = ("milp", "dp", "greedy", "all-cpu")


def _solve_latency(instance, args: argparse.Namespace, budget: Budget, threads: int | None) -> int:
    """--objective latency: the latency MILP, or a baseline scored for latency."""
    from .latency import evaluate_latency
    from .latency_solve import solve_latency

    q = args.subgraphs_per_accelerator
    if q < 1:
        raise InputError(f"--subgraphs-per-accelerator must be >= 1, got {q}")
    if args.method not in LATENCY_METHODS:
        raise InputError(f"--objective latency takes --method {', '.join(LATENCY_METHODS)}, not {args.method!r}")
    if args.method == "milp":
        starts, mode = (), args.warm_start or "auto"
        if mode not in ("auto", "none"):  # a file or a method's placement joins the heuristic starts
            if mode in LATENCY_METHODS[1:]:
                given = _latency_baseline(instance, mode)
                starts = () if given is None else ((mode, given),)
            else:
                starts = (("given", io.load_placement(mode, instance, unlimited_cpus=True)),)
            mode = "heuristics"
        live = _live_progress(args)
        try:
            found = solve_latency(
                instance, max_subgraphs=q, gap=args.gap, threads=threads, budget=budget,
                backend=args.backend, log=args.log, log_file=args.log_file, starts=starts, progress=live,
                warm_start=mode,
            )
        finally:
            if live is not None:
                live.close()
        placement, report = found.placement, found.report
        status, bound, gap = found.status, found.bound, found.gap
        start_name, message = found.warm_start, found.message
        build_s, solve_s = found.build_seconds, found.solve_seconds
    else:
        import time as _time

        start, start_name, message = _time.perf_counter(), None, ""
        placement = _latency_baseline(instance, args.method)
        report = None if placement is None else evaluate_latency(instance, placement, max_subgraphs=q)
        solve_s, build_s, bound, gap = _time.perf_counter() - start, 0.0, None, None
        status = "feasible" if report is not None and report.feasible else "infeasible"
        if status == "infeasible":
            placement = None
    value = report.latency if report is not None and report.feasible else None
    data = {
        "objective": value,
        "status": str(status),
        "bound": bound,
        "gap": gap,
        "build_seconds": round(build_s, 6),
        "solve_seconds": round(solve_s, 6),
        "method": args.method,
        "formulation": "latency" if args.method == "milp" else None,
        "message": message,
        "placement": None if placement is None else {str(d): v for d, v in sorted(placement.by_device().items())},
        "subgraphs": None
        if report is None
        else [{"device": str(x.device), "index": x.index, "nodes": list(x.nodes)} for x in report.subgraphs],
    }
    _quiet(args)
    if args.json:
        print(json.dumps(data, indent=1), flush=True)
    else:
        print(f"instance   {instance.name} ({len(instance.graph)} nodes)")
        print(f"method     {args.method} (objective latency, {q} subgraph(s) per accelerator)")
        print(f"status     {status}")
        print(f"latency    {_num(value)} (evaluator)   bound {_num(bound)}   gap {_num(gap)}")
        if start_name is not None:
            print(f"start      {start_name}'s placement")
        print(f"time       build {build_s:.3f} s, solve {solve_s:.3f} s")
        if message and status != "optimal":
            print(f"note       {message}")
        if report is not None:
            print()
            print(report.summary())
    if args.output and placement is not None:
        io.save_placement(instance, placement, args.output, objective=value, overwrite=args.force)
    return EXIT_OK if placement is not None else EXIT_NO_PLACEMENT


def _latency_baseline(instance, method: str):
    """The placement of a latency baseline: the max-load DP's split, the greedy, or all on CPUs."""
    from .latency import all_on_cpus, greedy_latency
    from .solve import solve

    if method == "dp":
        return solve(instance, method="dp").placement
    if method == "greedy":
        return greedy_latency(instance)
    return all_on_cpus(instance)


def _warm_start(instance, spec: str | None):
    """--warm-start: "auto" (the default), "none", a method name, or a placement file."""
    from .solve import WARM_START_METHODS

    if spec is None or spec in ("auto", "none") or spec in WARM_START_METHODS:
        return spec or "auto"
    return io.load_placement(spec, instance)


def _solve_other(instance, args: argparse.Namespace, contiguity: str, budget: Budget):
    """The DP or a baseline, through the same solve() as the MILP."""
    from .solve import solve

    baseline_options: dict = {}
    if args.method == "expert":
        if not args.split:
            raise InputError("--method expert needs --split FILE")
        baseline_options["path"] = args.split
    if args.method == "local-search":
        baseline_options.update(restarts=args.restarts, seed=args.seed)
    return solve(
        instance,
        method=args.method,
        contiguity=contiguity,
        cpu_contiguity=not args.accelerators_only,
        objective=args.objective,
        overlap=args.overlap,
        budget=budget,  # the DP stops past its time; the baselines do not take one
        baseline_options=baseline_options,
    )


def _report(instance, result, contiguity: str, args: argparse.Namespace) -> int:
    """Print the result, then write the placement (so a failed write loses nothing)."""
    _quiet(args)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1), flush=True)
    else:
        print(_solve_summary(instance, result, contiguity), flush=True)
    if args.output and result.placement is not None:
        io.save_placement(instance, result.placement, args.output, objective=result.objective, overwrite=args.force)
    return EXIT_OK if result.placement is not None else EXIT_NO_PLACEMENT


def _quiet(args: argparse.Namespace) -> None:
    """From here on an interrupt is only noted: the run is over, its outputs are written."""
    signals = getattr(args, "signals", None)
    if signals is not None:
        signals.raising = False


def _num(x) -> str:
    return "-" if x is None else f"{x:.6g}"


def _solve_summary(instance, result, contiguity: str) -> str:
    lines = [
        f"instance   {instance.name} ({len(instance.graph)} nodes, {instance.topology.num_devices} devices)",
        f"method     {result.method}" + (f" / {result.formulation}" if result.formulation else "")
        + (f" (contiguity {contiguity})" if result.method in ("milp", "dp") else ""),
        f"status     {result.status}",
        f"objective  {_num(result.objective)} (evaluator)   bound {_num(result.bound)}   gap {_num(result.gap)}",
        f"time       build {result.build_seconds:.3f} s, solve {result.solve_seconds:.3f} s",
    ]
    stats = result.stats or {}
    if "warm_start" in stats:
        lines.append(f"start      {stats['warm_start']}'s placement, max-load {_num(stats['start_value'])}")
    if result.message and (result.method != "milp" or result.status != "optimal"):
        lines.append(f"note       {result.message}")
    if result.evaluation is not None:
        lines.append("")
        lines.append(result.evaluation.summary())
    return "\n".join(lines)


# -- plot ---------------------------------------------------------------------
def cmd_plot(args: argparse.Namespace) -> int:
    """Handler of ``placement-ilp plot``: draw a placement to a PNG or SVG file.

    The output's suffix, an existing output without --force, the kind against the
    objective and matplotlib's presence are checked before the instance is read
    (InputError, exit 2). Example: ``main(["plot", "inst.json", "p.json", "-o", "p.png"])``.
    """
    from . import plot

    plot.check_output(args.output, args.force)
    plot.figure_kinds(args.kind, args.objective)
    plot.require_matplotlib()
    latency = args.objective == "latency"
    if latency and args.subgraphs_per_accelerator < 1:
        raise InputError(f"--subgraphs-per-accelerator must be >= 1, got {args.subgraphs_per_accelerator}")
    instance = _load(args.instance, strict=False)
    placement = io.load_placement(args.placement, instance, unlimited_cpus=latency)
    path = plot.save_plot(
        instance,
        placement,
        args.output,
        kind=args.kind,
        objective=args.objective,
        overlap=args.overlap,
        cpu_contiguity=not args.accelerators_only,
        max_subgraphs=args.subgraphs_per_accelerator,
        overwrite=args.force,
    )
    print(f"wrote {path} ({', '.join(plot.figure_kinds(args.kind, args.objective))})")
    return EXIT_OK


# -- bench --------------------------------------------------------------------
def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import build_table, dp_table

    if args.what == "dp":
        print(dp_table(args.instances, 600.0 if args.time_limit is None else args.time_limit))
    elif args.what == "milp":
        from . import bench_milp

        if args.time_limit is None:
            args.time_limit = 300.0
        print(bench_milp.run(args))
    else:
        print(build_table(args.instances, args.contiguity.split(",")))
    return EXIT_OK


# -- parser -------------------------------------------------------------------
def _add_evaluation_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--objective",
        choices=("sum", "different-maxima", "latency"),
        default="sum",
        help="max-load with a device's forward plus backward load (sum, default), max forward load + "
        "max backward load (different-maxima), or the single-sample latency (latency; inference graphs)",
    )
    p.add_argument(
        "--subgraphs-per-accelerator",
        type=int,
        default=1,
        metavar="Q",
        help="latency: calls (subgraphs) each accelerator may run (default 1)",
    )
    p.add_argument("--overlap", action="store_true", help="devices overlap communication with compute")
    p.add_argument(
        "--accelerators-only",
        action="store_true",
        help="contiguity constrains devices that are not CPUs only",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="placement-ilp",
        description="Place DNN operator graphs on CPUs and accelerators: exact MILPs (HiGHS), DP, evaluator.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("info", help="describe an instance")
    p.add_argument("instance", help="instance file (the paper's JSON or the native JSON)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--strict", action="store_true", help="also reject colour classes of backward nodes only")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("evaluate", help="score a placement: loads, feasibility, contiguity")
    p.add_argument("instance", help="instance file")
    p.add_argument("placement", help="placement file (the paper's JSON or the native JSON)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--strict", action="store_true", help="also reject colour classes of backward nodes only")
    _add_evaluation_options(p)
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("generate", help="write a seeded synthetic workload")
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.add_argument(
        "--family",
        choices=("layered", "transformer", "resnet", "inception"),
        default="layered",
        help="layered: random layered DAG with skips on the paper's topology (default); transformer, resnet, "
        "inception: networks costed by the cost model (native format)",
    )
    p.add_argument(
        "--layers", type=int, default=6,
        help="layers (layered, transformer), residual blocks (resnet) or fork-join modules (inception)",
    )
    p.add_argument("--width", type=int, default=3, help="nodes per layer (layered) or most branches (inception)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--accelerators", type=int, default=3)
    p.add_argument("--cpus", type=int, default=1)
    p.add_argument("--training", action="store_true", help="add a backward pass")
    p.add_argument("--format", choices=("paper", "native"), default=None,
                   help="file format (default: paper for layered, native for the others)")
    p.add_argument("--topology", metavar="FILE",
                   help="costed families: topology with cost-model fields (default: GPUs and a CPU socket)")
    p.add_argument("--granularity", choices=("operator", "layer"), default="operator",
                   help="costed families: one node per operator, or colour classes by module path")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    p.set_defaults(run=cmd_generate)

    p = sub.add_parser("import", help="import a PyTorch (.py, .pt2) or ONNX (.onnx) model as an instance")
    p.add_argument(
        "model",
        help="a .py file defining 'model' (a torch.nn.Module) and 'example_inputs', a torch.export.save "
        "file (.pt2), or an ONNX file (.onnx)",
    )
    p.add_argument("--topology", required=True, metavar="FILE",
                   help="device classes with cost-model fields (peak FLOP/s, memory bandwidth, ...)")
    p.add_argument("-o", "--output", required=True, metavar="INSTANCE", help="native instance file to write")
    p.add_argument("--granularity", choices=("operator", "layer"), default="operator",
                   help="one node per operator (default), or operators grouped by module path into colour classes")
    p.add_argument("--layer-depth", type=int, default=None, metavar="D",
                   help="layer granularity: group by the first D components of the module path (default: all)")
    p.add_argument("--training", action="store_true", help="add the backward pass")
    p.add_argument("--measure-cpu", action="store_true",
                   help="PyTorch: time every operator on this CPU and use the times for the cpu classes")
    p.add_argument("--repeats", type=int, default=5, help="--measure-cpu: timed runs (default 5)")
    p.add_argument("--threads", type=int, default=1, help="--measure-cpu: PyTorch threads (default 1: one core)")
    p.add_argument("--dim", action="append", default=[], metavar="NAME=SIZE",
                   help="ONNX: size of a symbolic dimension (repeatable)")
    p.add_argument("--unknown-ops", choices=("error", "elementwise"), default="error",
                   help="an operator without a FLOP formula: an error (default), or one FLOP per output element")
    p.add_argument("--name", help="instance name (default: the model file's stem)")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("solve", help="minimise the max-load: an exact MILP solved by HiGHS")
    p.add_argument("instance", help="instance file")
    p.add_argument(
        "--method",
        choices=("milp", "dp", "pipedream", "local-search", "partition", "one-accelerator", "expert", "greedy", "all-cpu"),
        default="milp",
        help="milp (exact, HiGHS), dp (exact ideal DP, pipeline contiguity), or a baseline of the paper "
        "(greedy and all-cpu: with --objective latency)",
    )
    p.add_argument("--split", metavar="FILE", help="the split file that --method expert scores")
    p.add_argument("--restarts", type=int, default=5, help="local-search: random restarts (default 5)")
    p.add_argument("--seed", type=int, default=0, help="local-search: random seed (default 0)")
    p.add_argument(
        "--formulation",
        default="maxload-strong",
        help="a registered formulation: maxload-strong (default), maxload (the plain one), or a user's own",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--contiguity", choices=("pipeline", "convex", "none"), default=None)
    group.add_argument("--contiguous", action="store_true", help="same as --contiguity pipeline (the default)")
    group.add_argument("--non-contiguous", action="store_true", help="same as --contiguity none")
    _add_evaluation_options(p)
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="seconds")
    p.add_argument("--gap", type=float, default=1e-6, metavar="G", help="relative gap to stop at (default 1e-6)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--backend", choices=("highs", "cbc"), default="highs", help="cbc runs through PuLP")
    p.add_argument(
        "--warm-start",
        metavar="PLACEMENT",
        help="MILP: start HiGHS from a placement file, from a method's placement (dp, pipedream, local-search, "
        "partition, one-accelerator), 'auto' (default: the DP's when it applies, else PipeDream's, else the "
        "partition baseline's) or 'none'. "
        "With --objective latency: 'auto' (default) starts from the best, scored for latency, of the "
        "interval, greedy and all-CPU heuristics and the DP split (when the DP finishes in 30 s); "
        "dp, greedy, all-cpu or a file add that placement to the heuristics; 'none' gives no start",
    )
    p.add_argument("--log", action="store_true", help="show the solver's log")
    p.add_argument("--log-file", metavar="FILE", help="write the HiGHS log to FILE")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="milp: show elapsed time, incumbent, bound and gap on stderr while HiGHS runs "
        "(default: on when stderr is a terminal)",
    )
    p.add_argument("--export", metavar="FILE", help="also write the model as FILE.lp or FILE.mps")
    p.add_argument("-o", "--output", metavar="PLACEMENT", help="write the placement to this file")
    p.add_argument("--force", action="store_true", help="overwrite --output / --export / --log-file files")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_solve)

    from . import compare

    compare.register(sub)

    p = sub.add_parser("plot", help="draw a placement: the graph by device, device loads, a latency timeline")
    p.add_argument("instance", help="instance file")
    p.add_argument("placement", help="placement file (the paper's JSON or the native JSON)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="picture to write: FILE.png or FILE.svg")
    p.add_argument(
        "--kind",
        choices=("graph", "loads", "timeline", "all"),
        default="all",
        help="graph (layers, nodes coloured by device), loads (compute and communication per device), "
        "timeline (latency schedule; with --objective latency) or all (the graph above loads or timeline; default)",
    )
    _add_evaluation_options(p)
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(run=cmd_plot)

    p = sub.add_parser("bench", help="benchmarks that print tables")
    p.add_argument(
        "what",
        choices=("build", "dp", "milp"),
        help="build: model sizes and build times; dp: the ideal DP per instance; milp: formulations compared "
        "(rows, columns, root LP bound, final bound, incumbent, gap, seconds)",
    )
    p.add_argument("instances", nargs="*", help="instance files (default: the paper's throughput workloads)")
    p.add_argument("--contiguity", default="none,convex,pipeline", help="build, milp: contiguity levels")
    p.add_argument(
        "--formulations", default="maxload,maxload-strong", help="milp: formulations to compare (comma-separated)"
    )
    p.add_argument("--time-limit", type=float, help="seconds per instance and run (dp: default 600; milp: 300)")
    p.add_argument("--warm-start", default="auto", help="milp: auto (default), none, or a method (dp, pipedream, ...)")
    p.add_argument("--threads", type=int, help="milp: HiGHS threads")
    p.add_argument("--csv", metavar="FILE", help="milp: also write the table as CSV")
    p.add_argument("--markdown", metavar="FILE", help="milp: also write the table as markdown")
    p.add_argument("--force", action="store_true", help="overwrite the --csv/--markdown files")
    p.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        with catch_signals() as signals:
            args.signals = signals
            return args.run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


def entry_point() -> None:
    code = main()
    if "placement_ilp.backends.highs" in sys.modules:
        from .backends.highs import runs_left_running

        if runs_left_running():  # a solve that did not stop when asked: its outputs are written, leave now
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry_point()
