"""The ``placement-ilp`` command line.

Exit codes: 0 success; 1 the problem has no placement (infeasible, or none found
in time); 2 invalid input or usage, reported as one line ``error: ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from . import io
from .errors import InputError
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
        return EXIT_OK
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
    return EXIT_OK


# -- generate -----------------------------------------------------------------
def cmd_generate(args: argparse.Namespace) -> int:
    from .generators import layered_dag

    instance = layered_dag(
        args.layers,
        args.width,
        seed=args.seed,
        accelerators=args.accelerators,
        cpus=args.cpus,
        training=args.training,
    )
    io.save_instance(instance, args.output, fmt=args.format, overwrite=args.force)
    print(f"wrote {args.output}: {len(instance.graph)} nodes, {len(instance.graph.edges)} edges")
    return EXIT_OK


# -- solve --------------------------------------------------------------------
def cmd_solve(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .solve import build

    instance = _load(args.instance, strict=False)
    contiguity = args.contiguity or ("none" if args.non_contiguous else "pipeline")
    for target in (args.output, args.export):
        if target and Path(target).exists() and not args.force:
            raise InputError(f"{target} exists; refusing to overwrite it (use --force)")
    if args.objective == "latency":
        return _solve_latency(instance, args)
    if args.method != "milp":
        result = _solve_other(instance, args, contiguity)
        return _report(instance, result, contiguity, args)
    warm = _warm_start(instance, args.warm_start) if args.warm_start else None
    options = {}
    if args.formulation == "maxload":
        options = dict(
            contiguity=contiguity,
            cpu_contiguity=not args.accelerators_only,
            objective=args.objective,
            overlap=args.overlap,
        )
    problem = build(instance, args.formulation, **options)
    if args.export:
        from .backends.highs import write_model

        write_model(problem.model, args.export)
    result = problem.solve(
        time_limit=args.time_limit,
        gap=args.gap,
        threads=args.threads,
        backend=args.backend,
        warm_start=warm,
        log=args.log,
        log_file=args.log_file,
    )
    return _report(instance, result, contiguity, args)


LATENCY_METHODS = ("milp", "dp", "greedy", "all-cpu")


def _solve_latency(instance, args: argparse.Namespace) -> int:
    """--objective latency: the latency MILP, or a baseline scored for latency."""
    from .latency import evaluate_latency, solve_latency

    q = args.subgraphs_per_accelerator
    if q < 1:
        raise InputError(f"--subgraphs-per-accelerator must be >= 1, got {q}")
    if args.method not in LATENCY_METHODS:
        raise InputError(f"--objective latency takes --method {', '.join(LATENCY_METHODS)}, not {args.method!r}")
    if args.method == "milp":
        starts = ()
        if args.warm_start:  # a placement file, or a method's placement, joins the heuristic starts
            if args.warm_start in LATENCY_METHODS[1:]:
                starts = (_latency_baseline(instance, args.warm_start),)
            else:
                starts = (io.load_placement(args.warm_start, instance, unlimited_cpus=True),)
        found = solve_latency(
            instance, max_subgraphs=q, time_limit=args.time_limit, gap=args.gap, threads=args.threads,
            backend=args.backend, log=args.log, log_file=args.log_file, starts=starts,
        )
        placement, report = found.placement, found.report
        status, bound, gap = found.status, found.bound, found.gap
        build_s, solve_s = found.build_seconds, found.solve_seconds
    else:
        import time as _time

        start = _time.perf_counter()
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
        "placement": None if placement is None else {str(d): v for d, v in sorted(placement.by_device().items())},
        "subgraphs": None
        if report is None
        else [{"device": str(x.device), "index": x.index, "nodes": list(x.nodes)} for x in report.subgraphs],
    }
    if args.output and placement is not None:
        io.save_placement(instance, placement, args.output, objective=value, overwrite=args.force)
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        print(f"instance   {instance.name} ({len(instance.graph)} nodes)")
        print(f"method     {args.method} (objective latency, {q} subgraph(s) per accelerator)")
        print(f"status     {status}")
        print(f"latency    {_num(value)} (evaluator)   bound {_num(bound)}   gap {_num(gap)}")
        print(f"time       build {build_s:.3f} s, solve {solve_s:.3f} s")
        if report is not None:
            print()
            print(report.summary())
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


def _warm_start(instance, spec: str):
    """A placement file, or the name of a method whose placement starts the MILP."""
    from .solve import METHODS, solve

    if spec in METHODS and spec not in ("milp", "expert"):
        result = solve(instance, method=spec)
        if result.placement is None:
            raise InputError(f"--warm-start {spec}: it found no placement ({result.status})")
        return result.placement
    return io.load_placement(spec, instance)


def _solve_other(instance, args: argparse.Namespace, contiguity: str):
    """The DP or a baseline, through the same solve() as the MILP."""
    from .solve import solve

    if args.export:
        raise InputError("--export writes a MILP; it goes with --method milp")
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
        baseline_options=baseline_options,
    )


def _report(instance, result, contiguity: str, args: argparse.Namespace) -> int:
    if args.output and result.placement is not None:
        io.save_placement(instance, result.placement, args.output, objective=result.objective, overwrite=args.force)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(_solve_summary(instance, result, contiguity))
    return EXIT_OK if result.placement is not None else EXIT_NO_PLACEMENT


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
    if result.message and result.method != "milp":
        lines.append(f"note       {result.message}")
    if result.evaluation is not None:
        lines.append("")
        lines.append(result.evaluation.summary())
    return "\n".join(lines)


# -- bench --------------------------------------------------------------------
def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import build_table, dp_table

    if args.what == "dp":
        print(dp_table(args.instances, args.time_limit))
    else:
        print(build_table(args.instances, args.formulations.split(",")))
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

    p = sub.add_parser("generate", help="write a seeded random layered workload")
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--width", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--accelerators", type=int, default=3)
    p.add_argument("--cpus", type=int, default=1)
    p.add_argument("--training", action="store_true", help="add a backward pass")
    p.add_argument("--format", choices=("paper", "native"), default="paper")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    p.set_defaults(run=cmd_generate)

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
    p.add_argument("--formulation", default="maxload", help="a registered formulation (default: maxload)")
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
        help="start HiGHS from a placement file, or from the placement of a method (dp, pipedream, ...)",
    )
    p.add_argument("--log", action="store_true", help="show the solver's log")
    p.add_argument("--log-file", metavar="FILE", help="write the HiGHS log to FILE")
    p.add_argument("--export", metavar="FILE", help="also write the model as FILE.lp or FILE.mps")
    p.add_argument("-o", "--output", metavar="PLACEMENT", help="write the placement to this file")
    p.add_argument("--force", action="store_true", help="overwrite --output / --export files")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_solve)

    from . import compare

    compare.register(sub)

    p = sub.add_parser("bench", help="benchmarks that print tables")
    p.add_argument(
        "what", choices=("build", "dp"), help="build: model sizes and build times; dp: the ideal DP per instance"
    )
    p.add_argument("instances", nargs="*", help="instance files (default: the paper's throughput workloads)")
    p.add_argument("--formulations", default="none,convex,pipeline", help="build: contiguity levels to build")
    p.add_argument("--time-limit", type=float, default=600.0, help="dp: seconds per instance (default 600)")
    p.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
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
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
