"""The handlers of the ``placement-ilp`` commands: one ``cmd_*`` a command, each
reading its options from an argparse namespace and returning the exit code."""

from __future__ import annotations

import argparse
import json
import sys

from .. import io
from ..errors import InputError
from ..evaluation.latency import evaluate_latency
from ..evaluation.maxload import evaluate
from ..experiments import plot
from ..importers import import_model, load_cost_topology
from ..io import files
from ..solving.methods import method_names
from ..solving.problem import cap_threads, check_gap
from ..solving.run import solve
from ..solving.starts import LATENCY_WARM_STARTS, MAXLOAD_WARM_STARTS
from ..stopping import Budget, check_time_limit
from ..data.structure import forward_graph, width
from ..workloads import generators
from .exits import EXIT_NO_PLACEMENT, EXIT_OK
from .format import num
from .progress import live_progress


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
    instance = _load(args.instance, args.strict)
    if args.objective == "latency":
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
    """Handler of ``placement-ilp solve``: any method, any objective, through the one
    :func:`~placement_ilp.solving.run.solve`; prints the result, then writes the
    placement."""
    budget = Budget(check_time_limit(args.time_limit, "--time-limit"))  # the whole run, from here
    check_gap(args.gap, "--gap")
    _check_outputs(args)
    latency = args.objective == "latency"
    if latency:
        _check_latency_options(args)
    instance = _load(args.instance, strict=False)
    contiguity = args.contiguity or ("none" if args.non_contiguous else "pipeline")
    threads, note = cap_threads(args.threads, "--threads")
    if note:
        print(f"note: {note}", file=sys.stderr)
    live = live_progress(args) if args.method == "milp" else None
    try:
        result = solve(
            instance,
            method=args.method,
            formulation=None if latency else args.formulation,
            objective=args.objective,
            max_subgraphs=args.subgraphs_per_accelerator,
            warm_start=_warm_start(instance, args.warm_start, latency),
            contiguity=contiguity,
            cpu_contiguity=not args.accelerators_only,
            overlap=args.overlap,
            gap=args.gap,
            threads=threads,
            backend=args.backend,
            log=args.log,
            log_file=args.log_file,
            progress=live,
            export=args.export,
            baseline_options=_baseline_options(args),
            budget=budget,  # the DP stops past its time; the baselines do not take one
            root_bound=args.root_bound,
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


def _check_latency_options(args: argparse.Namespace) -> None:
    """--objective latency: Q >= 1 and a method that serves latency."""
    if args.subgraphs_per_accelerator < 1:
        raise InputError(f"--subgraphs-per-accelerator must be >= 1, got {args.subgraphs_per_accelerator}")
    methods = method_names("latency")
    if args.method not in methods:
        raise InputError(f"--objective latency takes --method {', '.join(methods)}, not {args.method!r}")


def _warm_start(instance, spec: str | None, latency: bool):
    """--warm-start: "auto" (the default), "heuristics", "none", a method name, or a
    placement file (for latency, a file may put nodes on any CPU core)."""
    names = (*(LATENCY_WARM_STARTS if latency else MAXLOAD_WARM_STARTS),
             *method_names("latency" if latency else "maxload", starts_milp=None if latency else True))
    if spec is None or spec in names:
        return spec or "auto"
    return io.load_placement(spec, instance, unlimited_cpus=latency)


def _baseline_options(args: argparse.Namespace) -> dict:
    """The options of the heuristic --method names."""
    if args.method == "expert":
        if not args.split:
            raise InputError("--method expert needs --split FILE")
        return {"path": args.split}
    if args.method == "local-search":
        return {"restarts": args.restarts, "seed": args.seed}
    return {}


def _report(instance, result, contiguity: str, args: argparse.Namespace) -> int:
    """Print the result, then write the placement (so a failed write loses nothing)."""
    _quiet(args)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1), flush=True)
    else:
        print(_solve_summary(instance, result, contiguity, args.subgraphs_per_accelerator), flush=True)
    if args.output and result.placement is not None:
        io.save_placement(instance, result.placement, args.output, objective=result.objective, overwrite=args.force)
    return EXIT_OK if result.placement is not None else EXIT_NO_PLACEMENT


def _quiet(args: argparse.Namespace) -> None:
    """From here on an interrupt is only noted: the run is over, its outputs are written."""
    signals = getattr(args, "signals", None)
    if signals is not None:
        signals.raising = False


def _solve_summary(instance, result, contiguity: str, max_subgraphs: int) -> str:
    latency = result.kind == "latency"
    if latency:
        how = f" (objective latency, {max_subgraphs} subgraph(s) per accelerator)"
    else:
        how = f" (contiguity {contiguity})" if result.method in ("milp", "dp") else ""
    value = "latency   " if latency else "objective "
    lines = [
        f"instance   {instance.name} ({len(instance.graph)} nodes, {instance.topology.num_devices} devices)",
        f"method     {result.method}" + (f" / {result.formulation}" if result.formulation else "") + how,
        f"status     {result.status}",
        f"{value} {num(result.objective)} (evaluator)   bound {num(result.bound)}   gap {num(result.gap)}",
        f"time       build {result.build_seconds:.3f} s, solve {result.solve_seconds:.3f} s",
    ]
    if result.start is not None:
        lines.append(f"start      {result.start}'s placement, {value.strip()} {num(result.start_value)}")
    if result.root_bound is not None:
        lines.append(f"bound by   {result.root_bound.describe()}")
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
    # here, not at the top: pandas takes most of a second to load, and only the benchmarks use it
    from ..experiments import bench_milp
    from ..experiments.bench import build_table, dp_table

    if args.what == "dp":
        print(dp_table(args.instances, 600.0 if args.time_limit is None else args.time_limit))
    elif args.what == "milp":
        if args.time_limit is None:
            args.time_limit = 300.0
        print(bench_milp.run(args))
    else:
        print(build_table(args.instances, args.contiguity.split(",")))
    return EXIT_OK
