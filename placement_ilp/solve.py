"""Solving: instance -> builder -> model -> backend -> decode -> evaluate.

``solve(instance, ...)`` is the one-call API. ``build(instance, ...)`` returns a
:class:`Problem` whose ``model`` can be changed (a constraint added, a bound
moved) before ``Problem.solve`` runs it, for formulation experiments.

The reported objective is always the evaluator's max-load of the decoded
placement; the solver's own value is kept as ``solver_objective`` and must agree.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import chain_dp, dp
from .backends import solve_model, write_model
from .checks import check_int, check_number
from .errors import FormulationError, InputError
from .evaluate import Evaluation, evaluate
from .feasibility import explain_infeasible
from .instance import Instance, check_instance
from .methods import method_names
from .placement import Placement
from .result import OPTIMAL_GAP, Status, relative_gap
from .stopping import Budget, can_bound, check_time_limit, run_bounded

#: The contiguity level each formulation contiguity option guarantees.
_LEVEL_ORDER = {"pipeline": 2, "convex": 1, "none": 0}


@dataclass(frozen=True)
class Result:
    """What a method returns, whichever method it is.

    status: "optimal", "time_limit" (stopped with a placement), "infeasible",
        "no_solution" (stopped without one), "gap_limit" (stopped at the user's gap,
        looser than the default), "interrupted" (the user stopped it; the best
        placement so far, if any) or, for the heuristic baselines, "feasible" (a
        placement with no optimality claim).
    objective: the evaluator's value of ``placement`` (None without one).
    bound: the best proven lower bound; gap: (objective - bound) / objective.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float
    method: str
    formulation: str | None
    placement: Placement | None
    evaluation: Evaluation | None
    solver_objective: float | None = None
    message: str = ""
    stats: dict | None = None  # method-specific figures (the DP: dp_nodes, ideals, pairs, upper_bound)

    @property
    def has_placement(self) -> bool:
        return self.placement is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``placement`` maps device names to node ids."""
        return {
            "objective": self.objective,
            "status": self.status,
            "bound": self.bound,
            "gap": self.gap,
            "build_seconds": round(self.build_seconds, 6),
            "solve_seconds": round(self.solve_seconds, 6),
            "method": self.method,
            "formulation": self.formulation,
            "message": self.message,
            "placement": None
            if self.placement is None
            else {str(d): nodes for d, nodes in sorted(self.placement.by_device().items())},
        }


class Problem:
    """A formulation built for one instance; ``model`` may be changed before solving.

    Example::

        p = build(instance, "maxload", contiguity="convex")
        p.model.add_rows(...)          # an extra cut
        result = p.solve(time_limit=60)
    """

    def __init__(self, instance: Instance, formulation: Any = "maxload", **options: Any) -> None:
        from formulations import get_builder

        self.instance = check_instance(instance)
        cls = get_builder(formulation)
        start = time.perf_counter()
        self.builder = cls(instance, **options)
        self.model = self.builder.build()
        self.build_seconds = time.perf_counter() - start
        self._built_shape = (self.model.num_rows, self.model.num_cols)
        self.formulation = getattr(cls, "name", str(formulation))
        self.options = dict(getattr(self.builder, "options", options))

    def _evaluate(self, placement: Placement) -> Evaluation:
        return evaluate(
            self.instance,
            placement,
            objective=self.options.get("objective", "sum"),
            overlap=self.options.get("overlap", False),
            cpu_contiguity=self.options.get("cpu_contiguity", True),
        )

    def solve(
        self,
        *,
        time_limit: float | None = None,
        gap: float = OPTIMAL_GAP,
        threads: int | None = None,
        backend: str = "highs",
        warm_start: Placement | None = None,
        log: bool = False,
        log_file: str | None = None,
        progress: Any = None,
        budget: Budget | None = None,
    ) -> Result:
        """Solve the model, decode and evaluate. ``gap`` is the relative gap at which
        the solver may stop (the default: proven optimal; a looser one ends with
        status "gap_limit"); ``warm_start`` a placement to start from (ignored when
        the formulation cannot hold it); ``progress`` a callable given live
        :class:`~placement_ilp.backends.highs.Progress` reports (HiGHS backend only);
        ``budget`` the run's clock (see :mod:`placement_ilp.stopping`). Stopped by the
        time limit or the user before the solver found a placement, it reports the
        warm start's. Threads beyond the machine's cores are capped (said in
        ``message``)."""
        time_limit = check_time_limit(time_limit)
        gap = check_gap(gap)
        threads, note = cap_threads(threads)
        budget = Budget(time_limit) if budget is None else budget
        options = backend_options(backend, budget, time_limit=time_limit, gap=gap, threads=threads, log=log,
                                  log_file=log_file, progress=progress)
        highs = str(backend).lower() == "highs"
        if warm_start is not None:
            start = self.builder.encode(warm_start)
            if start is not None:
                options["mip_start"] = start
        highs_options = getattr(self.builder, "highs_options", None)
        if highs_options and highs:
            options["highs_options"] = dict(highs_options)
        raw = solve_model(self.model, backend, **options)
        status = str(raw.status.value if isinstance(raw.status, Status) else raw.status)
        placement = evaluation = None
        objective = None
        if raw.has_solution:
            placement = self.builder.decode(raw.values)
            evaluation = self._evaluate(placement)
            objective = evaluation.objective_value
            self._check(raw, evaluation)
        elif warm_start is not None and (raw.status == Status.INTERRUPTED or budget.should_stop()):
            # stopped before the solver took up the start: the start is the best so far
            evaluation = self._evaluate(warm_start)
            if evaluation.feasible:
                placement, objective = warm_start, evaluation.objective_value
                status = budget.stop_status()
            else:
                evaluation = None
        gap_value = relative_gap(objective, raw.bound)
        return Result(
            status=status,
            objective=objective,
            bound=raw.bound,
            gap=gap_value,
            build_seconds=self.build_seconds,
            solve_seconds=raw.solve_seconds,
            method="milp",
            formulation=self.formulation,
            placement=placement,
            evaluation=evaluation,
            solver_objective=raw.objective,
            message="; ".join(m for m in (raw.message, note) if m),
        )

    def _check(self, raw, evaluation: Evaluation) -> None:
        if not evaluation.feasible:
            raise FormulationError(f"{self.formulation}: decoded placement breaks {evaluation.violations[0].message}")
        wanted = self.options.get("contiguity")
        if wanted in _LEVEL_ORDER and _LEVEL_ORDER[evaluation.contiguity.level] < _LEVEL_ORDER[wanted]:
            raise FormulationError(
                f"{self.formulation}: decoded placement is {evaluation.contiguity.level}, not {wanted}: "
                f"{evaluation.contiguity.witness}"
            )
        value, solver = evaluation.objective_value, raw.objective
        if solver is not None and value > solver + 1e-6 * max(1.0, abs(solver)):
            raise FormulationError(
                f"{self.formulation}: the evaluator's max-load {value!r} exceeds the solver's objective {solver!r}"
            )
        # A model the user changed may prove a larger value than the placement's max-load;
        # the model as built must not.
        unchanged = (self.model.num_rows, self.model.num_cols) == self._built_shape
        if (
            unchanged
            and raw.status == Status.OPTIMAL
            and solver is not None
            and value < solver - 1e-6 * max(1.0, abs(solver))
        ):
            raise FormulationError(
                f"{self.formulation}: the evaluator's max-load {value!r} is below the solver's optimum {solver!r}"
            )


def backend_options(backend: str, budget: Budget, *, time_limit: float | None, gap: float, threads: int | None,
                    log: bool = False, log_file: str | None = None, progress: Any = None) -> dict[str, Any]:
    """The options of :func:`~placement_ilp.backends.solve_model` for one solve: HiGHS
    gets the run's ``budget`` (it stops at its deadline and on an interrupt), another
    backend the time the budget has left. O(1).

    Example: ``solve_model(model, "highs", **backend_options("highs", Budget(60), time_limit=60, gap=1e-6,
    threads=1))``.
    """
    options: dict[str, Any] = {"time_limit": time_limit, "mip_rel_gap": gap, "threads": threads}
    if str(backend).lower() == "highs":
        options["budget"] = budget
    elif budget.remaining() is not None:
        options["time_limit"] = budget.remaining()
    if log:
        options["log_to_console"] = True
    if log_file is not None:
        options["log_file"] = log_file
    if progress is not None:
        options["progress"] = progress
    return options


def check_gap(value: Any, argument: str = "gap") -> float:
    """``value`` as a relative gap: a finite number >= 0; InputError naming
    ``argument`` otherwise. O(1). Example: ``check_gap(0.01) == 0.01``."""
    return check_number(value, argument, minimum=0.0, maximum=None)


def cap_threads(threads: Any, argument: str = "threads") -> tuple[int | None, str]:
    """``threads`` capped at the machine's cores, and a note when it was capped
    (more threads than cores only slow HiGHS down). None stays None (the solver's
    choice); anything but a whole number >= 1 is an InputError naming ``argument``.
    O(1). Example: ``cap_threads(100000)`` gives ``(os.cpu_count(), "threads ...")``.
    """
    if threads is None:
        return None, ""
    if isinstance(threads, float):  # 2.0 is fine in a JSON file, not as an argument
        raise InputError(f"{argument} must be a whole number >= 1, got {threads!r}")
    threads = check_int(threads, argument, minimum=1)
    cores = os.cpu_count() or 1
    if threads > cores:
        return cores, f"{argument} {threads} capped at {cores}, the machine's cores"
    return threads, ""


@dataclass(frozen=True)
class Start:
    """A placement to start the MILP from: its evaluator value and where it came from."""

    placement: Placement
    value: float
    source: str  # "dp", a baseline's name, or "given"
    contiguity: str  # the strictest contiguity level the placement meets
    evaluation: Evaluation | None = None


#: The DP's memory budget when it only provides an automatic warm start: it keeps
#: the start to seconds (about 64,000 ideals at most) before PipeDream takes over.
AUTO_START_DP_BUDGET = 2**29

WARM_START_METHODS = method_names("maxload", starts_milp=True)


def find_start(
    instance: Instance,
    spec: Any = "auto",
    *,
    objective: str = "sum",
    overlap: bool = False,
    cpu_contiguity: bool = True,
    budget: Budget | None = None,
) -> Start | None:
    """A feasible placement to warm-start the MILP, scored by the evaluator.

    ``spec``: "auto" (the DP's optimal pipeline placement when the DP applies and
    fits ``AUTO_START_DP_BUDGET``, else PipeDream's, else the partition
    baseline's), a method name from
    ``WARM_START_METHODS``, a :class:`Placement` ("given"), or None (no start).
    The DP's placement is pipeline-contiguous, so it is feasible at every level and
    its value is an upper bound for all three. Returns None when the method finds
    no feasible placement. With a time-limited ``budget``, "auto" runs in a child
    process given half of the time left (:func:`~placement_ilp.stopping.run_bounded`:
    the MILP gets the rest, and None comes back when the child runs out of time);
    another method's DP gets half of the time left, and no fallback starts once the
    time is up.
    Cost: that of the method (the DP: seconds on the paper's workloads).

    Example: ``find_start(inst).value >= solve(inst).objective``.
    """
    if spec is None or spec == "none":
        return None
    budget = Budget() if budget is None else budget
    left = budget.remaining()
    options = dict(objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    if spec == "auto" and left is not None and can_bound():
        # the heuristics behind the DP cannot watch the clock: half of the time left, in a child
        done, start = run_bounded(lambda: _find_start(instance, spec, budget=Budget(left / 2), **options),
                                  left / 2, budget)
        return start if done else None
    return _find_start(instance, spec, budget=budget, **options)


def _find_start(instance: Instance, spec: Any, *, objective: str, overlap: bool, cpu_contiguity: bool,
                budget: Budget) -> Start | None:
    """find_start's work, in this process."""
    left = budget.remaining()
    if isinstance(spec, Placement):
        placement, source = spec, "given"
    else:
        if spec != "auto" and spec not in WARM_START_METHODS:
            raise InputError(f"unknown warm start {spec!r} (auto, none, a placement file or one of "
                             f"{', '.join(WARM_START_METHODS)})")
        placement, source = None, spec
        if spec in ("auto", "dp"):
            try:
                memory = AUTO_START_DP_BUDGET if spec == "auto" else None
                placement = solve_dp_method(instance, overlap=overlap, memory_budget=memory,
                                            time_limit=None if left is None else left / 2).placement
                source = "dp"
            except InputError:
                if spec == "dp":
                    raise
        # "auto" falls back on PipeDream, then on the partition baseline (which, unlike
        # the DP and PipeDream, also runs when pairwise links make costs partner-dependent)
        fallbacks = {"auto": ("pipedream", "partition"), "dp": ()}.get(spec, (spec,))
        for method in fallbacks:
            if placement is not None or budget.should_stop():
                break
            source = method
            try:
                placement = run_baseline(instance, method, objective=objective, overlap=overlap,
                                         cpu_contiguity=cpu_contiguity).placement
            except InputError:
                if spec != "auto":
                    raise
        if placement is None:
            return None
    found = evaluate(instance, placement, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    if not found.feasible:
        if source == "given":
            raise InputError(f"the warm start is infeasible: {found.violations[0].message}")
        return None
    return Start(placement, found.objective_value, source, found.contiguity.level, found)


def build(instance: Instance, formulation: Any = "maxload", **options: Any) -> Problem:
    """Build a formulation for ``instance`` and return the :class:`Problem`.

    ``formulation`` is a registered name or a Builder subclass; ``options`` go to
    the builder (for "maxload": contiguity, cpu_contiguity, objective, overlap).
    Example: ``build(inst, contiguity="none").model.num_rows``.
    """
    return Problem(instance, formulation, **options)


METHODS = method_names("maxload")


def solve(
    instance: Instance,
    *,
    method: str = "milp",
    formulation: Any = "maxload-strong",
    contiguous: bool | None = None,
    contiguity: str = "pipeline",
    cpu_contiguity: bool = True,
    objective: str = "sum",
    overlap: bool = False,
    time_limit: float | None = None,
    gap: float = OPTIMAL_GAP,
    threads: int | None = None,
    backend: str = "highs",
    warm_start: Any = "auto",
    log: bool = False,
    log_file: str | None = None,
    memory_budget: int | None = None,
    baseline_options: dict | None = None,
    progress: Any = None,
    export: str | os.PathLike | None = None,
    budget: Budget | None = None,
) -> Result:
    """Minimise the max-load of ``instance`` and return a :class:`Result`.

    ``method``: "milp" (a formulation solved by HiGHS, or by CBC with
    ``backend="cbc"``), "dp" (the exact ideal DP; pipeline contiguity only), or a
    baseline of the paper ("pipedream", "local-search", "partition",
    "one-accelerator", "expert" with ``baseline_options={"path": FILE}``).
    ``contiguous=True`` is short for ``contiguity="pipeline"``, ``False`` for
    ``"none"``. ``time_limit`` covers the whole run (warm start, DP, build, MILP).
    Ctrl-C (KeyboardInterrupt) stops the run and returns status "interrupted" with
    the best placement so far. ``progress``: a callable given live MILP reports;
    ``export``: also write the MILP as a .lp/.mps file; ``budget``: the run's clock
    when the caller keeps one (:class:`~placement_ilp.stopping.Budget`). Every
    placement is scored by the evaluator; an empty graph has max-load 0. Devices
    beyond one per colocation group are left out (:func:`trim_idle_devices`; exact).
    Cost: building is O(size of the model); solving is NP-hard in general.

    Example: ``solve(load_instance("instances/default.json"), time_limit=60).objective``.
    """
    check_instance(instance)
    time_limit = check_time_limit(time_limit)
    gap = check_gap(gap)
    budget = Budget(time_limit) if budget is None else budget
    if contiguous is not None:
        contiguity = "pipeline" if contiguous else "none"
    if method not in METHODS:
        raise InputError(f"unknown method {method!r} (one of {', '.join(METHODS)})")
    if len(instance.graph) == 0:
        return _empty_graph_result(instance, method, objective, overlap, cpu_contiguity)
    instance = trim_idle_devices(instance, warm_start if isinstance(warm_start, Placement) else None)
    if method == "dp":
        run = lambda: solve_dp_method(  # noqa: E731
            instance, contiguity=contiguity, cpu_contiguity=cpu_contiguity, objective=objective,
            overlap=overlap, memory_budget=memory_budget, time_limit=budget.remaining())
    elif method != "milp":
        run = lambda: run_baseline(instance, method, objective=objective, overlap=overlap,  # noqa: E731
                                   cpu_contiguity=cpu_contiguity, **(baseline_options or {}))
    else:
        run = lambda: _solve_milp(  # noqa: E731
            instance, formulation, budget, warm_start=warm_start, contiguity=contiguity,
            cpu_contiguity=cpu_contiguity, objective=objective, overlap=overlap, export=export,
            time_limit=time_limit, gap=gap, threads=threads, backend=backend, log=log, log_file=log_file,
            progress=progress)
    try:
        result = run()
    except KeyboardInterrupt:
        if not budget.first_interrupt():  # a second interrupt: the user wants out
            raise
        return _stopped_result("interrupted", method, None, None, budget)
    if result.status == "infeasible":
        result = with_reason(result, instance, contiguity, cpu_contiguity)
    return result


def with_reason(result: Any, instance: Instance, contiguity: str = "none", cpu_contiguity: bool = True) -> Any:
    """An infeasible ``result`` (any dataclass with ``message``) with the first node or
    memory limit that makes the instance infeasible, when
    :func:`~placement_ilp.feasibility.explain_infeasible` finds one. O(n * classes + m)."""
    reason = explain_infeasible(instance, contiguity=contiguity if contiguity in _LEVEL_ORDER else "none",
                                cpu_contiguity=cpu_contiguity)
    if reason is None:
        return result
    return replace(result, message="; ".join(m for m in (reason, result.message) if m))


def _solve_milp(instance: Instance, formulation: Any, budget: Budget, *, warm_start: Any, export: Any,
                **options: Any) -> Result:
    """solve()'s MILP path: the warm start, the build, the export, the solve; an
    interrupt keeps the warm start when the solver has nothing better."""
    level = {k: options.pop(k) for k in ("contiguity", "cpu_contiguity", "objective", "overlap")}
    start = None
    try:
        problem, start = prepare(instance, formulation, warm_start=warm_start, budget=budget, **level)
        if export is not None:
            write_model(problem.model, export)
        if budget.should_stop():
            result = _stopped_result(budget.stop_status(), "milp", problem.formulation, start, budget,
                                     problem.build_seconds)
        else:
            result = problem.solve(warm_start=None if start is None else start.placement, budget=budget,
                                   **options)
    except KeyboardInterrupt:
        if not budget.first_interrupt():
            raise
        result = _stopped_result("interrupted", "milp", None, start, budget)
    return with_start(result, start)


def trim_idle_devices(instance: Instance, keep: Placement | None = None) -> Instance:
    """``instance`` with at most as many devices per class as it has colocation groups.

    With G groups at most G devices are busy, and the devices of a class are
    interchangeable, so the rest are idle in some optimal placement: dropping them
    changes no optimum, and a placement of the trimmed instance is one of the
    original (device indices stay). Devices named by device-pair links, and those
    ``keep`` uses, are kept. It turns 4,000 accelerators for 24 nodes into 24.
    O(groups + devices named); returns ``instance`` itself when nothing is dropped.

    Example: ``trim_idle_devices(inst).topology.num_devices <= inst.topology.num_devices``.
    """
    groups = len(instance.graph.colour_groups())
    needed: dict[str, int] = {}
    used = [] if keep is None else list(keep.assignment.values())
    for d in (*instance.topology.named_devices, *used):
        needed[d.cls] = max(needed.get(d.cls, 0), d.index + 1)
    classes = tuple(replace(c, count=max(min(c.count, groups), needed.get(c.name, 0)))
                    for c in instance.topology.classes)
    if all(a.count == b.count for a, b in zip(classes, instance.topology.classes)):
        return instance
    return Instance(instance.graph, replace(instance.topology, classes=classes), instance.name)


def _stopped_result(status: str, method: str, formulation: str | None, start: Start | None, budget: Budget,
                    build_seconds: float = 0.0) -> Result:
    """The result of a run stopped (``status`` "interrupted" or "time_limit") before
    the solver had anything: the warm start's placement when there is one."""
    if start is None:
        return Result("interrupted" if status == "interrupted" else "no_solution", None, None, None, build_seconds,
                      budget.elapsed() - build_seconds, method, formulation, None, None, None,
                      "interrupted by the user" if status == "interrupted" else "stopped by the time limit")
    return Result(status, start.value, None, None, build_seconds, budget.elapsed() - build_seconds, method,
                  formulation, start.placement, start.evaluation, None,
                  f"stopped before the solver ran; the {start.source} start is the best placement found")


def _empty_graph_result(instance: Instance, method: str, objective: str, overlap: bool,
                        cpu_contiguity: bool) -> Result:
    """An instance without nodes: the empty placement, max-load 0, proven."""
    placement = Placement({})
    evaluation = evaluate(instance, placement, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    return Result("optimal", 0.0, 0.0, 0.0, 0.0, 0.0, method, None, placement, evaluation, 0.0,
                  "the graph has no nodes: every device is idle")


def prepare(
    instance: Instance,
    formulation: Any = "maxload-strong",
    *,
    warm_start: Any = "auto",
    contiguity: str = "pipeline",
    cpu_contiguity: bool = True,
    objective: str = "sum",
    overlap: bool = False,
    budget: Budget | None = None,
) -> tuple[Problem, Start | None]:
    """Find the warm start (see :func:`find_start`) and build the formulation.

    For a max-load formulation the options go to the builder; the strong one also
    gets the start's value as its ``upper_bound`` when the start meets the
    requested contiguity level (a file's placement may not). Other formulations
    get no options, and a start only when ``warm_start`` is a Placement.
    Example: ``problem, start = prepare(inst); problem.solve(warm_start=start.placement)``.
    """
    from formulations import MaxLoad, StrongMaxLoad, get_builder

    cls = get_builder(formulation)
    options: dict[str, Any] = {}
    start = None
    if issubclass(cls, MaxLoad):
        options = dict(contiguity=contiguity, cpu_contiguity=cpu_contiguity, objective=objective, overlap=overlap)
        start = find_start(instance, warm_start, objective=objective, overlap=overlap,
                           cpu_contiguity=cpu_contiguity, budget=budget)
        if (issubclass(cls, StrongMaxLoad) and start is not None
                and _LEVEL_ORDER[start.contiguity] >= _LEVEL_ORDER.get(contiguity, 0)):
            options["upper_bound"] = start.value
    elif isinstance(warm_start, Placement):
        start = Start(warm_start, float("nan"), "given", "unknown")
    return Problem(instance, cls, **options), start


def with_start(result: Result, start: Start | None) -> Result:
    """``result`` with the warm start's source and value in ``stats``."""
    if start is None:
        return result
    stats = dict(result.stats or {}, warm_start=start.source, start_value=start.value)
    return replace(result, stats=stats)


def solve_dp_method(
    instance: Instance,
    *,
    contiguity: str = "pipeline",
    cpu_contiguity: bool = True,
    objective: str = "sum",
    overlap: bool = False,
    memory_budget: int | None = None,
    time_limit: float | None = None,
) -> Result:
    """The ideal DP as a method: same Result as the MILP (bound = optimum, gap 0).
    Raises DPNotApplicable (an InputError) for variants it does not solve and
    DPTooLarge when the ideals exceed the memory budget. Past ``time_limit``
    seconds (None: no limit) it returns status "no_solution" and says so in
    ``message``."""
    dp.check_applicable(instance, contiguity, cpu_contiguity, objective)
    if instance.links_change_costs:  # pairwise links: the chain DP, on chains only
        chain_dp.check_links(instance)
    start = time.perf_counter()
    graph = dp.build_dp_graph(instance)
    budget = dp.DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    ideals = dp.enumerate_ideals(graph, dp.max_ideals_for(graph, budget))
    build_seconds = time.perf_counter() - start
    try:
        if time_limit is not None and build_seconds > time_limit:
            raise dp.DPTimeLimit(f"the DP's preparation took longer than its time limit of {time_limit:g} s")
        if instance.links_change_costs:
            found = chain_dp.solve_chain(graph, ideals, overlap)
        else:
            found = dp.solve_dp(graph, ideals, overlap=overlap,
                                time_limit=None if time_limit is None else time_limit - build_seconds)
    except dp.DPTimeLimit as exc:
        return Result("no_solution", None, None, None, build_seconds, time.perf_counter() - start - build_seconds,
                      "dp", None, None, None, None, str(exc), {"dp_nodes": graph.num_nodes, "ideals": ideals.size})
    stats = {"dp_nodes": graph.num_nodes, "ideals": ideals.size, "pairs": found.pairs,
             "upper_bound": found.upper_bound}
    details = f"{ideals.size} ideals, {found.pairs} pairs examined, upper bound {found.upper_bound:.6g}"
    if not np.isfinite(found.value):
        return Result("infeasible", None, None, None, build_seconds, found.seconds, "dp", None, None, None,
                      None, details, stats)
    placement = dp.decode(graph, ideals, found)
    evaluation = evaluate(instance, placement, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    value = evaluation.objective_value
    if (not evaluation.feasible or evaluation.contiguity.level != "pipeline"
            or abs(value - found.value) > 1e-6 * max(1.0, abs(found.value))):
        raise FormulationError(
            f"dp: the evaluator disagrees with the DP (evaluator {value!r}, DP {found.value!r}, "
            f"feasible {evaluation.feasible}, contiguity {evaluation.contiguity.level})"
        )
    return Result("optimal", value, found.value, relative_gap(value, found.value), build_seconds, found.seconds,
                  "dp", None, placement, evaluation, found.value, details, stats)


def run_baseline(
    instance: Instance,
    method: str,
    *,
    objective: str = "sum",
    overlap: bool = False,
    cpu_contiguity: bool = True,
    **options: Any,
) -> Result:
    """Run a baseline of the paper and score its placement (status "feasible", or
    "infeasible" when it finds no feasible placement)."""
    from .baselines import BASELINES

    if method == "expert" and "path" not in options:
        raise InputError("the expert method needs a split file (--split FILE)")
    start = time.perf_counter()
    try:
        placement = BASELINES[method](instance, **options)
    except InputError as exc:
        # everything does not fit on one accelerator, or the instance has no placement at
        # all: a result, not an input error
        if method != "one-accelerator" and explain_infeasible(instance) is None:
            raise
        return Result("infeasible", None, None, None, 0.0, time.perf_counter() - start, method, None, None, None,
                      None, str(exc))
    seconds = time.perf_counter() - start
    evaluation = evaluate(instance, placement, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    status = "feasible" if evaluation.feasible else "infeasible"
    value = evaluation.objective_value if evaluation.feasible else None
    return Result(status, value, None, None, 0.0, seconds, method, None, placement if evaluation.feasible else None,
                  evaluation, None, "" if evaluation.feasible else evaluation.violations[0].message)
