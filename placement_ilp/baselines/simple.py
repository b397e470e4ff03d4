"""The simplest baselines, and the group-level machinery every baseline shares.

Baselines of the paper (docs/model.md, "Baselines in the paper") that need no search:

- :func:`one_accelerator`: everything an accelerator supports on the first
  accelerator, the rest on the first CPU;
- :func:`all_on_first_cpu`: everything on the first CPU;
- :func:`expert`: a human expert's split read from a file.

All baselines place colour *groups* (:func:`placement_ilp.data.preprocess.contract`): a
colour class, or a node without one, so colour classes never split and backward
nodes follow the forward nodes of their class. The helpers here give a
:class:`GroupView` of an instance (devices, capacities, per-group times), the loads of
a group assignment computed with the evaluator's rule (vectorised), and
:func:`feasible_assignment`, which finds an assignment that respects support and
memory whenever one exists (exact search on the groups that only bounded-memory
devices support, after a first-fit-decreasing attempt).
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..evaluation.maxload import MEMORY_TOLERANCE
from ..data.instance import Instance
from ..io import load_placement
from ..data.placement import Placement
from ..data.preprocess import Contracted, contract
from ..data.topology import Device

#: The most memory (bytes) a baseline may allocate for its tables: 2 GiB. A baseline
#: whose tables would be larger refuses with an InputError before allocating them.
MEMORY_BUDGET = 2 * 2**30


def refuse_large_tables(what: str, nbytes: int, tables: str) -> None:
    """InputError when ``nbytes`` (the size of the tables ``what`` would allocate,
    described by ``tables``) exceeds :data:`MEMORY_BUDGET`. O(1).

    Example: ``refuse_large_tables("pipedream", 8 * P * P, f"{P} x {P} segment loads")``.
    """
    if nbytes > MEMORY_BUDGET:
        raise InputError(
            f"{what}: its tables ({tables}) would take {nbytes / 2**30:,.1f} GiB, more than the "
            f"{MEMORY_BUDGET / 2**30:g} GiB the baselines may use (MEMORY_BUDGET)"
        )


# ---------------------------------------------------------------------------
# Group view shared by the baselines
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupView:
    """An instance seen as colour groups placed on concrete devices.

    ``G`` groups, ``C`` device classes, ``D`` devices (topology order).

    cg: the contraction (:func:`placement_ilp.data.preprocess.contract`).
    devices[d]: the d-th device; dev_class[d]: its class position.
    capacity[d]: its memory (``inf`` when unlimited).
    is_cpu[d]: its class is of kind "cpu".
    time[g, c]: total (forward + backward) time of group g on class c, ``inf`` when
        some member is unsupported there.
    memory[g]: summed memory of the group.
    """

    cg: Contracted
    devices: list[Device]
    dev_class: np.ndarray
    capacity: np.ndarray
    is_cpu: np.ndarray
    time: np.ndarray
    memory: np.ndarray

    @property
    def num_groups(self) -> int:
        return self.cg.num_groups

    @property
    def num_devices(self) -> int:
        return len(self.devices)

    def group_time_on_devices(self) -> np.ndarray:
        """``(G, D)`` time of each group on each device (``inf`` where unsupported)."""
        return self.time[:, self.dev_class]

    def placement(self, dev: np.ndarray | list[int]) -> Placement:
        """The placement of the original nodes for group assignment ``dev[g]`` (device positions)."""
        return self.cg.placement([self.devices[int(d)] for d in dev])


def group_view(instance: Instance) -> GroupView:
    """Contract ``instance`` and index its devices. O(n * C + m log m).
    InputError when the baselines' (groups x devices) tables would exceed
    :data:`MEMORY_BUDGET`.

    Example: ``group_view(inst).devices[0] == Device("acc", 0)`` on the paper's topology.
    """
    topo = instance.topology
    groups, num_devices = instance.arrays.num_groups, topo.num_devices
    # the (G, D) time, support and candidate tables of the baselines, 8 + 1 + 1 bytes a cell, some twice
    refuse_large_tables("baseline", 16 * groups * num_devices, f"{groups} colour groups x {num_devices} devices")
    cg = contract(instance)
    devices = topo.devices()
    class_index = {c.name: i for i, c in enumerate(topo.classes)}
    dev_class = np.array([class_index[d.cls] for d in devices], dtype=np.int64)
    capacity = np.array(
        [math.inf if topo.class_of(d.cls).memory is None else topo.class_of(d.cls).memory for d in devices],
        dtype=float,
    )
    is_cpu = np.array([topo.class_of(d.cls).kind == "cpu" for d in devices], dtype=bool)
    return GroupView(cg, devices, dev_class, capacity, is_cpu, cg.time, cg.memory)


def fits(used: float, extra: float, capacity: float) -> bool:
    """Whether ``used + extra`` memory fits ``capacity`` (``inf``: unlimited), with the
    evaluator's relative tolerance. O(1). Example: ``fits(3.0, 1.0, 4.0) is True``."""
    return capacity == math.inf or used + extra <= capacity * (1 + MEMORY_TOLERANCE)


def group_loads(view: GroupView, dev: np.ndarray) -> np.ndarray:
    """Load of every device (forward + backward, compute + communication) when group g
    sits on device ``dev[g]``, by the evaluator's rule (for assignments that respect
    support; a group on a class that does not support it counts ``inf``).
    Vectorised, O(G + items log items).

    Example: ``group_loads(view, np.zeros(view.num_groups, int)).max()`` is the max-load
    of everything on the first device.

    InputError when links make costs depend on the partner device (it charges each
    device its own class's rate; :func:`placement_ilp.evaluation.maxload.evaluate` honours links).
    """
    cg = view.cg
    cg.instance.refuse_links("group_loads")
    dev = np.asarray(dev, dtype=np.int64)
    D = view.num_devices
    loads = np.zeros(D)
    if view.num_groups:
        np.add.at(loads, dev, view.time[np.arange(view.num_groups), view.dev_class[dev]])
    if len(cg.succ_item):
        own = dev[cg.comm_group]  # device of each communication item
        pair_dev = dev[cg.succ_group]
        cross = pair_dev != own[cg.succ_item]
        if cross.any():
            key = np.unique(cg.succ_item[cross] * D + pair_dev[cross])
            item, recv = key // D, key % D
            np.add.at(loads, recv, cg.comm_cost[item, view.dev_class[recv]])
            senders = np.unique(item)
            np.add.at(loads, own[senders], cg.comm_cost[senders, view.dev_class[own[senders]]])
    return loads


def assignment_is_feasible(view: GroupView, dev: np.ndarray) -> bool:
    """Whether support and memory hold for group assignment ``dev`` (device positions).
    O(G + D). Example: ``assignment_is_feasible(view, feasible_assignment(view)[0])``."""
    dev = np.asarray(dev, dtype=np.int64)
    if view.num_groups == 0:
        return True
    if not np.isfinite(view.time[np.arange(view.num_groups), view.dev_class[dev]]).all():
        return False
    used = np.zeros(view.num_devices)
    np.add.at(used, dev, view.memory)
    return all(fits(0.0, used[d], view.capacity[d]) for d in range(view.num_devices))


def feasible_assignment(
    view: GroupView, *, seed: int | None = None, node_limit: int = 200_000
) -> tuple[np.ndarray, str]:
    """A group assignment that respects support and memory, if one exists.

    Groups that some supporting device with unlimited memory can take go to the
    least-loaded such device (greedy by time, largest first). The others only fit
    bounded devices: first-fit decreasing by memory, then, if that fails, an exact
    depth-first search (largest group first; empty devices of one class tried once)
    limited to ``node_limit`` nodes. ``seed`` shuffles ties (None: deterministic).

    Returns ``(dev, status)``: status "feasible"; "infeasible" when no assignment
    exists (proved: a group no device supports, or the search finished); "unknown"
    when the search hit its limit (``dev`` is then a best effort that breaks memory).
    Complexity: O(G log G + G * D) plus the search (exponential in the worst case,
    bounded by ``node_limit``).

    Example: ``dev, status = feasible_assignment(group_view(inst))``.
    """
    G, D = view.num_groups, view.num_devices
    gt = view.group_time_on_devices() if G else np.zeros((0, D))
    ok = np.isfinite(gt)
    dev = np.zeros(G, dtype=np.int64)
    if G == 0:
        return dev, "feasible"
    if D == 0 or not ok.any(axis=1).all():
        return dev, "infeasible"
    rng = random.Random(seed) if seed is not None else None
    unlimited = np.isinf(view.capacity)
    free = ok & unlimited[None, :]
    easy = np.flatnonzero(free.any(axis=1))
    hard = np.flatnonzero(~free.any(axis=1))
    load = np.zeros(D)
    used = np.zeros(D)
    order = sorted(easy, key=lambda g: -float(np.min(gt[g][free[g]])))
    for g in order:
        cands = np.flatnonzero(free[g])
        after = load[cands] + gt[g, cands]
        best = after.min()
        choices = cands[after <= best]
        d = int(rng.choice(list(choices))) if rng is not None else int(choices[0])
        dev[g] = d
        load[d] += gt[g, d]
        used[d] += view.memory[g]

    hard_sorted = sorted(hard, key=lambda g: (-view.memory[g], rng.random() if rng else 0.0))
    # First fit decreasing.
    ffd_used = used.copy()
    ffd_ok = True
    ffd = {}
    for g in hard_sorted:
        for d in np.flatnonzero(ok[g]):
            if fits(ffd_used[d], view.memory[g], view.capacity[d]):
                ffd[g] = d
                ffd_used[d] += view.memory[g]
                break
        else:
            ffd_ok = False
            # best effort: the supporting device with the most room
            cands = np.flatnonzero(ok[g])
            d = int(cands[np.argmax(view.capacity[cands] - ffd_used[cands])])
            ffd[g] = d
            ffd_used[d] += view.memory[g]
    if ffd_ok:
        for g, d in ffd.items():
            dev[g] = d
        return dev, "feasible"

    # Exact search over the hard groups.
    found = _pack(view, hard_sorted, ok, used.copy(), node_limit)
    if found is None:
        for g, d in ffd.items():
            dev[g] = d
        return dev, "infeasible"
    if found == "limit":
        for g, d in ffd.items():
            dev[g] = d
        return dev, "unknown"
    for g, d in found.items():
        dev[g] = d
    return dev, "feasible"


def _pack(view: GroupView, groups: list[int], ok: np.ndarray, used: np.ndarray, node_limit: int):
    """Depth-first bin packing of ``groups`` onto supporting devices; a dict, None
    (proved impossible) or "limit". Iterative (an explicit stack), so thousands of
    groups do not exhaust Python's recursion limit."""
    cap = view.capacity
    mem = view.memory
    cls = view.dev_class
    assign: dict[int, int] = {}
    # Suffix sums of memory for a simple capacity bound.
    suffix = np.concatenate([np.cumsum(np.asarray([mem[g] for g in groups])[::-1])[::-1], [0.0]])

    def room() -> float:
        return float(sum(max(0.0, cap[d] * (1 + MEMORY_TOLERANCE) - used[d]) for d in range(len(cap))))

    def candidates(k: int) -> list[int]:
        """Devices to try for groups[k] (last first), one per distinct (class, memory
        used) state, as identical states root identical subtrees; none when the
        memory left cannot hold the remaining groups."""
        if suffix[k] > room() + 1e-12 * max(1.0, suffix[k]):
            return []
        g = groups[k]
        tried: set[tuple[int, float]] = set()
        out = []
        for d in np.flatnonzero(ok[g]):
            key = (int(cls[d]), float(used[d]))
            if fits(used[d], mem[g], cap[d]) and key not in tried:
                tried.add(key)
                out.append(int(d))
        return out[::-1]

    budget = node_limit
    stack: list[list[int]] = []  # stack[k]: the devices still to try for groups[k]
    while len(stack) < len(groups):
        budget -= 1
        if budget < 0:
            return "limit"
        stack.append(candidates(len(stack)))
        while True:  # place the deepest group on its next device, backtracking as needed
            g = groups[len(stack) - 1]
            if g in assign:
                used[assign.pop(g)] -= mem[g]
            if stack[-1]:
                d = stack[-1].pop()
                used[d] += mem[g]
                assign[g] = d
                break
            stack.pop()
            if not stack:
                return None
    return dict(assign)


def no_feasible_error(view: GroupView, what: str) -> InputError:
    """The InputError for an instance where no placement satisfies support and memory,
    naming a group no device supports if there is one. O(G * D).
    Example: ``raise no_feasible_error(view, "partition")``."""
    G, D = view.num_groups, view.num_devices
    ok = np.isfinite(view.group_time_on_devices())
    ids = view.cg.instance.arrays.ids
    for g in range(G):
        if not ok[g].any():
            node = ids[int(view.cg.members[g][0])]
            return InputError(
                f"{what}: no device can run the colour group of node {node!r} "
                f"(some member is supported on no class with devices)"
            )
    return InputError(f"{what}: no placement of the {G} colour groups on the {D} devices respects memory")


def fallback_assignment(view: GroupView, what: str, seed: int | None = None) -> np.ndarray:
    """:func:`feasible_assignment`'s assignment, raising InputError (``what`` names the
    caller) when none is feasible. Same complexity.
    Example: ``dev = fallback_assignment(view, "pipedream")``."""
    dev, status = feasible_assignment(view, seed=seed)
    if status == "infeasible":
        raise no_feasible_error(view, what)
    return dev


# ---------------------------------------------------------------------------
# The simple baselines
# ---------------------------------------------------------------------------


def _first_class(instance: Instance, cpu: bool) -> str | None:
    for c in instance.topology.classes:
        if (c.kind == "cpu") == cpu and c.count > 0:
            return c.name
    return None


def one_accelerator(instance: Instance) -> Placement:
    """Everything on one accelerator: the paper's "single accelerator" baseline.

    Every colour group that the first accelerator class supports goes to its device
    0 (``acc:0`` on the paper's topology); the other groups go to the first CPU
    (``cpu:0``). Backward nodes follow their colour group.

    Raises InputError when the accelerator's memory cannot hold its groups, when some
    group needs a CPU and there is none that supports it, or when the topology has no
    accelerator. Complexity O(n * C + m log m).

    Example::

        >>> p = one_accelerator(inst)
        >>> set(p.assignment.values()) <= {Device("acc", 0), Device("cpu", 0)}
        True
    """
    view = group_view(instance)
    acc = _first_class(instance, cpu=False)
    if acc is None:
        raise InputError("one-accelerator: the topology has no accelerator")
    cpu = _first_class(instance, cpu=True)
    a = view.devices.index(Device(acc, 0))
    c = view.devices.index(Device(cpu, 0)) if cpu is not None else None
    ids = instance.arrays.ids
    dev = np.full(view.num_groups, a, dtype=np.int64)
    for g in range(view.num_groups):
        if not np.isfinite(view.time[g, view.dev_class[a]]):
            if c is None or not np.isfinite(view.time[g, view.dev_class[c]]):
                node = ids[int(view.cg.members[g][0])]
                raise InputError(
                    f"one-accelerator: the colour group of node {node!r} is not supported on "
                    f"{acc!r}" + (" and there is no CPU" if c is None else f" nor on {cpu!r}")
                )
            dev[g] = c
    need = float(view.memory[dev == a].sum())
    if not fits(0.0, need, view.capacity[a]):
        raise InputError(
            f"one-accelerator: the groups supported on {Device(acc, 0)} need {need:.6g} of memory, "
            f"more than its capacity {view.capacity[a]:.6g}"
        )
    return view.placement(dev)


def all_on_first_cpu(instance: Instance) -> Placement:
    """Everything on the first CPU (``cpu:0``).

    Raises InputError when the topology has no CPU or a node is not supported on
    it. Complexity O(n).

    Example::

        >>> set(all_on_first_cpu(inst).assignment.values())
        {Device(cls='cpu', index=0)}
    """
    cpu = _first_class(instance, cpu=True)
    if cpu is None:
        raise InputError("all-on-cpu: the topology has no CPU")
    for n in instance.graph.nodes:
        if cpu not in n.supported:
            raise InputError(f"all-on-cpu: node {n.id!r} is not supported on {cpu!r}")
    capacity = instance.topology.class_of(cpu).memory
    total = float(sum(n.memory for n in instance.graph.nodes))
    if capacity is not None and not fits(0.0, total, capacity):
        raise InputError(f"all-on-cpu: the graph needs {total:.6g} of memory, more than {capacity:.6g}")
    device = Device(cpu, 0)
    return Placement({n.id: device for n in instance.graph.nodes})


#: The name before all_on_first_cpu (kept for one release; it read too much like
#: latency.all_on_cpu_cores, which gives every node a CPU core of its own).
all_on_cpu = all_on_first_cpu


def expert(instance: Instance, path: str | os.PathLike) -> Placement:
    """A human expert's split, read from ``path`` (either placement format).

    Expert splits of training graphs list forward nodes only; backward nodes follow
    their colour class (:func:`placement_ilp.io.load_placement` completes them).
    Raises InputError when the file is unreadable or does not fit the instance.
    Complexity O(n).

    Example::

        >>> inst = load_instance(".../throughput/LayerGraphs/bert24_training.json")
        >>> p = expert(inst, ".../experts/bert24_training_expert.json")
    """
    return load_placement(path, instance)
