"""Pictures of a placement (matplotlib, an optional dependency: ``pip install "placement-ilp[plot]"``).

Three kinds, each a plain function that takes an :class:`~placement_ilp.data.instance.Instance`
and a :class:`~placement_ilp.data.placement.Placement`, draws into a matplotlib ``Axes``
(a new figure when none is given) and returns the ``Figure``:

- :func:`plot_graph`: the operator graph in topological layers (x: longest-path depth
  from the sources, side chains moved next to their first consumer; y: order within the
  layer by barycentre sweeps), nodes coloured by device, edges that cross devices dark;
- :func:`plot_loads`: per device, compute and communication as stacked bars (side by
  side with overlapped communication) against the max-load line, memory use on top;
- :func:`plot_timeline`: the latency schedule: each accelerator's subgraphs (calls) on
  its own row, CPU nodes on lanes below, the critical path outlined.

Every number comes from the evaluators (:func:`~placement_ilp.evaluation.maxload.evaluate`,
:func:`~placement_ilp.evaluation.latency.evaluate_latency`); nothing is recomputed here.
:func:`save_plot` writes one kind, or all that fit the objective, to a PNG or SVG
file; it is what ``placement-ilp plot`` runs. Figures are made without pyplot (no
window, no global state) and rendered by the Agg backend.
"""

from __future__ import annotations

import heapq
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable

import numpy as np

from ..errors import InputError
from ..io import files
from ..io.files import write_atomic
from ..data.graph import NodeId
from ..data.instance import Instance
from ..data.placement import Placement
from ..data.topology import Device
from ..evaluation.latency import evaluate_latency
from ..evaluation.maxload import evaluate

__all__ = [
    "Layout",
    "layered_layout",
    "device_colours",
    "plot_graph",
    "plot_loads",
    "plot_timeline",
    "figure",
    "save_plot",
    "check_output",
    "figure_kinds",
    "require_matplotlib",
    "KINDS",
    "SUFFIXES",
    "INSTALL_HINT",
]

#: What ``kind`` may be in :func:`figure` and :func:`save_plot`.
KINDS: tuple[str, ...] = ("graph", "loads", "timeline", "all")
#: File types :func:`save_plot` writes.
SUFFIXES: tuple[str, ...] = (".png", ".svg")
#: How to get matplotlib.
INSTALL_HINT = 'pip install "placement-ilp[plot]"'
#: Rows the CPU nodes of a latency timeline may take; busier moments overlap.
MAX_CPU_LANES = 8

_COMM_HATCH = "////"
_CUT_EDGE = "#8a1c1c"
_KEPT_EDGE = "#b8b8b8"
_LINE = "#d62728"


def require_matplotlib():
    """The ``matplotlib.figure.Figure`` class, or InputError naming the extra to install.

    Problem: matplotlib is optional; fail with one line, not a traceback, without it.
    O(1) once imported. Example: ``Figure = require_matplotlib(); Figure().add_subplot()``.
    """
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError(f"plots need matplotlib, which is not installed: {INSTALL_HINT}") from None
    del matplotlib
    return Figure


def _new_axes(ax, size: tuple[float, float]):
    """``ax`` itself, or the axes of a new figure of ``size`` inches (constrained layout)."""
    if ax is not None:
        return ax
    Figure = require_matplotlib()
    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot()


# ----------------------------------------------------------------------- layout
@dataclass(frozen=True)
class Layout:
    """Where :func:`plot_graph` draws each node.

    ids: node ids in graph order; x: each node's layer (0-based); y: its position in
    the layer, centred on 0; layers: how many layers; width: nodes in the widest layer.
    """

    ids: tuple
    x: np.ndarray
    y: np.ndarray
    layers: int
    width: int

    def position(self, node_id: NodeId) -> tuple[float, float]:
        """(x, y) of one node. O(n) (a scan of ``ids``)."""
        i = self.ids.index(node_id)
        return float(self.x[i]), float(self.y[i])


def layered_layout(instance: Instance, sweeps: int = 4) -> Layout:
    """Layer the graph of ``instance`` for drawing.

    Problem: place a DAG of up to a few thousand nodes so that edges point left to
    right and cross little. Layer = longest-path depth from the sources, then every
    node that has successors is moved as late as they allow (just before its first
    consumer), so that weights, inputs and their side chains do not pile up in the
    first layers; nodes on a longest path keep their depth. Within a layer, nodes start in topological order and are reordered by
    ``sweeps`` rounds of barycentre sweeps (down: mean position of predecessors;
    up: of successors; ties keep the previous order).

    Complexity O(sweeps * (V + E) + V log V).

    Example: a chain a -> b -> c gives x = [0, 1, 2] and y = [0, 0, 0].
    """
    graph = instance.graph
    ids = tuple(graph.ids)
    index = {v: i for i, v in enumerate(ids)}
    order = graph.topological_order()
    preds = [[index[u] for u in graph.predecessors(v)] for v in ids]
    succs = [[index[w] for w in graph.successors(v)] for v in ids]
    depth = [0] * len(ids)
    for v in order:
        i = index[v]
        depth[i] = 1 + max((depth[j] for j in preds[i]), default=-1)
    for v in reversed(order):  # then as late as its consumers allow
        i = index[v]
        if succs[i]:
            depth[i] = min(depth[j] for j in succs[i]) - 1
    layers = max(depth, default=-1) + 1
    members: list[list[int]] = [[] for _ in range(layers)]
    for v in order:  # topological order within each layer to start with
        members[depth[index[v]]].append(index[v])
    y = np.zeros(len(ids))

    def place(layer: list[int]) -> None:
        offset = (len(layer) - 1) / 2.0
        for rank, i in enumerate(layer):
            y[i] = rank - offset

    for layer in members:
        place(layer)
    for _ in range(max(0, sweeps)):
        for neighbours, sequence in ((preds, members), (succs, members[::-1])):
            for layer in sequence:
                if len(layer) < 2:
                    continue
                keys = {}
                for i in layer:
                    near = neighbours[i]
                    keys[i] = sum(y[j] for j in near) / len(near) if near else y[i]
                layer.sort(key=lambda i: (keys[i], y[i]))
                place(layer)
    width = max((len(layer) for layer in members), default=0)
    return Layout(ids, np.asarray(depth, dtype=float), y, layers, width)


def _graph_size(layout: Layout) -> tuple[float, float]:
    """Figure size (inches) for a layered drawing: wider with more layers, taller with
    wider layers, within readable bounds."""
    return float(np.clip(4 + 0.06 * layout.layers, 8, 24)), float(np.clip(1.6 + 0.25 * layout.width, 2.4, 8))


# ---------------------------------------------------------------------- colours
def _palette(n: int) -> list:
    """``n`` distinct colours: tab10 up to 10, tab20 up to 20, then hues around the circle."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    hsv = colormaps["hsv"]
    return [hsv(i / n) for i in range(n)]


def _key(instance: Instance, device: Device, merge_cpus: bool) -> Hashable:
    if merge_cpus and instance.topology.class_of(device.cls).kind == "cpu":
        return device.cls
    return Device(*device)


def _label(key: Hashable) -> str:
    return str(key) if isinstance(key, Device) else f"{key} (any core)"


def device_colours(instance: Instance, placement: Placement | None = None, merge_cpus: bool = False) -> dict:
    """A colour for every device of the topology (and any extra device ``placement`` uses).

    Problem: colour devices consistently across the three plots: accelerators (every
    class that is not of kind "cpu") get distinct hues, CPUs shades of grey. With
    ``merge_cpus`` the devices of a CPU class share one colour, keyed by the class name
    (the latency model's unlimited CPUs). Keys are :class:`Device` objects (class names
    for merged CPUs), values RGBA tuples, in topology order. O(devices).

    Example: ``device_colours(inst)[Device("acc", 0)]`` is tab10's blue.
    """
    require_matplotlib()
    keys: list[Hashable] = []
    for d in instance.topology.devices():
        k = _key(instance, d, merge_cpus)
        if k not in keys:
            keys.append(k)
    if placement is not None:
        for d in sorted(set(placement.assignment.values())):
            k = _key(instance, d, merge_cpus)
            if k not in keys:
                keys.append(k)
    cpu = [k for k in keys if instance.topology.class_of(k.cls if isinstance(k, Device) else k).kind == "cpu"]
    acc = [k for k in keys if k not in cpu]
    colours = dict(zip(acc, _palette(len(acc))))
    for i, k in enumerate(cpu):
        shade = 0.35 + 0.4 * (i / max(1, len(cpu) - 1)) if len(cpu) > 1 else 0.45
        colours[k] = (shade, shade, shade, 1.0)
    return {k: colours[k] for k in keys}


# ------------------------------------------------------------------------ graph
def plot_graph(
    instance: Instance,
    placement: Placement,
    *,
    ax: Any = None,
    merge_cpus: bool = False,
    layout: Layout | None = None,
    title: str | None = None,
):
    """Draw the graph in topological layers with nodes coloured by device.

    Problem: see at a glance which part of the network each device runs and where
    data crosses devices. Edges inside a device are light grey, edges between two
    devices dark red (data moves there; accelerators pay for it). One scatter call per
    device and one line collection per edge kind, so a 2,000-node graph draws in a
    fraction of a second. ``merge_cpus``: one colour for all cores of a CPU class
    (latency placements). ``layout``: a precomputed :func:`layered_layout`.

    Returns the Figure (that of ``ax`` when given). Complexity O(devices * V + E) plus
    the layout.

    Example: ``plot_graph(inst, solve(inst, method="dp").placement).savefig("g.png")``.
    """
    from matplotlib.collections import LineCollection

    layout = layered_layout(instance) if layout is None else layout
    n = len(layout.ids)
    ax = _new_axes(ax, _graph_size(layout))
    graph = instance.graph
    colours = device_colours(instance, placement, merge_cpus)
    index = {v: i for i, v in enumerate(layout.ids)}
    keys = [_key(instance, placement.device_of(v), merge_cpus) for v in layout.ids]
    xy = np.column_stack([layout.x, layout.y]) if n else np.zeros((0, 2))
    kept, cut = [], []
    for e in graph.edges:
        i, j = index[e.source], index[e.target]
        (cut if keys[i] != keys[j] else kept).append((xy[i], xy[j]))
    thin = 0.4 if n > 400 else 0.7
    if kept:
        ax.add_collection(LineCollection(kept, colors=_KEPT_EDGE, linewidths=thin, zorder=1))
    if cut:
        ax.add_collection(LineCollection(cut, colors=_CUT_EDGE, linewidths=thin * 1.6, zorder=2))
    size = float(np.clip(4000.0 / max(n, 1), 6, 60))
    for key, colour in colours.items():
        mask = np.fromiter((k == key for k in keys), dtype=bool, count=n)
        count = int(mask.sum())
        if count:
            ax.scatter(xy[mask, 0], xy[mask, 1], s=size, color=colour, edgecolors="white", linewidths=0.3,
                       zorder=3, label=f"{_label(key)} ({count})")
    ax.plot([], [], color=_CUT_EDGE, linewidth=1.2, label=f"cut edges ({len(cut)})")
    ax.set_xlim(-1, max(layout.layers, 1))
    half = (max(layout.width, 1) - 1) / 2.0 + 0.6
    ax.set_ylim(-half, half)
    ax.set_yticks([])
    ax.set_xlabel("layer (longest path from the inputs)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False, title="device (nodes)",
              title_fontsize="small", markerscale=max(1.0, 30.0 / size) ** 0.5)
    ax.set_title(title or f"{instance.name}: {n} nodes in {layout.layers} layers, coloured by device",
                 fontsize="medium", loc="left")
    return ax.figure


# ------------------------------------------------------------------------ loads
def plot_loads(
    instance: Instance,
    placement: Placement,
    *,
    ax: Any = None,
    objective: str = "sum",
    overlap: bool = False,
    cpu_contiguity: bool = True,
    title: str | None = None,
):
    """Per-device load as compute and communication bars against the max-load line.

    Problem: see which device is the bottleneck and how much of its load is
    communication. Numbers come from :func:`~placement_ilp.evaluation.maxload.evaluate` with the
    given ``objective``, ``overlap`` and ``cpu_contiguity``: bars are each device's
    ``compute`` and ``communication`` (stacked; side by side with ``overlap``, where
    load = max of the two), the dashed line is ``max_load``; a device with bounded
    memory shows its memory use in percent under its name. Every device of the topology
    gets a bar, used or not.

    Returns the Figure. Complexity that of the evaluation, O(devices * (V + E)).

    Example: ``plot_loads(inst, placement, objective="sum").savefig("loads.svg")``.
    """
    from matplotlib.patches import Patch

    ev = evaluate(instance, placement, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    reports = ev.devices
    ax = _new_axes(ax, (float(np.clip(2 + 0.7 * len(reports), 6, 16)), 4.0))
    colours = device_colours(instance)
    x = np.arange(len(reports), dtype=float)
    compute = np.array([_finite(r.compute) for r in reports])
    comm = np.array([_finite(r.communication) for r in reports])
    face = [colours[r.device] for r in reports]
    if overlap:
        ax.bar(x - 0.2, compute, width=0.4, color=face, edgecolor="black", linewidth=0.4)
        ax.bar(x + 0.2, comm, width=0.4, color=[_light(c) for c in face], hatch=_COMM_HATCH, edgecolor="black",
               linewidth=0.4)
    else:
        ax.bar(x, compute, width=0.7, color=face, edgecolor="black", linewidth=0.4)
        ax.bar(x, comm, width=0.7, bottom=compute, color=[_light(c) for c in face], hatch=_COMM_HATCH, edgecolor="black",
               linewidth=0.4)
    top = np.maximum(compute, comm) if overlap else compute + comm
    peak = max(float(top.max(initial=0.0)), _finite(ev.max_load), 1e-12)
    ax.axhline(_finite(ev.max_load), color=_LINE, linestyle="--", linewidth=1.2)
    names = [str(r.device) + (f"\nmem {100 * r.memory / r.memory_capacity:.0f}%" if r.memory_capacity else "")
             for r in reports]
    ax.set_xticks(x, names, fontsize="small")
    ax.set_ylabel("time per sample")
    ax.set_ylim(0, peak * 1.12)
    ax.set_xlim(-0.6, len(reports) - 0.4)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    grey = (0.55, 0.55, 0.55, 1.0)
    handles = [
        Patch(facecolor=grey, edgecolor="black", linewidth=0.4, label="compute"),
        Patch(facecolor=_light(grey), hatch=_COMM_HATCH, edgecolor="black", linewidth=0.4, label="communication"),
        ax.plot([], [], color=_LINE, linestyle="--", label=f"max-load {ev.max_load:.6g}")[0],
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    mode = "overlapped" if overlap else "sequential"
    state = "feasible" if ev.feasible else f"infeasible: {ev.violations[0].kind}"
    ax.set_title(
        title
        or f"{instance.name}: device loads ({objective} objective {ev.objective_value:.6g}, {mode} communication; "
        f"{state})",
        fontsize="medium",
        loc="left",
    )
    return ax.figure


def _light(colour) -> tuple:
    """``colour`` at 45% opacity in the face only (an ``alpha=`` argument would fade the outline too)."""
    from matplotlib.colors import to_rgba

    return to_rgba(colour, 0.45)


def _finite(x: float) -> float:
    return float(x) if math.isfinite(x) else 0.0


# --------------------------------------------------------------------- timeline
def _cpu_lanes(intervals: list[tuple[float, float, int]], max_lanes: int) -> list[int]:
    """Lane of each (start, finish, id) interval: greedy interval partitioning, the
    fewest lanes with no overlap; beyond ``max_lanes`` an interval shares the lane that
    frees first. O(n log n)."""
    lanes = [0] * len(intervals)
    free: list[tuple[float, int]] = []  # (time the lane frees, lane)
    count = 0
    for pos in sorted(range(len(intervals)), key=lambda p: (intervals[p][0], intervals[p][1])):
        start, finish, _ = intervals[pos]
        if free and free[0][0] <= start + 1e-12:
            _, lane = heapq.heappop(free)
        elif count < max_lanes:
            lane, count = count, count + 1
        else:
            _, lane = heapq.heappop(free)
        lanes[pos] = lane
        heapq.heappush(free, (finish, lane))
    return lanes


def plot_timeline(
    instance: Instance,
    placement: Placement,
    *,
    ax: Any = None,
    max_subgraphs: int | None = 1,
    title: str | None = None,
):
    """The single-sample schedule: subgraphs (calls) per accelerator over time.

    Problem: see where the latency goes. Numbers come from
    :func:`~placement_ilp.evaluation.latency.evaluate_latency` (``max_subgraphs`` is q): each
    accelerator has a row with its calls from start to finish, compute solid and
    communication hatched, each labelled ``#index (n nodes)`` above when it is long enough; CPU
    nodes (each on a core of its own) are packed onto up to MAX_CPU_LANES rows below;
    the calls and CPU nodes of the critical path are outlined in black; the dashed line
    is the latency. A placement that cannot be scheduled draws the reason instead.
    Inference graphs only (InputError otherwise, as for the evaluator).

    Returns the Figure. Complexity that of the evaluation plus O(V log V) for the lanes.

    Example: ``plot_timeline(inst, greedy_latency(inst), max_subgraphs=1).savefig("t.png")``.
    """
    report = evaluate_latency(instance, placement, max_subgraphs=max_subgraphs)
    accs = [a.device for a in report.accelerators]
    graph = instance.graph
    critical = set(report.critical_path)
    intervals = []
    for k, v in enumerate(report.cpu_nodes):
        finish = report.node_finish.get(v)
        if finish is None or not math.isfinite(finish):
            continue
        duration = graph.node(v).times.get(placement.device_of(v).cls, math.inf)
        if math.isfinite(duration):
            intervals.append((finish - duration, finish, k))
    lanes = _cpu_lanes(intervals, MAX_CPU_LANES)
    n_lanes = max(lanes, default=-1) + 1
    rows = len(accs) + n_lanes
    ax = _new_axes(ax, (12.0, float(np.clip(1.5 + 0.35 * rows, 3, 9))))
    colours = device_colours(instance, placement, merge_cpus=True)
    q = "unlimited" if max_subgraphs is None else str(max_subgraphs)
    if not report.subgraphs and not report.node_finish:
        ax.text(0.5, 0.5, f"no schedule: {report.reason}", ha="center", va="center", wrap=True,
                transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title or f"{instance.name}: latency timeline (q = {q})", fontsize="medium", loc="left")
        return ax.figure
    row_of = {d: r for r, d in enumerate(accs)}
    span = _finite(report.schedule_latency) or 1.0
    for s in report.subgraphs:
        r = row_of[s.device]
        colour = colours[s.device]
        edge = "black" if s.label in critical else "none"
        ax.barh(r, s.compute, left=s.start, height=0.6, color=colour, edgecolor=edge, linewidth=1.2)
        comm = max(0.0, s.finish - s.start - s.compute)
        if comm > 0:
            ax.barh(r, comm, left=s.start + s.compute, height=0.6, color=_light(colour), hatch=_COMM_HATCH,
                    edgecolor=edge if edge != "none" else "#555555", linewidth=1.2 if edge != "none" else 0.3)
        if s.finish - s.start > 0.05 * span:  # in the gap above the bar
            ax.text(s.start, r - 0.32, f"#{s.index} ({len(s.nodes)} nodes)", ha="left", va="bottom",
                    fontsize="x-small", color="#333333")
    if intervals:
        cpu_cls = {placement.device_of(report.cpu_nodes[k]).cls for _, _, k in intervals}
        grey = colours[sorted(cpu_cls)[0]] if len(cpu_cls) == 1 else (0.5, 0.5, 0.5, 1.0)
        starts = np.array([a for a, _, _ in intervals])
        widths = np.array([b - a for a, b, _ in intervals])
        ys = len(accs) + np.array(lanes, dtype=float)
        on_path = np.array([f"node {report.cpu_nodes[k]!r}" in critical for _, _, k in intervals])
        ax.barh(ys, widths, left=starts, height=0.6, color=(*grey[:3], 0.8),
                edgecolor=np.where(on_path, "black", "none").tolist(), linewidth=1.0)
    ax.axvline(span, color=_LINE, linestyle="--", linewidth=1.2)
    labels = [str(d) for d in accs] + [f"cpu lane {i + 1}" for i in range(n_lanes)]
    ax.set_yticks(range(rows), labels, fontsize="small")
    ax.set_ylim(rows - 0.4, -0.6)
    ax.set_xlim(0, span * 1.02)
    ax.set_xlabel("time")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    from matplotlib.patches import Patch

    grey = (0.55, 0.55, 0.55, 1.0)
    handles = [
        Patch(facecolor=grey, label="compute"),
        Patch(facecolor=_light(grey), hatch=_COMM_HATCH, edgecolor="#555555", linewidth=0.3,
              label="communication"),
        Patch(facecolor="white", edgecolor="black", linewidth=1.2, label="critical path"),
        ax.plot([], [], color=_LINE, linestyle="--", label=f"latency {report.schedule_latency:.6g}")[0],
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    state = "feasible" if report.feasible else f"infeasible: {report.violations[0].kind}"
    ax.set_title(
        title or f"{instance.name}: latency timeline (q = {q}, {len(report.subgraphs)} subgraphs, "
        f"{len(report.cpu_nodes)} CPU nodes; {state})",
        fontsize="medium",
        loc="left",
    )
    return ax.figure


# ------------------------------------------------------------------ one figure
def figure_kinds(kind: str, objective: str) -> list[str]:
    """The plots that ``kind`` means for ``objective``, top to bottom.

    Problem: "all" is the graph above the loads for a max-load objective, above the
    timeline for "latency"; "loads" needs a max-load objective and "timeline" the
    latency one (InputError otherwise, and for an unknown kind). O(1).

    Example: ``figure_kinds("all", "latency") == ["graph", "timeline"]``.
    """
    if kind not in KINDS:
        raise InputError(f"unknown plot kind {kind!r} (one of {', '.join(KINDS)})")
    latency = objective == "latency"
    if kind == "all":
        return ["graph", "timeline" if latency else "loads"]
    if kind == "loads" and latency:
        raise InputError("the loads plot shows max-load; with --objective latency plot the graph or the timeline")
    if kind == "timeline" and not latency:
        raise InputError("the timeline is the latency schedule: use it with --objective latency")
    return [kind]


def figure(
    instance: Instance,
    placement: Placement,
    *,
    kind: str = "all",
    objective: str = "sum",
    overlap: bool = False,
    cpu_contiguity: bool = True,
    max_subgraphs: int | None = 1,
):
    """One Figure with the plots of ``kind``: "graph", "loads", "timeline" or "all"
    (the graph above the loads, or above the timeline when ``objective`` is "latency").

    Problem: the picture ``placement-ilp plot`` saves. "loads" needs a max-load
    objective ("sum" or "different-maxima"), "timeline" the "latency" objective
    (InputError otherwise). Complexity that of the plots it holds.

    Example: ``figure(inst, placement, kind="all").savefig("placement.png")``.
    """
    kinds = figure_kinds(kind, objective)
    Figure = require_matplotlib()
    layout = layered_layout(instance) if "graph" in kinds else None
    if layout is not None:
        graph_size = _graph_size(layout)
    else:
        graph_size = (12.0, 0.0)
    heights = {"graph": graph_size[1], "loads": 4.0, "timeline": 4.0}
    if "timeline" in kinds:
        accs = sum(c.count for c in instance.topology.classes if c.kind != "cpu")
        heights["timeline"] = float(np.clip(1.5 + 0.35 * (accs + 3), 3, 9))
    width = max(graph_size[0], 12.0) if len(kinds) > 1 else (graph_size[0] if kinds == ["graph"] else 12.0)
    fig = Figure(figsize=(width, sum(heights[k] for k in kinds)), layout="constrained")
    axes = fig.subplots(len(kinds), 1, squeeze=False, height_ratios=[heights[k] for k in kinds])[:, 0]
    for k, ax in zip(kinds, axes):
        if k == "graph":
            plot_graph(instance, placement, ax=ax, merge_cpus=objective == "latency", layout=layout)
        elif k == "loads":
            plot_loads(instance, placement, ax=ax, objective=objective, overlap=overlap,
                       cpu_contiguity=cpu_contiguity)
        else:
            plot_timeline(instance, placement, ax=ax, max_subgraphs=max_subgraphs)
    return fig


def check_output(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """The output path of :func:`save_plot`, checked: a suffix of :data:`SUFFIXES`, and
    no existing file unless ``overwrite``. InputError otherwise (one line). O(1).

    Example: ``check_output("out.png")`` is ``Path("out.png")``; ``check_output("a.jpg")`` raises.
    """
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise InputError(f"{p}: plots are written as {' or '.join(SUFFIXES)} (got {p.suffix or 'no suffix'!r})")
    files.check_output(p, force=overwrite, what="-o")
    return p


def save_plot(
    instance: Instance,
    placement: Placement,
    path: str | os.PathLike,
    *,
    kind: str = "all",
    objective: str = "sum",
    overlap: bool = False,
    cpu_contiguity: bool = True,
    max_subgraphs: int | None = 1,
    overwrite: bool = False,
    dpi: int = 110,
) -> Path:
    """Draw :func:`figure` and write it as PNG or SVG (by the suffix of ``path``).

    Problem: one file for a report or a README. InputError for another suffix, an
    existing file without ``overwrite``, a kind that does not fit the objective,
    missing matplotlib, or a file that cannot be written. Returns the path written.
    Complexity that of the plots plus rendering (well under a second for 2,000 nodes).

    Example: ``save_plot(inst, solve(inst, method="dp").placement, "dp.png")``.
    """
    p = check_output(path, overwrite)
    fig = figure(instance, placement, kind=kind, objective=objective, overlap=overlap,
                 cpu_contiguity=cpu_contiguity, max_subgraphs=max_subgraphs)
    write_atomic(p, lambda temp: fig.savefig(temp, format=p.suffix.lower().lstrip("."), dpi=dpi),
                 overwrite=overwrite)
    return p
