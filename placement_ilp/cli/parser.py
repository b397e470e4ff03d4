"""The ``placement-ilp`` argument parser: every command, option and help text."""

from __future__ import annotations

import argparse

from ..experiments import compare
from ..errors import InputError
from ..solving.methods import method_names
from ..solving.root_bound import ROOT_BOUNDS
from .commands import cmd_bench, cmd_evaluate, cmd_generate, cmd_import, cmd_info, cmd_plot, cmd_solve


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message} (see '{self.prog} --help')")


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
    parser = Parser(
        prog="placement-ilp",
        description="Place DNN operator graphs on CPUs and accelerators: exact MILPs (HiGHS), DP, evaluator.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

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
        choices=method_names(),
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
    p.add_argument("--time-limit", type=float, default=None, metavar="S",
                   help="seconds for the whole run: warm start, DP, build and MILP "
                   "(Ctrl-C also stops it, keeping the best placement)")
    p.add_argument("--gap", type=float, default=1e-6, metavar="G", help="relative gap to stop at (default 1e-6)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--backend", choices=("highs", "cbc"), default="highs", help="cbc runs through PuLP")
    p.add_argument(
        "--warm-start",
        metavar="PLACEMENT",
        help="MILP: start HiGHS from a placement file, from a method's placement (dp, pipedream, local-search, "
        "partition, one-accelerator), 'auto' (default: the DP's when it applies, else the heuristics'), "
        "'heuristics' (without the DP: the best of PipeDream's split polished by local search and, with "
        "device-pair links, the partition baseline's) or 'none'. "
        "With --objective latency: 'auto' (default) starts from the best, scored for latency, of the "
        "interval, greedy and all-CPU heuristics, the DP split (when the DP finishes in 30 s) and, with "
        "--subgraphs-per-accelerator 2 or more, the one-call MILP's answer (a third of the time); "
        "dp, greedy, all-cpu or a file add that placement to the heuristics; 'none' gives no start",
    )
    p.add_argument(
        "--root-bound",
        choices=ROOT_BOUNDS,
        default="none",
        help="milp, objective sum: prove a bound before the MILP and give it to the model as a row; "
        "configuration: the set-partitioning LP whose columns are device sets charged their boundary "
        "communication (docs/formulations.md section 11); it may take half the time limit",
    )
    p.add_argument("--log", action="store_true", help="show the solver's log (and the root bound's)")
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
    p.add_argument("--warm-start", default="auto", help="milp: auto (default), heuristics, none, or a method (dp, pipedream, ...)")
    p.add_argument("--root-bound", default="none", metavar="LIST",
                   help="milp: root bounds to compare, comma-separated: none (default), configuration")
    p.add_argument("--threads", type=int, help="milp: HiGHS threads")
    p.add_argument("--csv", metavar="FILE", help="milp: also write the table as CSV")
    p.add_argument("--markdown", metavar="FILE", help="milp: also write the table as markdown")
    p.add_argument("--force", action="store_true", help="overwrite the --csv/--markdown files")
    p.set_defaults(run=cmd_bench)
    return parser
