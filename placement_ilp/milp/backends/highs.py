"""HiGHS backend: hand a :class:`~placement_ilp.milp.model.Model` to highspy in one call.

The whole model goes through a single ``passModel`` call with the row-wise
CSR matrix from :meth:`Model.to_csr` (no per-row Python work), the solve runs,
and the outcome is mapped to a :class:`~placement_ilp.milp.result.SolveResult`.

HiGHS prints a copyright banner the first time a ``highspy.Highs`` object
registers its callbacks; to keep quiet runs quiet this module uses highspy's
compiled base class (the one ``highspy.Highs`` extends), which has every
method used here but registers no callbacks.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

import highspy
import numpy as np

from ...errors import InputError
from ...io.files import write_atomic
from ..model import Model
from ..result import OPTIMAL_GAP, SolveResult, Status, proven_optimal, relative_gap
from ...stopping import Budget

__all__ = ["new_highs", "run_highs", "run_watched", "solve_highs", "solve_relaxation", "write_model", "read_file_and_solve", "to_highs", "EXTENSIONS", "Progress"]

EXTENSIONS = (".lp", ".mps")

_MS = highspy.HighsModelStatus
_HighsBase = highspy.Highs.__mro__[1] if len(highspy.Highs.__mro__) > 2 else highspy.Highs
if not all(hasattr(_HighsBase, m) for m in ("passModel", "run", "setOptionValue", "getInfo")):
    _HighsBase = highspy.Highs  # layout changed: fall back to the public class

# Statuses meaning "the solver stopped before proving optimality".
_EARLY_STOP = {
    _MS.kTimeLimit, _MS.kIterationLimit, _MS.kSolutionLimit, _MS.kInterrupt,
    _MS.kHighsInterrupt, _MS.kObjectiveTarget, _MS.kMemoryLimit,
}


def new_highs(output: bool = False):
    """An empty HiGHS object (the compiled class: no banner on standard output, no
    Python wrapper around ``run``) with ``output_flag`` set. O(1).

    >>> new_highs().getNumCol()
    0
    """
    h = _HighsBase()
    _set_option(h, "output_flag", bool(output))
    return h


def _set_option(h, name: str, value) -> None:
    status = h.setOptionValue(name, value)
    if status == highspy.HighsStatus.kError:
        raise InputError(f"HiGHS rejected option {name}={value!r}")


def _configure(h, *, time_limit, mip_rel_gap, threads, log_to_console, log_file, cutoff):
    """Set output and limit options on a fresh Highs object (output_flag first)."""
    if log_file is not None:
        _set_option(h, "output_flag", True)
        _set_option(h, "log_to_console", bool(log_to_console))
        _set_option(h, "log_file", os.fspath(log_file))
    else:
        _set_option(h, "output_flag", bool(log_to_console))
        _set_option(h, "log_to_console", bool(log_to_console))
    if time_limit is not None:
        if not time_limit >= 0:
            raise InputError(f"time_limit must be >= 0, got {time_limit!r}")
        _set_option(h, "time_limit", float(time_limit))
    if mip_rel_gap is not None:
        _set_option(h, "mip_rel_gap", float(mip_rel_gap))
    if threads is not None:
        if int(threads) < 0:
            raise InputError(f"threads must be >= 0, got {threads!r}")
        _set_option(h, "threads", int(threads))
    if cutoff is not None:
        _set_option(h, "objective_bound", float(cutoff))


def to_highs(model: Model, names: bool = False, output: bool = False):
    """Load ``model`` into a new (compiled) highspy ``Highs`` object and return it.

    One ``passModel`` call with the row-wise CSR matrix; with ``names=True``
    column names (``x_3_1``) and row names (``family_k``) are passed too
    (needed for readable .lp/.mps files; costs one Python call per name).
    O(nnz log nnz) for the CSR (cached on the model) plus HiGHS' copy.

    >>> from placement_ilp.model import Model
    >>> m = Model(); x = m.add_variables("x", 2, ub=1)
    >>> h = to_highs(m); h.getNumCol()
    2
    """
    h = new_highs(output)
    indptr, indices, data = model.to_csr()
    nnz = int(indptr[-1])
    if nnz >= 2**31 or model.num_cols >= 2**31:
        raise InputError("model too large for HiGHS' 32-bit indices")
    # Always a full-length array: highspy 1.16 reads garbage from an empty one.
    integrality = model.col_integer.astype(np.int32)
    sense = highspy.ObjSense.kMaximize if model.sense == "max" else highspy.ObjSense.kMinimize
    status = h.passModel(
        model.num_cols, model.num_rows, nnz,
        int(highspy.MatrixFormat.kRowwise), int(sense), float(model.objective_offset),
        np.ascontiguousarray(model.objective, dtype=np.float64),
        np.ascontiguousarray(model.col_lower, dtype=np.float64),
        np.ascontiguousarray(model.col_upper, dtype=np.float64),
        np.ascontiguousarray(model.row_lower, dtype=np.float64),
        np.ascontiguousarray(model.row_upper, dtype=np.float64),
        np.ascontiguousarray(indptr[:-1], dtype=np.int32),
        np.ascontiguousarray(indices, dtype=np.int32),
        np.ascontiguousarray(data, dtype=np.float64),
        integrality,
    )
    if status == highspy.HighsStatus.kError:
        raise InputError("HiGHS rejected the model (passModel returned kError)")
    if names:
        for j, n in enumerate(model.col_names()):
            h.passColName(j, n)
        for i, n in enumerate(model.row_names()):
            h.passRowName(i, n)
    return h


def run_highs(h, threads: int | None) -> None:
    """``h.run()``; when HiGHS refuses to start because its process-wide thread
    pool was made for another number of threads (another solve in this process
    asked for more or fewer), rebuild the pool and run once more. The caller reads
    the model status. O(the solve).

    Example: ``h = to_highs(model); h.setOptionValue("threads", 1); run_highs(h, 1)``.
    """
    status = h.run()
    if (status == highspy.HighsStatus.kError and threads is not None
            and h.getModelStatus() == _MS.kNotset):
        _HighsBase.resetGlobalScheduler(True)
        h.run()


_run = run_highs


def run_watched(h, threads: int | None, budget: Budget, minimise: bool = True) -> tuple[str | None, bool]:
    """``h.run()`` in a worker thread while this thread watches ``budget``: past its
    deadline or on an interrupt (``budget.interrupt()``, or Ctrl-C here, recorded
    with ``budget.first_interrupt()``) HiGHS is asked to stop, as the MILP's own
    solve is. For the small MILPs and LPs that other code runs on a HiGHS object it
    keeps (for example the configuration bound's pricing). Returns (why it was
    stopped: None, "interrupted" or "time_limit"; whether ``run()`` returned: False
    when HiGHS did not stop within ``STOP_GRACE`` seconds, and ``h`` is then still
    busy and must not be used again). A second Ctrl-C is raised. O(the solve).

    Example: ``stopped, finished = run_watched(h, 1, Budget(10))``.
    """
    return _run_until_stopped(h, threads, budget, _Watch(h, None, minimise))


def _result(h, *, is_mip: bool, seconds: float, cutoff, solver: str = "highs") -> SolveResult:
    ms = h.getModelStatus()
    message = h.modelStatusToString(ms)
    info = h.getInfo()
    feasible = int(info.primal_solution_status) == int(highspy.kSolutionStatusFeasible)

    values = objective = bound = None
    if ms in (_MS.kOptimal, _MS.kModelEmpty) or (ms in _EARLY_STOP and feasible):
        status = Status.OPTIMAL if ms in (_MS.kOptimal, _MS.kModelEmpty) else Status.TIME_LIMIT
        values = np.asarray(h.getSolution().col_value, dtype=np.float64)
        objective = float(info.objective_function_value)
        if is_mip:
            b = float(info.mip_dual_bound)
            bound = b if math.isfinite(b) else None
        elif status is Status.OPTIMAL:
            bound = objective
    elif ms == _MS.kInfeasible and cutoff is None:
        status = Status.INFEASIBLE
    elif ms == _MS.kInfeasible:
        status = Status.NO_SOLUTION
        message += f" (no solution better than cutoff {cutoff})"
    else:
        status = Status.NO_SOLUTION
        if is_mip and ms in _EARLY_STOP:
            b = float(info.mip_dual_bound)
            bound = b if math.isfinite(b) else None
    gap = relative_gap(objective, bound)
    if status is Status.OPTIMAL and gap is None and objective is not None:
        bound, gap = objective, 0.0
    return SolveResult(status=status, values=values, objective=objective, bound=bound,
                       gap=gap, solve_seconds=seconds, solver=solver, message=message)


def _solve_loaded(h, *, is_mip, threads, cutoff, budget: Budget, watch: "_Watch",
                  mip_rel_gap: float | None = None, solver="highs") -> SolveResult:
    t0 = time.perf_counter()
    stopped, finished = _run_until_stopped(h, threads, budget, watch)
    if finished and stopped is None and h.getModelStatus() == _MS.kUnboundedOrInfeasible:
        # Presolve could not tell which; solving without presolve decides it.
        left = budget.remaining()
        if left is None or left > 0:
            _set_option(h, "presolve", "off")
            if left is not None:
                _set_option(h, "time_limit", float(left))
            h.clearSolver()
            stopped, finished = _run_until_stopped(h, threads, budget, watch)
    seconds = time.perf_counter() - t0
    if finished:
        result = _result(h, is_mip=is_mip, seconds=seconds, cutoff=cutoff, solver=solver)
    else:  # HiGHS did not stop when asked: what its callbacks reported is all there is
        has = watch.values is not None
        result = SolveResult(Status.TIME_LIMIT if has else Status.NO_SOLUTION, watch.values,
                             watch.incumbent if has else None, watch.bound,
                             relative_gap(watch.incumbent if has else None, watch.bound), seconds, solver,
                             f"HiGHS did not stop within {STOP_GRACE:g} s of being asked; "
                             "its best solution reported so far")
    if stopped == "interrupted":
        result.status = Status.INTERRUPTED
        result.message = "interrupted by the user"
    elif stopped == "time_limit" and finished:
        result.message = "time limit reached"
    elif (result.status is Status.OPTIMAL and is_mip and mip_rel_gap is not None
          and mip_rel_gap > OPTIMAL_GAP and not proven_optimal(result.objective, result.bound)):
        result.status = Status.GAP_LIMIT
        result.message = f"stopped at the requested relative gap {mip_rel_gap:g}"
    return result


#: Seconds HiGHS is given to stop after it was asked to, before the run reports what
#: the callbacks have and leaves HiGHS behind.
STOP_GRACE = 1.5
#: How often (seconds) the waiting thread looks at the clock and the stop request.
_POLL = 0.05
#: Runs that did not stop within STOP_GRACE (they end at HiGHS' next check).
_LEFT_RUNNING: list[threading.Thread] = []


def runs_left_running() -> int:
    """How many HiGHS runs were left behind, still running, because they did not stop
    within ``STOP_GRACE`` seconds of being asked. A program that exits while one runs
    waits for it; the command line, whose outputs are written by then, exits at once.
    O(runs left)."""
    return sum(t.is_alive() for t in _LEFT_RUNNING)


def _run_until_stopped(h, threads, budget: Budget, watch: "_Watch") -> tuple[str | None, bool]:
    """Run HiGHS in a worker thread while this thread watches the budget.

    Past the budget's deadline, on ``budget.interrupt()`` or on a KeyboardInterrupt
    here (Ctrl-C in the main thread), HiGHS is asked to stop (:meth:`_Watch.stop`).
    Returns (why it was stopped: None when HiGHS stopped by itself, else "interrupted"
    or "time_limit"; whether ``run()`` returned, within ``STOP_GRACE`` seconds of being
    asked). A second KeyboardInterrupt while waiting is raised. O(1) besides the solve;
    the watch costs one wake-up per ``_POLL`` s.
    """
    failure: list[BaseException] = []
    done = threading.Event()  # not Thread.join: an interrupted join can mark a live thread dead

    def work() -> None:
        try:
            _run(h, threads)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failure.append(exc)
        finally:
            done.set()

    stopped, asked = None, None
    # not a daemon: at exit Python waits for a run that did not stop when asked, since
    # HiGHS' threads cannot be torn down under it (the process would abort)
    worker = threading.Thread(target=work, name="highs-run")
    worker.start()
    while not done.is_set():
        try:
            if done.wait(_POLL):
                break
            if asked is None and budget.should_stop():
                stopped, asked = budget.stop_status(), time.monotonic()
                watch.stop(h)
            elif asked is not None and time.monotonic() - asked > STOP_GRACE:
                _LEFT_RUNNING.append(worker)
                return stopped, False
        except KeyboardInterrupt:
            if not budget.first_interrupt():
                raise
    if failure:
        raise failure[0]
    return stopped, True


# -- live progress (optional; nothing here runs without a progress callable) --
@dataclass(frozen=True)
class Progress:
    """One report of a running solve, passed to the ``progress`` callable of :func:`solve_highs`.

    elapsed    seconds since the solve started; never smaller than in the report before.
    incumbent  objective of the best solution found so far (None: none yet); never worse
               than before.
    bound      best proven bound on the optimum (None: none yet); never weaker than
               before, and at most ``incumbent`` when minimising (at least it when
               maximising).
    gap        :func:`~placement_ilp.milp.result.relative_gap` of the two (None without both).
    final      True for the one last report, sent after the solver has stopped.

    A plain record (O(1)). Example::

        solve_highs(model, progress=lambda p: print(f"{p.elapsed:.1f}s {p.incumbent} {p.bound}"))
    """

    elapsed: float
    incumbent: float | None
    bound: float | None
    gap: float | None
    final: bool = False


#: Seconds between two reports while neither the incumbent nor the bound moves.
PROGRESS_HEARTBEAT = 0.5


class _Watch:
    """HiGHS' callbacks for one run: live progress, the best solution so far, and stopping.

    Turns the MIP callbacks (improving solution, periodic interrupt check) into
    :class:`Progress` reports when a ``progress`` callable is given: one for each better
    incumbent or bound, else one per PROGRESS_HEARTBEAT seconds. It keeps a copy of
    the best solution HiGHS reported. After :meth:`stop` (or when the progress callable
    raised, Ctrl-C included) every interrupt callback (MIP, simplex, interior point)
    tells HiGHS to stop, and HiGHS' time limit is lowered for the phases that call none
    (presolve's probing); :meth:`finish` raises the callable's exception once ``run()``
    has returned.
    """

    def __init__(self, h, progress: Callable[[Progress], None] | None, minimise: bool) -> None:
        self.progress, self.sign = progress, 1.0 if minimise else -1.0
        self.incumbent: float | None = None
        self.bound: float | None = None
        self.values: np.ndarray | None = None  # the solution of ``incumbent``
        self.num_cols = h.getNumCol()
        self.error: BaseException | None = None
        self.stopping = False
        self.last = 0.0
        self.sent = False
        self.start = time.perf_counter()
        self._improving, self._mip = -1, set()
        kinds = getattr(getattr(highspy, "cb", None), "HighsCallbackType", None)
        if kinds is not None:  # a highspy without callbacks stops at its time limit only
            h.setCallback(self._callback, None)
            for kind in (kinds.kCallbackMipImprovingSolution, kinds.kCallbackMipInterrupt,
                         kinds.kCallbackSimplexInterrupt, kinds.kCallbackIpmInterrupt):
                h.startCallback(kind)
            self._improving = int(kinds.kCallbackMipImprovingSolution)
            self._mip = {self._improving, int(kinds.kCallbackMipInterrupt)}

    def stop(self, h) -> None:
        """Ask the running HiGHS ``h`` to stop (from any thread)."""
        self.stopping = True
        h.setOptionValue("time_limit", 0.0)

    def _update(self, incumbent, bound) -> bool:
        """Keep the better incumbent and the stronger bound; True when either moved."""
        moved = False
        if incumbent is not None and math.isfinite(incumbent) and (
                self.incumbent is None or self.sign * incumbent < self.sign * self.incumbent):
            self.incumbent, moved = float(incumbent), True
        if bound is not None and math.isfinite(bound) and (
                self.bound is None or self.sign * bound > self.sign * self.bound):
            self.bound, moved = float(bound), True
        return moved

    def _send(self, final: bool) -> None:
        elapsed = max(time.perf_counter() - self.start, self.last)
        bound = self.bound
        if bound is not None and self.incumbent is not None and self.sign * bound > self.sign * self.incumbent:
            bound = self.incumbent  # a bound past the incumbent is tolerance noise
        self.last, self.sent = elapsed, True
        self.progress(Progress(elapsed, self.incumbent, bound, relative_gap(self.incumbent, bound), final))

    def _callback(self, kind, message, out, data_in, user_data) -> None:
        try:
            if self.error is None and int(kind) in self._mip:
                before = self.incumbent
                moved = self._update(out.mip_primal_bound, out.mip_dual_bound)
                if int(kind) == self._improving and self.incumbent != before and out.mip_solution is not None:
                    values = np.array(out.mip_solution, dtype=np.float64)
                    if values.shape == (self.num_cols,):  # the original model's columns, not presolve's
                        self.values = values
                if self.progress is not None and (
                        moved or not self.sent
                        or time.perf_counter() - self.start - self.last >= PROGRESS_HEARTBEAT):
                    self._send(False)
        except BaseException as exc:  # noqa: BLE001 - raised again by finish()
            self.error = exc
        if (self.stopping or self.error is not None) and data_in is not None:
            data_in.user_interrupt = True

    def finish(self, result: SolveResult) -> None:
        """Send the final report (the result's objective and bound), or raise the
        callable's exception."""
        if self.error is not None:
            raise self.error
        if self.progress is not None:
            self._update(result.objective, result.bound)
            self._send(True)

def solve_highs(model: Model, time_limit: float | None = None, mip_rel_gap: float = 1e-6,
                threads: int | None = None, mip_start=None, log_to_console: bool = False,
                log_file=None, cutoff: float | None = None,
                progress: Callable[[Progress], None] | None = None,
                highs_options: dict | None = None, budget: Budget | None = None) -> SolveResult:
    """Solve ``model`` with HiGHS and return a :class:`SolveResult`.

    time_limit      seconds (None: no limit).
    budget          the run's :class:`~placement_ilp.stopping.Budget`: HiGHS stops at
                    its deadline too (the earlier of the two), and when it is
                    interrupted (status INTERRUPTED, with the best solution so far).
                    Ctrl-C during the solve interrupts it the same way.
    mip_rel_gap     HiGHS' relative gap at which the MIP counts as solved.
    threads         HiGHS ``threads`` option (process-wide thread pool; if it must
                    grow, HiGHS' global scheduler is reset).
    mip_start       full column vector (length ``num_cols``) passed with
                    ``setSolution``; NaN entries mean "unknown" and are left for
                    HiGHS to complete.  HiGHS ignores an infeasible start.
    log_to_console  show the HiGHS log (off by default; also no banner).
    log_file        write the HiGHS log to this file.
    cutoff          HiGHS ``objective_bound``: only solutions better than this
                    are of interest (when none exists the status is NO_SOLUTION,
                    not INFEASIBLE).
    progress        called with a :class:`Progress` (elapsed, incumbent, bound,
                    gap) as HiGHS improves them during a MIP solve, and once
                    more with ``final=True`` at the end; an exception it raises
                    stops the solve and is raised from here.
    highs_options   further HiGHS options by name (for example
                    ``{"mip_allow_restart": False}``); an unknown name or a bad
                    value raises :class:`InputError`.

    HiGHS runs in a worker thread while the calling thread watches the clock and
    the budget, so that Ctrl-C and the deadline are seen at once.
    Status mapping: kOptimal/kModelEmpty -> OPTIMAL (GAP_LIMIT when ``mip_rel_gap``
    is looser than OPTIMAL_GAP and the gap is too); time/iteration/solution
    limit, interrupt -> TIME_LIMIT with a feasible incumbent, else NO_SOLUTION;
    kInfeasible -> INFEASIBLE; kUnboundedOrInfeasible is re-solved once without
    presolve to decide; unbounded and errors -> NO_SOLUTION.  ``bound`` is
    ``mip_dual_bound`` for a MIP (the objective for an optimal LP);
    ``solve_seconds`` is the wall time of ``run()``.  Cost: passing the model
    is O(nnz log nnz); the solve is what it is.

    >>> from placement_ilp.model import Model
    >>> m = Model(); x = m.add_variables("x", 2, binary=True)
    >>> _ = m.add_constraints("c", x.cols[None, :], [[3, 4]], "<=", 5)
    >>> m.set_objective(x.cols, [2, 3], sense="max")
    >>> r = solve_highs(m); r.status.value, r.objective, r.values.tolist()
    ('optimal', 3.0, [0.0, 1.0])
    """
    budget = Budget(time_limit) if budget is None else budget
    left = budget.remaining()
    if left is not None:
        time_limit = left if time_limit is None else min(time_limit, left)
    h = to_highs(model, output=bool(log_to_console or log_file))
    _configure(h, time_limit=time_limit, mip_rel_gap=mip_rel_gap, threads=threads,
               log_to_console=log_to_console, log_file=log_file, cutoff=cutoff)
    for name, value in (highs_options or {}).items():
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            raise InputError(f"HiGHS does not take option {name}={value!r}")
    if mip_start is not None:
        start = np.asarray(mip_start, dtype=np.float64).ravel()
        if start.shape != (model.num_cols,):
            raise InputError(
                f"mip_start has {start.size} entries, the model has {model.num_cols} columns")
        known = ~np.isnan(start)
        if known.all():
            sol = highspy.HighsSolution()
            sol.col_value = start.tolist()
            st = h.setSolution(sol)
        else:
            idx = np.flatnonzero(known).astype(np.int32)
            st = h.setSolution(int(idx.size), idx, start[known])
        if st == highspy.HighsStatus.kError:
            raise InputError("HiGHS rejected the MIP start")
    watch = _Watch(h, progress, model.sense != "max")
    result = _solve_loaded(h, is_mip=model.is_mip, threads=threads, cutoff=cutoff, budget=budget,
                           watch=watch, mip_rel_gap=mip_rel_gap)
    watch.finish(result)
    return result


def _check_extension(path) -> str:
    p = os.fspath(path)
    if not p.endswith(EXTENSIONS):
        raise InputError(f"{p}: model files must end in .lp or .mps")
    return p


def write_model(model: Model, path) -> None:
    """Write ``model`` to ``path`` as an LP (``.lp``) or fixed/free MPS (``.mps``) file.

    Names are ``x_3_1`` for columns and ``family_k`` for rows; the file is written
    whole or not at all (:func:`~placement_ilp.io.files.write_atomic`; an existing
    file is replaced: callers check first).  Any other extension raises :class:`~placement_ilp.errors.InputError`.  O(nnz log nnz
    + num_rows + num_cols).

    >>> import tempfile, pathlib
    >>> from placement_ilp.model import Model
    >>> m = Model(); x = m.add_variables("x", 2); m.set_objective(x.cols, 1.0)
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.lp"; write_model(m, p); p.exists()
    True
    """
    p = _check_extension(path)
    h = to_highs(model, names=True)

    def write(temp: str) -> None:
        if h.writeModel(temp) == highspy.HighsStatus.kError:
            raise InputError(f"{p}: HiGHS could not write the model")

    write_atomic(p, write, overwrite=True)


def read_file_and_solve(path, time_limit: float | None = None, mip_rel_gap: float = 1e-6,
                        threads: int | None = None, log_to_console: bool = False,
                        log_file=None, cutoff: float | None = None) -> SolveResult:
    """Read an ``.lp``/``.mps`` file with HiGHS' ``readModel`` and solve it.

    Same options and status mapping as :func:`solve_highs`; ``values`` are in
    the file's column order.  Useful to check an exported model.  A missing
    or unreadable file raises :class:`~placement_ilp.errors.InputError`.

    >>> # write_model(m, "m.lp"); read_file_and_solve("m.lp").objective == solve_highs(m).objective
    """
    p = _check_extension(path)
    if not os.path.isfile(p):
        raise InputError(f"{p}: no such file")
    h = new_highs(False)
    if h.readModel(p) == highspy.HighsStatus.kError:
        raise InputError(f"{p}: HiGHS could not read the model")
    _configure(h, time_limit=time_limit, mip_rel_gap=mip_rel_gap, threads=threads,
               log_to_console=log_to_console, log_file=log_file, cutoff=cutoff)
    integrality = h.getLp().integrality_
    is_mip = any(int(t) != int(highspy.HighsVarType.kContinuous) for t in integrality)
    watch = _Watch(h, None, h.getLp().sense_ != highspy.ObjSense.kMaximize)
    return _solve_loaded(h, is_mip=is_mip, threads=threads, cutoff=cutoff, budget=Budget(time_limit),
                         watch=watch, mip_rel_gap=mip_rel_gap)


def solve_relaxation(model: Model, time_limit: float | None = None) -> float:
    """The optimum of ``model``'s LP relaxation (integrality dropped), or NaN when
    HiGHS does not solve it to optimality within ``time_limit`` seconds.

    The root LP bound of a formulation, before the solver's presolve reductions
    and cuts. Cost: one LP solve.

    >>> from placement_ilp.model import Model
    >>> m = Model(); x = m.add_variables("x", 2, binary=True)
    >>> _ = m.add_constraints("c", x.cols[None, :], [[1, 1]], ">=", 1.5)
    >>> m.set_objective(x.cols, [1, 1]); solve_relaxation(m)
    1.5
    """
    h = to_highs(model)
    _configure(h, time_limit=time_limit, mip_rel_gap=None, threads=None, log_to_console=False,
               log_file=None, cutoff=None)
    _set_option(h, "solve_relaxation", True)
    h.run()
    if h.getModelStatus() != _MS.kOptimal:
        return float("nan")
    return float(h.getInfo().objective_function_value)
