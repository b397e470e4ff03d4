"""placement-ilp: exact device placement of DNN operator graphs.

The data flows one way: instance -> build -> solve -> decode -> evaluate -> report,
through layers a reader sees in the folders (docs/architecture.md):
``data/`` (the model of a problem), ``io/``, ``importers/`` and ``workloads/``
(instances from files, models and generators), ``evaluation/`` (the evaluators),
``milp/`` (models, solvers and their results), ``bounds/``, ``dp/``, ``baselines/``,
the top-level ``formulations`` package (the builders), ``solving/`` (the one solve
path), ``experiments/`` (compare, bench, plot) and ``cli/``.

The names below are loaded on first use, so importing one layer does not load the
others.

>>> from placement_ilp import load_instance, solve
>>> result = solve(load_instance("instances/default.json"), contiguity="pipeline", time_limit=60)
>>> result.status, result.objective                                    # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from . import _old_paths

#: Each public name and the module that defines it.
_EXPORTS = {
    "InputError": "errors",
    "FormulationError": "errors",
    "Budget": "stopping",
    "OpEdge": "data.graph",
    "OpGraph": "data.graph",
    "OpNode": "data.graph",
    "Instance": "data.instance",
    "Placement": "data.placement",
    "Device": "data.topology",
    "DeviceClass": "data.topology",
    "Link": "data.topology",
    "Topology": "data.topology",
    "paper_topology": "data.topology",
    "load_instance": "io",
    "load_placement": "io",
    "save_instance": "io",
    "save_placement": "io",
    "Evaluation": "evaluation.maxload",
    "evaluate": "evaluation.maxload",
    "LatencyReport": "evaluation.latency",
    "evaluate_latency": "evaluation.latency",
    "explain_infeasible": "evaluation.feasibility",
    "Problem": "solving.problem",
    "build": "solving.problem",
    "Result": "solving.result",
    "Start": "solving.result",
    "find_start": "solving.starts",
    "prepare": "solving.run",
    "solve": "solving.run",
    "solve_latency": "solving.run",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"

_old_paths.install(__name__)


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
