"""Baselines of the paper (docs/model.md, "Baselines in the paper"), one module per family.

Every baseline takes an :class:`~placement_ilp.data.instance.Instance` and returns a
:class:`~placement_ilp.data.placement.Placement`; every one is meant to be scored by
:func:`placement_ilp.evaluation.maxload.evaluate`. They all place colour groups
(:func:`placement_ilp.data.preprocess.contract`), so colour classes stay together and
backward nodes of training graphs follow their group, and they respect support and
memory whenever a feasible placement exists (InputError when provably none does).

- :func:`pipedream` / :func:`pipedream_with_value` (``pipedream.py``): linearise the
  groups in a topological order, then an exact chain DP over segments; pipeline-
  contiguous; the DP's value equals the evaluator's max-load.
- :func:`local_search` (``local_search.py``): moves and swaps of groups from random
  starts, non-contiguous or pipeline-contiguous.
- :func:`partition` (``partition.py``): recursive Kernighan-Lin bisection of the
  contracted graph, time-balanced, repaired for memory and support.
- :func:`one_accelerator`, :func:`all_on_first_cpu`, :func:`expert` (``simple.py``).
- For the latency objective (``latency.py``, scored by
  :func:`placement_ilp.evaluation.latency.evaluate_latency`): :func:`greedy_latency`
  (the paper's greedy), :func:`interval_latency` and :func:`all_on_cpu_cores`.

``BASELINES`` (max-load) and ``LATENCY_BASELINES`` map the names used by tools and tables to callables
``f(instance, **options) -> Placement``::

    >>> from placement_ilp.baselines import BASELINES
    >>> placement = BASELINES["local-search"](inst, restarts=3, seed=1)
    >>> placement = BASELINES["expert"](inst, path="experts/bert24_inference_expert.json")

Note: the submodules ``pipedream`` and ``local_search`` share their names with the
functions exported here; reach the modules with ``importlib.import_module``.
"""

from __future__ import annotations

from typing import Callable

from ..data.placement import Placement
from .latency import all_on_cpu_cores, all_on_cpus, greedy_blocks, greedy_latency, interval_latency
from .local_search import local_search
from .partition import partition
from .pipedream import linear_order, pipedream, pipedream_with_value
from .simple import all_on_cpu, all_on_first_cpu, expert, feasible_assignment, group_loads, group_view, one_accelerator

BASELINES: dict[str, Callable[..., Placement]] = {
    "pipedream": pipedream,
    "local-search": local_search,
    "partition": partition,
    "one-accelerator": one_accelerator,
    "expert": expert,
}

#: The latency heuristics that are methods of their own (``--objective latency --method``).
LATENCY_BASELINES: dict[str, Callable[..., Placement]] = {
    "greedy": greedy_latency,
    "all-cpu": all_on_cpu_cores,
}

__all__ = [
    "BASELINES",
    "LATENCY_BASELINES",
    "all_on_cpu",
    "all_on_cpu_cores",
    "all_on_cpus",
    "all_on_first_cpu",
    "expert",
    "feasible_assignment",
    "group_loads",
    "greedy_blocks",
    "greedy_latency",
    "group_view",
    "interval_latency",
    "linear_order",
    "local_search",
    "one_accelerator",
    "partition",
    "pipedream",
    "pipedream_with_value",
]
