"""What a MILP solve returns, independent of the solver that produced it."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Status", "SolveResult", "relative_gap", "proven_optimal", "OPTIMAL_GAP"]


class Status(str, enum.Enum):
    """Outcome of a solve.

    OPTIMAL      proven optimal (within :data:`OPTIMAL_GAP`).
    TIME_LIMIT   stopped early (time, node or iteration limit, interrupt) *with*
                 a feasible incumbent; ``values`` holds it.
    INFEASIBLE   the solver proved that no feasible point exists.
    NO_SOLUTION  no incumbent and no infeasibility proof: a limit hit before
                 the first feasible point, an unbounded model, a cutoff that
                 removed every solution, or a solver error (see ``message``).
    GAP_LIMIT    stopped at the user's relative gap, looser than
                 :data:`OPTIMAL_GAP`: a placement, not proven optimal.
    INTERRUPTED  the user stopped the run (Ctrl-C, SIGTERM); ``values`` holds
                 the best solution found so far, if any.
    """

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"
    GAP_LIMIT = "gap_limit"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return self.value


#: The relative gap within which a solve counts as proven optimal (the default
#: ``gap`` of every solve); a run stopped at a looser gap the user asked for has
#: status "gap_limit".
OPTIMAL_GAP = 1e-6
#: The absolute gap within which a solve counts as proven optimal (HiGHS' default
#: ``mip_abs_gap``: it stops there too).
OPTIMAL_ABS_GAP = 1e-6


def proven_optimal(objective: float | None, bound: float | None) -> bool:
    """True when ``bound`` proves ``objective`` optimal within :data:`OPTIMAL_GAP`
    (relative) or :data:`OPTIMAL_ABS_GAP` (absolute). O(1).

    >>> proven_optimal(100.0, 100.0 - 1e-5), proven_optimal(100.0, 99.0)
    (True, False)
    """
    gap = relative_gap(objective, bound)
    if gap is None:
        return False
    return gap <= OPTIMAL_GAP * (1 + 1e-9) or abs(objective - bound) <= OPTIMAL_ABS_GAP


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative optimality gap ``|objective - bound| / max(|objective|, 1e-9)``.

    ``None`` when either number is missing or not finite; 0.0 when they are
    equal (including both 0).  This is the definition HiGHS uses for
    ``mip_rel_gap`` except for the 1e-9 floor that avoids division by zero.
    O(1).

    >>> relative_gap(100.0, 95.0)
    0.05
    >>> relative_gap(0.0, 0.0), relative_gap(3.0, None)
    (0.0, None)
    """
    if objective is None or bound is None:
        return None
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    diff = abs(objective - bound)
    if diff == 0.0:
        return 0.0
    return diff / max(abs(objective), 1e-9)


@dataclass
class SolveResult:
    """Solver-neutral result of one solve.

    status        a :class:`Status`.
    values        float64[num_cols] column values of the best solution found,
                  or ``None`` when there is none.
    objective     objective value of ``values`` as the solver reports it
                  (offset included), or ``None``.
    bound         best proven dual bound (a lower bound when minimising, an
                  upper bound when maximising), or ``None`` if unknown.
    gap           :func:`relative_gap` of ``objective`` and ``bound``, or ``None``.
    solve_seconds wall-clock seconds spent inside the solver call.
    solver        backend name, e.g. ``"highs"`` or ``"pulp:PULP_CBC_CMD"``.
    message       the solver's own status text.

    Example::

        >>> r = SolveResult(Status.OPTIMAL, np.array([1.0]), 3.0, 3.0, 0.0, 0.01, "highs", "Optimal")
        >>> r.has_solution, str(r.status)
        (True, 'optimal')
    """

    status: Status
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    solve_seconds: float
    solver: str
    message: str = ""

    @property
    def has_solution(self) -> bool:
        """True when ``values`` holds a feasible point (status optimal, time_limit,
        gap_limit or interrupted)."""
        return self.values is not None and self.status in (
            Status.OPTIMAL, Status.TIME_LIMIT, Status.GAP_LIMIT, Status.INTERRUPTED)

    def summary(self) -> str:
        """One line for logs: status, objective, bound, gap and time.

        >>> SolveResult(Status.INFEASIBLE, None, None, None, None, 0.5, "highs", "Infeasible").summary()
        'highs: infeasible (Infeasible) in 0.50 s'
        """
        parts = [f"{self.solver}: {self.status.value}"]
        if self.message:
            parts[0] += f" ({self.message})"
        if self.objective is not None:
            parts.append(f"objective {self.objective:.10g}")
        if self.bound is not None:
            parts.append(f"bound {self.bound:.10g}")
        if self.gap is not None:
            parts.append(f"gap {self.gap:.3%}")
        return ", ".join(parts) + f" in {self.solve_seconds:.2f} s"
