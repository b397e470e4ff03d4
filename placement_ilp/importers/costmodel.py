"""The cost model: from operators (FLOPs, bytes, parameters) to a costed instance.

An importer (PyTorch, ONNX, or a synthetic generator) describes a model as a list
of :class:`OpRecord` in execution order. :func:`build_instance` turns it into an
:class:`~placement_ilp.data.instance.Instance` on a :class:`CostTopology`:

- the time of an operator on a device class is a roofline,
  ``op_overhead + max(flops / (peak_flops * efficiency), bytes / (memory_bandwidth * efficiency))``,
  or a measured time for the classes it was measured on;
- an operator a class's support lists exclude gets no time there (not supported);
- a node's memory is the bytes of the parameters it reads (each parameter counted
  at its first reader); in training, forward nodes add their output (the
  activation stashed for the backward pass) and backward nodes the gradients of
  the parameters;
- an edge carries its source's output bytes; devices that pay for communication
  move them over their link (``bandwidth``/``latency`` of the native format);
- training adds, for every forward node ``v``, a backward node ``v.grad`` in
  ``v``'s colour class, with about twice ``v``'s FLOPs for products
  (matmul/conv/attention) and once for the rest, an edge ``v -> v.grad`` and, for
  every forward edge ``u -> v``, the edge ``v.grad -> u.grad``.

Times are in microseconds (:data:`TIME_UNIT` seconds): a native ``bandwidth`` is in
bytes per microsecond and ``latency`` in microseconds.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import InputError
from ..data.graph import OpEdge, OpGraph, OpNode
from ..data.instance import Instance
from ..io import read_json
from ..io.native import topology_from_native
from ..data.topology import DEVICE_KINDS, Topology
from .devices import device_spec
from .flops import KINDS, PRODUCT_KINDS

#: Seconds per time unit of an imported instance: times are in microseconds.
TIME_UNIT = 1e-6

GRANULARITIES = ("operator", "layer")

#: what an importer does with an operator its FLOP formulas do not know: refuse it,
#: or cost it as an elementwise operator over its output.
UNKNOWN_OPS = ("error", "elementwise")


def check_unknown_ops(value: Any) -> None:
    """InputError unless ``value`` is one of ``UNKNOWN_OPS``. O(1)."""
    if value not in UNKNOWN_OPS:
        raise InputError(f"unknown_ops must be one of {', '.join(UNKNOWN_OPS)}, got {value!r}")

_NATIVE_FIELDS = {"name", "kind", "count", "memory", "pays_communication", "bandwidth", "latency"}
_COST_FIELDS = {
    "device", "peak_flops", "memory_bandwidth", "op_overhead", "efficiency",
    "link_bandwidth", "link_latency", "supported_ops", "unsupported_ops",
}


@dataclass(frozen=True)
class OpRecord:
    """One operator of an imported model, before costing.

    id: unique node id; op: the operator's name in its source ("linear", "Gemm");
    kind: one of :data:`placement_ilp.importers.flops.KINDS`;
    flops: all arithmetic; product_flops: the part spent in matrix products,
        convolutions and attention products (what ``torch.utils.flop_counter`` counts);
    bytes_accessed: bytes read (inputs, parameters) and written (outputs);
    output_bytes: bytes of the outputs, what moves when a successor is elsewhere;
    param_bytes: bytes of the parameters attributed to this operator;
    inputs: ids of the operators whose outputs it reads (distinct, earlier in the list);
    module: the module path it was called from ("" at the top level);
    dtype: element type of its output ("float32", ...);
    measured_seconds: a measured run time, when one was taken.
    """

    id: str
    op: str
    kind: str
    flops: float
    product_flops: float = 0.0
    bytes_accessed: float = 0.0
    output_bytes: float = 0.0
    param_bytes: float = 0.0
    inputs: tuple[str, ...] = ()
    module: str = ""
    dtype: str = "float32"
    measured_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"operator {self.id!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class ClassCost:
    """The cost model of one device class (figures in SI units).

    peak_flops: FLOP/s by element type, with "default" for the others;
    memory_bandwidth: bytes/s; op_overhead: seconds added to every operator (a
    kernel launch); efficiency: fraction of both peaks that kernels reach;
    supported_ops: operator names or kinds it runs (``None``: all);
    unsupported_ops: operator names or kinds it does not run.
    """

    name: str
    kind: str
    peak_flops: Mapping[str, float]
    memory_bandwidth: float
    op_overhead: float = 0.0
    efficiency: float = 1.0
    supported_ops: frozenset[str] | None = None
    unsupported_ops: frozenset[str] = frozenset()
    device: str | None = None

    def supports(self, op: OpRecord) -> bool:
        """Whether ``op`` may run on this class: its name (case-insensitive) or kind
        is in ``supported_ops`` (when given) and in neither of ``unsupported_ops``.

        Example: a class with ``supported_ops={"matmul", "conv"}`` runs ``linear`` (kind matmul). O(1).
        """
        names = {op.op.lower(), op.kind}
        if self.supported_ops is not None and not names & self.supported_ops:
            return False
        return not names & self.unsupported_ops

    def peak_for(self, dtype: str) -> float:
        """Peak FLOP/s for element type ``dtype`` (its own entry, else "default");
        InputError when neither exists. O(1).

        Example: with ``{"float16": 312e12, "default": 19.5e12}``, "int8" gets 19.5e12.
        """
        peak = self.peak_flops.get(dtype, self.peak_flops.get("default"))
        if peak is None:
            raise InputError(
                f"device class {self.name!r}: no peak_flops for element type {dtype!r} and no 'default' entry"
            )
        return peak

    def seconds(self, flops: float, bytes_accessed: float, dtype: str = "float32") -> float:
        """Roofline time of an operator: the slower of compute and memory traffic,
        plus the per-operator overhead.

        Example: 2e9 FLOPs and 1e6 bytes on 1e12 FLOP/s and 1e11 B/s: max(2e-3, 1e-5) = 2 ms. O(1).
        """
        compute = flops / (self.peak_for(dtype) * self.efficiency) if flops else 0.0
        memory = bytes_accessed / (self.memory_bandwidth * self.efficiency) if bytes_accessed else 0.0
        return self.op_overhead + max(compute, memory)


@dataclass(frozen=True)
class CostTopology:
    """Devices to place on (a :class:`Topology`) and the cost model of each class."""

    topology: Topology
    costs: tuple[ClassCost, ...]

    def cost_of(self, name: str) -> ClassCost:
        """The cost model of class ``name``; InputError for an unknown class. O(classes).

        Example: ``ready_made_topology(2, 1).cost_of("gpu").memory_bandwidth == 1555e9``.
        """
        for c in self.costs:
            if c.name == name:
                return c
        raise InputError(f"unknown device class {name!r}")


@dataclass(frozen=True)
class ImportedModel:
    """What an importer returns: the costed instance and the operators it came from."""

    instance: Instance
    ops: tuple[OpRecord, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def total_flops(self) -> float:
        """FLOPs of one forward pass (all operators)."""
        return float(sum(op.flops for op in self.ops))

    @property
    def product_flops(self) -> float:
        """FLOPs of one forward pass spent in products (what torch's flop counter counts)."""
        return float(sum(op.product_flops for op in self.ops))

    @property
    def param_bytes(self) -> float:
        """Bytes of the parameters and buffers the operators read (each once)."""
        return float(sum(op.param_bytes for op in self.ops))

    def flops_by_module(self, product_only: bool = False) -> dict[str, float]:
        """FLOPs summed per module path, each operator counted in its module and
        every enclosing one ("" is the whole model). O(ops * depth)."""
        out: dict[str, float] = {}
        for op in self.ops:
            value = op.product_flops if product_only else op.flops
            parts = op.module.split(".") if op.module else []
            for depth in range(len(parts) + 1):
                key = ".".join(parts[:depth])
                out[key] = out.get(key, 0.0) + value
        return out

    def summary(self) -> str:
        """Two or three lines for the CLI: sizes, FLOPs, parameters, measurement notes. O(nodes)."""
        g = self.instance.graph
        classes = sum(1 for grp in g.colour_groups() if len(grp) > 1)
        lines = [
            f"{len(self.ops)} operators -> {len(g)} nodes ({sum(n.backward for n in g.nodes)} backward), "
            f"{len(g.edges)} edges, {classes} colour classes of 2 or more nodes",
            f"{self.total_flops / 1e9:.6g} GFLOP per forward pass ({self.product_flops / 1e9:.6g} in products), "
            f"{self.param_bytes / 1e6:.6g} MB of parameters",
        ]
        lines += list(self.notes)
        return "\n".join(lines)


# -- topology files -----------------------------------------------------------
def _number(value: Any, what: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
        raise InputError(f"{what} must be a finite number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise InputError(f"{what} must be {'positive' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _op_list(value: Any, what: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise InputError(f"{what} must be a list of operator names or kinds")
    return frozenset(x.lower() for x in value)


def _peaks(value: Any, where: str) -> dict[str, float]:
    if isinstance(value, dict):
        if not value:
            raise InputError(f"{where}: peak_flops must not be empty")
        return {str(k): _number(v, f"{where}: peak_flops[{k!r}]", positive=True) for k, v in value.items()}
    return {"default": _number(value, f"{where}: peak_flops", positive=True)}


def parse_cost_topology(data: Any) -> CostTopology:
    """Read a topology with cost-model fields (already parsed JSON).

    ``data`` is ``{"classes": [...]}`` or any object with such a ``"topology"``
    (a native instance). Each class has the native fields (``name``, ``kind``,
    ``count``, ``memory``, ``pays_communication``, ``bandwidth`` in bytes per
    microsecond, ``latency`` in microseconds) and the cost-model fields
    ``device`` (a ready-made description whose figures fill the fields not given),
    ``peak_flops`` (FLOP/s, a number or an object by element type),
    ``memory_bandwidth`` (bytes/s), ``op_overhead`` (s), ``efficiency`` (0 to 1],
    ``link_bandwidth`` (bytes/s) and ``link_latency`` (s) (the SI alternative to
    ``bandwidth``/``latency``), ``supported_ops`` and ``unsupported_ops``.
    ``pays_communication`` defaults to true except for kind ``cpu``. A class that
    pays for communication needs a link bandwidth. O(classes).

    Example: ``parse_cost_topology({"classes": [{"name": "gpu", "count": 2,
    "device": "nvidia-a100-sxm4-40gb"}]}).topology.num_devices == 2``.
    """
    if isinstance(data, dict) and "classes" not in data and isinstance(data.get("topology"), dict):
        data = data["topology"]
    if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
        raise InputError("topology: expected a JSON object with a list 'classes' (or a 'topology' holding one)")
    if not data["classes"]:
        raise InputError("topology: 'classes' is empty")
    native_classes = []
    costs = []
    for pos, raw in enumerate(data["classes"]):
        if not isinstance(raw, dict):
            raise InputError(f"topology: device class #{pos} must be a JSON object")
        name = raw.get("name")
        where = f"device class {name!r}" if isinstance(name, str) else f"device class #{pos}"
        if not isinstance(name, str):
            raise InputError(f"{where}: missing field 'name'")
        unknown = sorted(set(raw) - _NATIVE_FIELDS - _COST_FIELDS)
        if unknown:
            raise InputError(
                f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(_NATIVE_FIELDS | _COST_FIELDS))})"
            )
        spec = None
        if "device" in raw:
            if not isinstance(raw["device"], str):
                raise InputError(f"{where}: 'device' must be the name of a ready-made device")
            spec = device_spec(raw["device"])
        kind = raw.get("kind", spec.kind if spec else None)
        if kind is None:
            raise InputError(f"{where}: missing field 'kind' (one of {', '.join(DEVICE_KINDS)})")
        if kind not in DEVICE_KINDS:
            raise InputError(f"{where}: kind {kind!r} is not one of {', '.join(DEVICE_KINDS)}")
        if "count" not in raw:
            raise InputError(f"{where}: missing field 'count'")
        if "peak_flops" in raw:
            peaks = _peaks(raw["peak_flops"], where)
        elif spec is not None:
            peaks = dict(spec.peak_flops)
        else:
            raise InputError(f"{where}: missing field 'peak_flops' (FLOP/s) and no 'device' to take it from")
        if "memory_bandwidth" in raw:
            mem_bw = _number(raw["memory_bandwidth"], f"{where}: memory_bandwidth", positive=True)
        elif spec is not None:
            mem_bw = spec.memory_bandwidth
        else:
            raise InputError(f"{where}: missing field 'memory_bandwidth' (bytes/s) and no 'device' to take it from")
        efficiency = _number(raw.get("efficiency", 1.0), f"{where}: efficiency", positive=True)
        if efficiency > 1:
            raise InputError(f"{where}: efficiency must be in (0, 1], got {efficiency!r}")
        pays = raw.get("pays_communication", kind != "cpu")
        if not isinstance(pays, bool):
            raise InputError(f"{where}: pays_communication must be true or false, got {pays!r}")
        out: dict[str, Any] = {"name": name, "kind": kind, "count": raw["count"], "pays_communication": pays}
        memory = raw["memory"] if "memory" in raw else (spec.memory if spec else None)
        if memory is not None:
            out["memory"] = memory
        if pays:
            if "bandwidth" in raw and "link_bandwidth" in raw:
                raise InputError(f"{where}: give 'bandwidth' (bytes/us) or 'link_bandwidth' (bytes/s), not both")
            if "latency" in raw and "link_latency" in raw:
                raise InputError(f"{where}: give 'latency' (us) or 'link_latency' (s), not both")
            if "bandwidth" in raw:
                out["bandwidth"] = raw["bandwidth"]
            else:
                link = raw.get("link_bandwidth", spec.link_bandwidth if spec else None)
                if link is None:
                    raise InputError(
                        f"{where}: it pays for communication but has no link bandwidth "
                        "(give link_bandwidth in bytes/s, or set pays_communication to false)"
                    )
                out["bandwidth"] = _number(link, f"{where}: link_bandwidth", positive=True) * TIME_UNIT
            if "latency" in raw:
                out["latency"] = raw["latency"]
            else:
                lat = raw.get("link_latency", spec.link_latency if spec else 0.0)
                out["latency"] = _number(lat, f"{where}: link_latency") / TIME_UNIT
        native_classes.append(out)
        costs.append(
            ClassCost(
                name=name,
                kind=kind,
                peak_flops=peaks,
                memory_bandwidth=mem_bw,
                op_overhead=_number(raw.get("op_overhead", 0.0), f"{where}: op_overhead"),
                efficiency=efficiency,
                supported_ops=None if "supported_ops" not in raw
                else _op_list(raw["supported_ops"], f"{where}: supported_ops"),
                unsupported_ops=_op_list(raw.get("unsupported_ops", []), f"{where}: unsupported_ops"),
                device=spec.name if spec else None,
            )
        )
    topology = topology_from_native({"classes": native_classes})
    return CostTopology(topology, tuple(costs))


def load_cost_topology(path: str | os.PathLike) -> CostTopology:
    """Read a topology file (see :func:`parse_cost_topology`); errors name the file.

    Example: ``load_cost_topology("instances/topologies/a100x2-xeon.json").topology.class_names``. O(classes).
    """
    p = Path(path)
    try:
        return parse_cost_topology(read_json(p))
    except InputError as exc:
        msg = str(exc)
        raise InputError(msg if msg.startswith(str(p)) else f"{p}: {msg}") from None


def ready_made_topology(gpus: int = 4, cpus: int = 1, gpu: str = "nvidia-a100-sxm4-40gb",
                        cpu: str = "intel-xeon-platinum-8380", gpu_overhead: float = 5e-6,
                        cpu_overhead: float = 1e-5) -> CostTopology:
    """``gpus`` GPUs of a ready-made kind (paying for communication over their PCIe
    link) and ``cpus`` CPU sockets that do not pay for communication, as in the
    paper's model. The per-operator overheads are assumptions, not datasheet
    figures: a kernel launch on a GPU, PyTorch's eager dispatch on a CPU.

    Example: ``ready_made_topology(2, 1).topology.class_names == ("gpu", "cpu")``. O(1).
    """
    classes = []
    if gpus:
        classes.append({"name": "gpu", "count": gpus, "device": gpu, "op_overhead": gpu_overhead})
    if cpus:
        classes.append({"name": "cpu", "count": cpus, "device": cpu, "op_overhead": cpu_overhead})
    return parse_cost_topology({"classes": classes})


# -- building the instance ----------------------------------------------------
def _sig(x: float) -> float:
    """``x`` to 6 significant digits (keeps files readable; far below any tolerance that matters)."""
    return float(f"{x:.6g}") if x else 0.0


def layer_keys(ops: Sequence[OpRecord], depth: int | None = None) -> list[str | None]:
    """The colour class of each operator at layer granularity.

    Operators are grouped by module path (cut to its first ``depth`` components
    when given); a group is a maximal run of consecutive operators with the same
    path, so that every group is convex and the groups form a DAG (a module whose
    operators are interleaved with others' gets one class per run, named
    ``path#2``, ``path#3``, ...). Operators at the top level (path "") get none.
    O(len(ops)).

    Example: modules ["a", "a", "", "b", "a"] give ["a", "a", None, "b", "a#2"].
    """
    keys: list[str | None] = []
    runs: dict[str, int] = {}
    previous: str | None = None
    for op in ops:
        path = op.module
        if depth is not None and path:
            path = ".".join(path.split(".")[:depth])
        if not path:
            keys.append(None)
            previous = None
            continue
        if path != previous:
            runs[path] = runs.get(path, 0) + 1
        previous = path
        keys.append(path if runs[path] == 1 else f"{path}#{runs[path]}")
    return keys


def build_instance(
    ops: Sequence[OpRecord],
    costs: CostTopology,
    *,
    training: bool = False,
    granularity: str = "operator",
    layer_depth: int | None = None,
    measured_classes: Iterable[str] = (),
    time_jitter: float = 0.0,
    seed: int = 0,
    name: str = "model",
    notes: Sequence[str] = (),
) -> ImportedModel:
    """Cost the operators ``ops`` (in execution order) on ``costs`` and build the instance.

    ``granularity``: "operator" (one node per operator; in training each forward
    node and its backward twin form a colour class) or "layer" (operators grouped
    into colour classes by module path, see :func:`layer_keys`).
    ``measured_classes``: classes whose times are the operators'
    ``measured_seconds`` (backward: scaled like the FLOPs) instead of the roofline.
    ``time_jitter``: each time is multiplied by a factor drawn uniformly from
    [1 - j, 1 + j] with ``seed`` (the synthetic generators use it).
    Raises InputError for an operator no class supports, duplicate ids, or an
    input that is not an earlier operator. O(ops * classes + edges).

    Example: ``build_instance([OpRecord("a", "relu", "elementwise", 1e6)], ready_made_topology(1, 1))``.
    """
    if granularity not in GRANULARITIES:
        raise InputError(f"granularity {granularity!r} is not one of {', '.join(GRANULARITIES)}")
    if layer_depth is not None and layer_depth < 1:
        raise InputError(f"layer depth must be >= 1, got {layer_depth}")
    if not ops:
        raise InputError("the model has no operators to place")
    if not 0 <= time_jitter < 1:
        raise InputError(f"time jitter must be in [0, 1), got {time_jitter}")
    measured = set(measured_classes)
    for cls in measured:
        costs.cost_of(cls)
    rng = random.Random(seed)
    seen: dict[str, OpRecord] = {}
    for op in ops:
        if op.id in seen:
            raise InputError(f"duplicate operator id {op.id!r}")
        for u in op.inputs:
            if u not in seen:
                raise InputError(f"operator {op.id!r} reads {u!r}, which is not an earlier operator")
        seen[op.id] = op

    keys = layer_keys(ops, layer_depth) if granularity == "layer" else [None] * len(ops)
    paying = [c for c in costs.topology.classes if c.pays_communication and c.bandwidth is not None]
    slowest = min(paying, key=lambda c: c.bandwidth) if paying else None

    def edge_cost(nbytes: float) -> float:
        return _sig(nbytes / slowest.bandwidth + slowest.latency) if slowest is not None and nbytes else 0.0

    def times_of(op: OpRecord, scale: float, byte_scale: float) -> dict[str, float]:
        out = {}
        for c in costs.costs:
            if not c.supports(op):
                continue
            if c.name in measured and op.measured_seconds is not None:
                seconds = op.measured_seconds * scale
            else:
                seconds = c.seconds(op.flops * scale, op.bytes_accessed * byte_scale, op.dtype)
            factor = rng.uniform(1 - time_jitter, 1 + time_jitter) if time_jitter else 1.0
            out[c.name] = _sig(seconds * factor / TIME_UNIT)
        if not out:
            raise InputError(
                f"operator {op.id!r} ({op.op}, kind {op.kind}) is supported on no device class of the topology"
            )
        return out

    taken = set(seen)

    def twin_id(v: str) -> str:
        candidate = f"{v}.grad"
        while candidate in taken:
            candidate += "_"
        taken.add(candidate)
        return candidate

    nodes: list[OpNode] = []
    edges: list[OpEdge] = []
    twin: dict[str, str] = {}
    colour: dict[str, str | None] = {}
    for op, key in zip(ops, keys):
        cc = key if key is not None else (op.id if training else None)
        colour[op.id] = cc
        stash = op.output_bytes if training else 0.0
        nodes.append(
            OpNode(
                id=op.id,
                times=times_of(op, 1.0, 1.0),
                memory=_sig(op.param_bytes + stash),
                color_class=cc,
                name=op.op,
                layer_id=op.module or None,
            )
        )
        for u in dict.fromkeys(op.inputs):
            edges.append(OpEdge(u, op.id, edge_cost(seen[u].output_bytes), _sig(seen[u].output_bytes)))
    if training:
        for op in ops:
            twin[op.id] = twin_id(op.id)
        for op in ops:
            ratio = 2.0 if op.kind in PRODUCT_KINDS else 1.0
            nodes.append(
                OpNode(
                    id=twin[op.id],
                    times=times_of(op, ratio, 2.0),
                    memory=_sig(op.param_bytes),
                    backward=True,
                    color_class=colour[op.id],
                    name=f"{op.op}.grad",
                    layer_id=op.module or None,
                )
            )
        for op in ops:
            edges.append(OpEdge(op.id, twin[op.id], edge_cost(op.output_bytes), _sig(op.output_bytes)))
            grads = sum(seen[u].output_bytes for u in dict.fromkeys(op.inputs))
            for u in dict.fromkeys(op.inputs):
                edges.append(OpEdge(twin[op.id], twin[u], edge_cost(grads), _sig(grads)))
    graph = OpGraph(tuple(nodes), tuple(edges))
    return ImportedModel(Instance(graph, costs.topology, name), tuple(ops), tuple(notes))
