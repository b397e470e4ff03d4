"""Solver backends for :class:`placement_ilp.milp.model.Model`.

``solve_model(model, backend="highs", **options)`` picks one:

* ``"highs"`` -- :func:`placement_ilp.milp.backends.highs.solve_highs` (the fast path);
* ``"pulp"`` / ``"cbc"`` -- :func:`placement_ilp.milp.backends.pulp_backend.solve_pulp`
  with PuLP's bundled CBC.

Backends are imported on first use, so importing this package needs neither
highspy nor pulp.
"""

from __future__ import annotations

import importlib
import inspect

from ...errors import InputError
from ..result import SolveResult

__all__ = ["solve_model", "write_model", "BACKENDS"]

# backend name -> (module, function)
BACKENDS = {
    "highs": ("placement_ilp.milp.backends.highs", "solve_highs"),
    "pulp": ("placement_ilp.milp.backends.pulp_backend", "solve_pulp"),
    "cbc": ("placement_ilp.milp.backends.pulp_backend", "solve_pulp"),
}


def solve_model(model, backend: str = "highs", **options) -> SolveResult:
    """Solve ``model`` with the named backend and return a :class:`SolveResult`.

    ``options`` go to the backend function: both take ``time_limit``,
    ``mip_rel_gap``, ``threads``, ``mip_start`` and ``log_to_console``;
    HiGHS also ``log_file`` and ``cutoff``, PuLP also ``solver``.  An unknown
    backend or an option the backend does not take raises
    :class:`~placement_ilp.errors.InputError`.  O(1) + the backend's cost.

    >>> from placement_ilp.model import Model
    >>> m = Model(); x = m.add_variables("x", 2, ub=1); m.set_objective(x.cols, -1.0)
    >>> solve_model(m, "highs", time_limit=10).objective
    -2.0
    """
    key = str(backend).lower()
    if key not in BACKENDS:
        raise InputError(
            f"unknown solver backend {backend!r}; choose one of {', '.join(sorted(BACKENDS))}")
    module, func = BACKENDS[key]
    fn = getattr(importlib.import_module(module), func)
    accepted = set(inspect.signature(fn).parameters) - {"model"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise InputError(
            f"backend {key!r} does not take option(s) {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(accepted))}")
    return fn(model, **options)


def write_model(model, path) -> None:
    """Write ``model`` as an ``.lp`` or ``.mps`` file through HiGHS (see
    :func:`placement_ilp.milp.backends.highs.write_model`), loaded on first use like the
    backends, so that the model layer needs no solver. O(nnz log nnz).

    Example: ``write_model(build(inst).model, "model.lp")``.
    """
    importlib.import_module("placement_ilp.milp.backends.highs").write_model(model, path)
