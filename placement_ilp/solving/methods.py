"""The methods of the toolkit, in one table that every list of method names reads.

``solve()``, the command line's ``--method`` choices, the warm starts of the MILP
and ``compare`` all take their names from :data:`METHODS`, so a method is added in
one place. A method is exact (proves its answer) or a heuristic, and serves the
max-load objectives, the latency objective, or both.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Method", "METHODS", "method_names"]


@dataclass(frozen=True)
class Method:
    """One method.

    name: as the API and ``--method`` spell it.
    exact: True when it proves its answer optimal (within its contiguity level).
    objectives: "maxload" (sum and different-maxima) and/or "latency".
    starts_milp: whether its placement can start the max-load MILP (``--warm-start NAME``).
    summary: one line for help texts.
    """

    name: str
    exact: bool
    objectives: tuple[str, ...]
    starts_milp: bool
    summary: str


#: Every method, in the order help texts list them.
METHODS: tuple[Method, ...] = (
    Method("milp", True, ("maxload", "latency"), False, "a formulation solved by HiGHS (or CBC), any contiguity level"),
    Method("dp", True, ("maxload", "latency"), True,
           "the ideal DP, pipeline contiguity; for latency, its max-load split"),
    Method("pipedream", False, ("maxload",), True, "PipeDream's chain DP on a linear order"),
    Method("local-search", False, ("maxload",), True, "local search over single moves"),
    Method("partition", False, ("maxload",), True, "Kernighan-Lin bisection repaired for memory"),
    Method("one-accelerator", False, ("maxload",), True, "everything on the best single accelerator"),
    Method("expert", False, ("maxload",), False, "a human expert's split (--split FILE)"),
    Method("greedy", False, ("latency",), False, "the paper's greedy latency heuristic"),
    Method("all-cpu", False, ("latency",), False, "every node on a CPU core of its own"),
)


def method_names(objective: str | None = None, *, starts_milp: bool | None = None) -> tuple[str, ...]:
    """The names of the methods that serve ``objective`` ("maxload", "latency"; None:
    any) and, when ``starts_milp`` is given, that can (or cannot) start the MILP.
    O(methods).

    Example: ``method_names("latency") == ("milp", "dp", "greedy", "all-cpu")``.
    """
    return tuple(m.name for m in METHODS
                 if (objective is None or objective in m.objectives)
                 and (starts_milp is None or m.starts_milp == starts_milp))
