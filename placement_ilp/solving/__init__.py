"""The solving layer: one path from an instance to a scored placement, for every
method and objective.

- :mod:`~placement_ilp.solving.methods`: the table of methods every list of names reads;
- :mod:`~placement_ilp.solving.result`: :class:`Result` (what every method returns)
  and :class:`Start` (where a MILP starts);
- :mod:`~placement_ilp.solving.scoring`: which evaluator scores a placement;
- :mod:`~placement_ilp.solving.problem`: :class:`Problem`, a formulation built,
  solved, decoded and checked;
- :mod:`~placement_ilp.solving.direct`: the DP and the heuristics as methods;
- :mod:`~placement_ilp.solving.starts`: the MILPs' warm starts;
- :mod:`~placement_ilp.solving.run`: :func:`solve`, the one entry point.
"""

from .direct import run_baseline, solve_dp_method
from .methods import METHODS, Method, method_names
from .problem import Problem, backend_options, build, cap_threads, check_gap
from .result import Result, Start
from .run import prepare, solve, solve_latency, trim_idle_devices, with_reason, with_start
from .scoring import kind_of, score
from .starts import (
    AUTO_START_DP_BUDGET,
    AUTO_START_DP_SECONDS,
    LATENCY_WARM_STARTS,
    WARM_START_METHODS,
    dp_split,
    find_start,
    latency_starts,
)

__all__ = [
    "AUTO_START_DP_BUDGET",
    "AUTO_START_DP_SECONDS",
    "LATENCY_WARM_STARTS",
    "METHODS",
    "WARM_START_METHODS",
    "Method",
    "Problem",
    "Result",
    "Start",
    "backend_options",
    "build",
    "cap_threads",
    "check_gap",
    "dp_split",
    "find_start",
    "kind_of",
    "latency_starts",
    "method_names",
    "prepare",
    "run_baseline",
    "score",
    "solve",
    "solve_dp_method",
    "solve_latency",
    "trim_idle_devices",
    "with_reason",
    "with_start",
]
