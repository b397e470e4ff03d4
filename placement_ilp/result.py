"""What a MILP solve returns, independent of the solver that produced it."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Status", "SolveResult", "relative_gap"]


class Status(str, enum.Enum):
    """Outcome of a solve.

    OPTIMAL      proven optimal (within the requested relative gap).
    TIME_LIMIT   stopped early (time, node or iteration limit, interrupt) *with*
                 a feasible incumbent; ``values`` holds it.
    INFEASIBLE   the solver proved that no feasible point exists.
    NO_SOLUTION  no incumbent and no infeasibility proof: a limit hit before
                 the first feasible point, an unbounded model, a cutoff that
                 removed every solution, or a solver error (see ``message``).
    """

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"

    def __str__(self) -> str:
        return self.value


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
        """True when ``values`` holds a feasible point (status optimal or time_limit)."""
        return self.values is not None and self.status in (Status.OPTIMAL, Status.TIME_LIMIT)

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
