"""Three heterogeneous example instances, made from first principles.

Each function returns an :class:`~placement_ilp.data.instance.Instance` on a topology
of three device classes, with per-class memory and per-class link bandwidth and
latency (a transfer costs ``bytes / bandwidth + latency`` on a class that pays for
communication), and, in :func:`two_servers`, class-pair links for the transfers
that leave a server:

- :func:`gpu_generations`: one server with two newer and two older GPUs and a CPU
  socket, running a GPT-style decoder (inference of one batch);
- :func:`gpu_dsa`: two GPUs, two matrix-engine DSAs that run only matrix products
  and attention, and a CPU socket, running a BERT-style encoder (inference);
- :func:`two_servers`: four GPUs of one model in two servers (NVLink inside a
  server, a slow network between them), and a CPU socket, training a ResNet-style
  CNN whose residual blocks each stay on one device.

How the numbers are made (the same for all three):

- An operator has FLOPs, the bytes of its output, the bytes of its parameters, and
  a kind. Matrix products, attention and convolutions are *matrix* kinds; norms,
  softmax, additions, pooling, embedding look-ups and the loss are *vector* kinds.
  Tensors are FP16 (2 bytes per element); a convolution includes its batch norm and
  ReLU, and a feed-forward up-projection its GELU (fused, as inference engines do).
- Time of an operator on a device class (microseconds) = the class's launch
  overhead + the larger of FLOPs / peak rate (the class's matrix rate for matrix
  kinds, its vector rate otherwise) and bytes moved / memory bandwidth (bytes moved
  = inputs + output + parameters). Peak rates are the vendors' figures, so the
  times are optimistic; what drives a placement is the ratio between classes, and
  that is the datasheets' ratio.
- A node's memory is its parameter bytes (for training also its stashed output
  and, on backward nodes, its parameter gradients); an edge carries the bytes of
  its source's output. Edge ``cost`` is 0: every class that pays for
  communication has a bandwidth, so the cost is never used.

Device figures (peak, per device):

=========================  ==============  ==============  ==========  ======  ===========================
device                     matrix FLOP/s   vector FLOP/s   memory B/s  memory  link (each way)
=========================  ==============  ==============  ==========  ======  ===========================
NVIDIA A100 40GB           312e12 (FP16)   19.5e12 (FP32)  1555e9      40 GB   PCIe 4.0 x16: 32 GB/s;
                                                                               NVLink 3: 300 GB/s;
                                                                               100 Gb/s Ethernet: 12.5 GB/s
NVIDIA V100 PCIe 16GB      112e12 (FP16)   14e12 (FP32)    900e9       16 GB   PCIe 3.0 x16: 16 GB/s
Intel Xeon Platinum 8380   5.888e12        5.888e12        204.8e9     -       (does not pay)
matrix-engine DSA          400e12 (FP16)   (unsupported)   1600e9      32 GB   PCIe 5.0 x16: 64 GB/s
=========================  ==============  ==============  ==========  ======  ===========================

Sources: the NVIDIA A100 Tensor Core GPU datasheet (A100 40GB columns) and the
NVIDIA V100 Tensor Core GPU datasheet (V100 PCIe column); the Xeon's peaks are
derived from Intel ARK (40 cores x 2.3 GHz x 64 FP32 FLOP per cycle with two
AVX-512 FMA units; 8 channels of DDR4-3200 x 8 bytes). PCIe rates are the
standard's x16 figures per direction (Gen3, 4, 5: about 16, 32, 64 GB/s). The
DSA is not a product: it is a hypothetical matrix engine with figures chosen in
the range of current inference accelerators. Launch overheads (GPU 5 us, DSA
10 us, CPU 2 us per operator) and per-transfer latencies (PCIe 5 us, NVLink 2 us,
network 10 us) are assumed round figures. The CPU runs FP16 operators at its FP32
rate (it has no matrix units).

Run ``python3 -m placement_ilp.examples DIR [--force]`` to write the three
instances as ``DIR/{gpu_generations,gpu_dsa,two_servers}.json`` in the native
format (instances/heterogeneous/ holds them).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..errors import InputError, refuse_overwrite
from ..data.graph import OpEdge, OpGraph, OpNode
from ..data.instance import Instance
from ..data.topology import DeviceClass, Link, Topology
from ..io import load_instance, save_instance

#: Seconds per time unit: times are in microseconds, bandwidths in bytes per microsecond.
TIME_UNIT = 1e-6
#: Bytes per tensor element (FP16).
ELEMENT_BYTES = 2
#: Operator kinds that run at a device's matrix rate; the DSA runs only these.
MATRIX_KINDS = frozenset({"matmul", "attention", "conv"})
#: Operator kinds that run at a device's vector rate.
VECTOR_KINDS = frozenset({"embedding", "norm", "add", "softmax", "pool", "loss"})


@dataclass(frozen=True)
class Operator:
    """One operator before costing.

    id: node id; kind: one of MATRIX_KINDS or VECTOR_KINDS; flops: arithmetic;
    out_bytes: bytes of its output; param_bytes: bytes of its parameters;
    inputs: ids of the operators it reads (earlier in the list);
    moved_bytes: bytes it reads and writes (inputs + output + parameters).
    """

    id: str
    kind: str
    flops: float
    out_bytes: float
    param_bytes: float
    inputs: tuple[str, ...]
    moved_bytes: float


@dataclass(frozen=True)
class Hardware:
    """A device class with the figures that cost an operator and a transfer.

    Rates are FLOP/s and bytes/s, times seconds, memory bytes (None: unlimited);
    ``link_bandwidth`` None means the class does not pay for communication;
    ``supports`` lists the operator kinds it runs (None: all).
    """

    name: str
    kind: str
    count: int
    matrix_rate: float
    vector_rate: float
    memory_bandwidth: float
    memory: float | None
    link_bandwidth: float | None
    link_latency: float
    overhead: float
    supports: frozenset[str] | None = None

    def device_class(self) -> DeviceClass:
        """The topology's view: memory, and the link in bytes and time units."""
        pays = self.link_bandwidth is not None
        return DeviceClass(
            self.name, self.kind, self.count, self.memory, pays,
            round(self.link_bandwidth * TIME_UNIT, 6) if pays else None,
            round(self.link_latency / TIME_UNIT, 6) if pays else 0.0,
        )

    def time(self, op: Operator, flop_factor: float = 1.0) -> float | None:
        """Time units to run ``op`` (``flop_factor`` times its FLOPs and bytes), None
        where the class does not run that kind. O(1)."""
        if self.supports is not None and op.kind not in self.supports:
            return None
        rate = self.matrix_rate if op.kind in MATRIX_KINDS else self.vector_rate
        seconds = self.overhead + max(op.flops / rate, op.moved_bytes / self.memory_bandwidth) * flop_factor
        return round(seconds / TIME_UNIT, 3)


# Datasheet figures (see the module docstring). A link is given per example.
_A100 = dict(kind="gpu", matrix_rate=312e12, vector_rate=19.5e12, memory_bandwidth=1555e9, memory=40e9,
             overhead=5e-6)
_V100 = dict(kind="gpu", matrix_rate=112e12, vector_rate=14e12, memory_bandwidth=900e9, memory=16e9,
             overhead=5e-6)
_XEON = dict(kind="cpu", matrix_rate=5.888e12, vector_rate=5.888e12, memory_bandwidth=204.8e9, memory=None,
             link_bandwidth=None, link_latency=0.0, overhead=2e-6)
# the DSA runs matrix kinds only, so its vector rate is never used
_DSA = dict(kind="dsa", matrix_rate=400e12, vector_rate=400e12, memory_bandwidth=1600e9, memory=32e9,
            link_bandwidth=64e9, link_latency=10e-6, overhead=10e-6, supports=MATRIX_KINDS)


class _Builder:
    """Collects operators in execution order, with tensor sizes in elements."""

    def __init__(self) -> None:
        self.ops: list[Operator] = []
        self.size: dict[str, float] = {}

    def add(self, ident: str, kind: str, flops: float, out_elements: float, inputs: Sequence[str] = (),
            params: float = 0.0, moved: float | None = None) -> str:
        out_bytes = out_elements * ELEMENT_BYTES
        param_bytes = params * ELEMENT_BYTES
        if moved is None:
            moved = sum(self.size[u] for u in inputs) * ELEMENT_BYTES + out_bytes + param_bytes
        self.ops.append(Operator(ident, kind, float(flops), float(out_bytes), float(param_bytes), tuple(inputs),
                                 float(moved)))
        self.size[ident] = out_elements
        return ident

    def linear(self, ident: str, x: str, rows: int, fan_in: int, fan_out: int) -> str:
        return self.add(ident, "matmul", 2 * rows * fan_in * fan_out, rows * fan_out, (x,), fan_in * fan_out)

    def conv(self, ident: str, x: str, batch: int, cin: int, cout: int, kernel: int, side: int) -> str:
        flops = 2 * batch * side * side * cin * cout * kernel * kernel
        return self.add(ident, "conv", flops, batch * cout * side * side, (x,), cin * cout * kernel * kernel)


def _inference(name: str, ops: list[Operator], hardware: Sequence[Hardware]) -> Instance:
    """Cost ``ops`` on every class: one node per operator, one edge per input."""
    nodes = []
    for op in ops:
        times = {h.name: t for h in hardware if (t := h.time(op)) is not None}
        nodes.append(OpNode(op.id, times, memory=op.param_bytes, name=op.kind))
    out = {op.id: op.out_bytes for op in ops}
    edges = [OpEdge(u, op.id, 0.0, out[u]) for op in ops for u in op.inputs]
    return Instance(OpGraph(tuple(nodes), tuple(edges)), Topology(tuple(h.device_class() for h in hardware)), name)


def _link(a: str, b: str, bandwidth: float, latency: float) -> Link:
    """A class-pair link from bytes/s and seconds, in the examples' units."""
    return Link(a, b, round(bandwidth * TIME_UNIT, 6), round(latency / TIME_UNIT, 6))


def _training(name: str, ops: list[Operator], hardware: Sequence[Hardware], links: Sequence[Link] = (),
              colour: dict[str, str] | None = None) -> Instance:
    """Cost a training step: every operator ``v`` gets a backward twin ``v.grad`` in
    its colour class, with twice the FLOPs and bytes of ``v`` for matrix kinds (the
    gradients of the input and of the weights) and once for the rest. Edges:
    ``u -> v`` (u's output), ``v -> v.grad`` (v's output, kept for the backward
    pass), and ``v.grad -> u.grad`` for every input u of v, carrying the gradients
    of all of v's inputs. Memory: a forward node holds its parameters and its
    stashed output, a backward node its parameter gradients. The colour class of
    ``v`` is ``colour[v]`` (default: ``v`` itself); ``links`` go to the topology."""
    nodes, edges = [], []
    out = {op.id: op.out_bytes for op in ops}
    colour_of = colour or {}
    for op in ops:
        times = {h.name: t for h in hardware if (t := h.time(op)) is not None}
        nodes.append(OpNode(op.id, times, memory=op.param_bytes + op.out_bytes,
                            color_class=colour_of.get(op.id, op.id), name=op.kind))
        edges += [OpEdge(u, op.id, 0.0, out[u]) for u in op.inputs]
        edges.append(OpEdge(op.id, f"{op.id}.grad", 0.0, op.out_bytes))
    for op in reversed(ops):
        factor = 2.0 if op.kind in MATRIX_KINDS else 1.0
        times = {h.name: t for h in hardware if (t := h.time(op, factor)) is not None}
        nodes.append(OpNode(f"{op.id}.grad", times, memory=op.param_bytes, backward=True,
                            color_class=colour_of.get(op.id, op.id), name=op.kind))
        grads = sum(out[u] for u in op.inputs)
        edges += [OpEdge(f"{op.id}.grad", f"{u}.grad", 0.0, grads) for u in op.inputs]
    topology = Topology(tuple(h.device_class() for h in hardware), tuple(links))
    return Instance(OpGraph(tuple(nodes), tuple(edges)), topology, name)


def _decoder_layers(net: _Builder, x: str, layers: int, d: int, tokens: int, seq: int, prefix: str = "") -> str:
    """``layers`` pre-norm transformer blocks of 9 operators each; returns the last one."""
    for layer in range(layers):
        p = f"{prefix}l{layer}."
        h = net.add(p + "ln1", "norm", 5 * tokens * d, tokens * d, (x,), 2 * d)
        qkv = net.linear(p + "qkv", h, tokens, d, 3 * d)
        # scores, softmax and context in one fused kernel: Q K^T and P V, 2 * 2 * tokens * seq * d FLOPs
        att = net.add(p + "attn", "attention", 4 * tokens * seq * d, tokens * d, (qkv,))
        proj = net.linear(p + "proj", att, tokens, d, d)
        x = net.add(p + "add1", "add", tokens * d, tokens * d, (x, proj))
        h = net.add(p + "ln2", "norm", 5 * tokens * d, tokens * d, (x,), 2 * d)
        up = net.linear(p + "ffn_up", h, tokens, d, 4 * d)
        down = net.linear(p + "ffn_down", up, tokens, 4 * d, d)
        x = net.add(p + "add2", "add", tokens * d, tokens * d, (x, down))
    return x


def gpu_generations() -> Instance:
    """One server with two newer GPUs, two older GPUs and a CPU socket, running a
    GPT-style decoder on one batch (inference, the prefill of a prompt).

    Devices: ``a100`` (2 x NVIDIA A100 40GB on PCIe 4.0: 32 GB/s each way, 5 us per
    transfer), ``v100`` (2 x NVIDIA V100 16GB on PCIe 3.0: 16 GB/s, 5 us) and ``cpu``
    (1 x Intel Xeon Platinum 8380 socket, unlimited memory, pays no communication).
    The A100 runs matrix products 2.8 times as fast as the V100 and has 2.5 times
    its memory and twice its link bandwidth.

    Model: 12 pre-norm blocks (width 8192, 4 x 8192 feed-forward, fused attention
    whose FLOPs are counted over the whole sequence, without the causal saving)
    over a batch of 4 sequences of 2048 tokens, a token embedding (vocabulary
    50304) and a language-model head: 111 nodes, 1.6 GB of FP16 weights per block.
    Numbers as in the module docstring. O(1); the same instance on every call.

    Example: ``solve(gpu_generations(), method="dp").objective`` (microseconds).
    """
    d, seq, batch, vocab, layers = 8192, 2048, 4, 50304, 12
    tokens = seq * batch
    net = _Builder()
    x = net.add("embed", "embedding", tokens * d, tokens * d, (), vocab * d, moved=2.0 * tokens * d * ELEMENT_BYTES)
    x = _decoder_layers(net, x, layers, d, tokens, seq)
    h = net.add("ln_f", "norm", 5 * tokens * d, tokens * d, (x,), 2 * d)
    net.linear("lm_head", h, tokens, d, vocab)
    hardware = (
        Hardware("a100", count=2, link_bandwidth=32e9, link_latency=5e-6, **_A100),
        Hardware("v100", count=2, link_bandwidth=16e9, link_latency=5e-6, **_V100),
        Hardware("cpu", count=1, **_XEON),
    )
    return _inference("gpu_generations", net.ops, hardware)


def gpu_dsa() -> Instance:
    """Two GPUs, two matrix-engine DSAs and a CPU socket, running a BERT-style
    encoder on one batch (inference).

    Devices: ``gpu`` (2 x NVIDIA A100 40GB on PCIe 4.0: 32 GB/s each way, 5 us per
    transfer), ``dsa`` (2 x a hypothetical matrix engine: 400 TFLOP/s on matrix
    products and fused attention, nothing else; 32 GB; PCIe 5.0: 64 GB/s, 10 us per
    transfer, 10 us per operator) and ``cpu`` (1 x Intel Xeon Platinum 8380 socket).
    The embedding, the norms and the residual additions run on GPUs and CPUs only,
    so a pipeline stage on a DSA can hold only a chain of matrix operators: the
    attention part qkv -> attn -> proj, or the feed-forward part ffn_up -> ffn_down,
    of one block. Without contiguity a DSA may take such chains from many blocks.

    Model: 10 blocks built as in :func:`gpu_generations` but of width 2048 (4 x 2048
    feed-forward) over 16 sequences of 512 tokens (attention over the whole
    sequence, as in an encoder), a token embedding (vocabulary 30522) and a final
    norm: 92 nodes. O(1); the same instance on every call.

    Example: ``gpu_dsa().graph.node("l0.ln1").supported == {"gpu", "cpu"}``.
    """
    d, seq, batch, vocab, layers = 2048, 512, 16, 30522, 10
    tokens = seq * batch
    net = _Builder()
    x = net.add("embed", "embedding", tokens * d, tokens * d, (), vocab * d, moved=2.0 * tokens * d * ELEMENT_BYTES)
    x = _decoder_layers(net, x, layers, d, tokens, seq)
    net.add("ln_f", "norm", 5 * tokens * d, tokens * d, (x,), 2 * d)
    hardware = (
        Hardware("gpu", count=2, link_bandwidth=32e9, link_latency=5e-6, **_A100),
        Hardware("dsa", count=2, **_DSA),
        Hardware("cpu", count=1, **_XEON),
    )
    return _inference("gpu_dsa", net.ops, hardware)


def two_servers() -> Instance:
    """Four NVIDIA A100 40GB GPUs in two servers joined by a slow network, and a CPU
    socket in the first server, training a ResNet-50-style CNN (one step).

    Devices: ``local`` (2 x A100 in the first server) and ``remote`` (2 x A100 in
    the second server): each class's own link is NVLink 3 (300 GB/s each way, 2 us
    per transfer), used between the two GPUs of one server; ``cpu`` (1 x Intel Xeon
    Platinum 8380 socket, in the first server, pays no communication).
    Class-pair links (docs/formats.md, "Links between classes and devices"):
    ``local``-``remote`` and ``remote``-``cpu`` are 100 Gb/s Ethernet (12.5 GB/s,
    10 us per transfer); ``local``-``cpu`` is PCIe 4.0 x16 (32 GB/s, 5 us). So a
    transfer between the two servers costs both GPUs the network's rate, and one
    inside a server the NVLink rate.

    Model: a ResNet-50-style network at batch 64 on 224 x 224 images: a 7 x 7 stem,
    a max pool, 16 bottleneck blocks in stages of 3, 4, 6, 3 (1 x 1, 3 x 3, 1 x 1
    convolutions, each with its batch norm and ReLU; a 1 x 1 projection on the
    first block of a stage), an average pool, a 1000-way classifier and the loss:
    73 forward operators, each with a backward twin, 146 nodes. Each bottleneck
    block (its convolutions, projection, addition and their backward twins) is one
    colour class, as pipeline systems cut between blocks; every other operator is
    its own class with its twin. The colour classes then form a chain (21 of them;
    each skip connection stays inside a block), so the ideal DP applies despite the
    pairwise links (``placement_ilp.dp.chain``). O(1); the same instance on every
    call.

    Example: ``two_servers().graph.is_training is True``.
    """
    batch, side = 64, 56
    net = _Builder()
    colour: dict[str, str] = {}
    # the stem reads the images, which are on no device of the model: its bytes moved count them
    stem_flops = 2 * batch * 112 * 112 * 3 * 64 * 7 * 7
    x = net.add("stem", "conv", stem_flops, batch * 64 * 112 * 112, (), 3 * 64 * 7 * 7,
                moved=(batch * 3 * 224 * 224 + batch * 64 * 112 * 112 + 3 * 64 * 49) * ELEMENT_BYTES)
    x = net.add("maxpool", "pool", 9 * batch * 64 * side * side, batch * 64 * side * side, (x,))
    channels = 64
    for stage, (blocks, mid, width) in enumerate(((3, 64, 256), (4, 128, 512), (6, 256, 1024), (3, 512, 2048))):
        for block in range(blocks):
            p = f"s{stage}b{block}."
            if block == 0 and stage > 0:
                side //= 2
            a = net.conv(p + "conv1", x, batch, channels, mid, 1, side)
            b = net.conv(p + "conv2", a, batch, mid, mid, 3, side)
            c = net.conv(p + "conv3", b, batch, mid, width, 1, side)
            skip = net.conv(p + "proj", x, batch, channels, width, 1, side) if block == 0 else x
            x = net.add(p + "add", "add", batch * width * side * side, batch * width * side * side, (c, skip))
            colour.update({op: p[:-1] for op in (a, b, c, x)})
            if block == 0:
                colour[skip] = p[:-1]
            channels = width
    x = net.add("avgpool", "pool", batch * channels * side * side, batch * channels, (x,))
    x = net.linear("fc", x, batch, channels, 1000)
    net.add("loss", "loss", 5 * batch * 1000, 1, (x,))
    hardware = (
        Hardware("local", count=2, link_bandwidth=300e9, link_latency=2e-6, **_A100),
        Hardware("remote", count=2, link_bandwidth=300e9, link_latency=2e-6, **_A100),
        Hardware("cpu", count=1, **_XEON),
    )
    links = (
        _link("local", "remote", 12.5e9, 10e-6),
        _link("remote", "cpu", 12.5e9, 10e-6),
        _link("local", "cpu", 32e9, 5e-6),
    )
    return _training("two_servers", net.ops, hardware, links, colour)


#: The examples by file stem.
EXAMPLES: dict[str, Callable[[], Instance]] = {
    "gpu_generations": gpu_generations,
    "gpu_dsa": gpu_dsa,
    "two_servers": two_servers,
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are InputErrors (one line, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message} (see '{self.prog} --help')")


#: GPUs per server in :func:`server_scaling`.
SERVER_SIZE = 4


def server_scaling(base: Instance, gpus: int, *, bandwidth: float = 1000.0, network: float = 100.0,
                   network_latency: float = 0.01) -> dict[str, Instance]:
    """The instances behind docs/formulations.md, "How the model grows with the
    number of devices": ``base`` (a paper-model instance: classes "acc" and "cpu")
    on ``gpus`` GPUs in servers of ``SERVER_SIZE`` and one CPU, four ways.

    - ``nolinks``: one GPU class of ``gpus`` devices;
    - ``classes``: one GPU class per server (``s0``, ``s1``, ...), no links;
    - ``servers``: the same classes and a class-pair link (the network) between
      every two servers;
    - ``devpairs``: one GPU class and a device-pair link between every two GPUs of
      different servers (the same costs as ``servers``).

    A GPU takes the accelerator's times and memory, a link of ``bandwidth`` bytes per
    time unit and no latency; the network has ``network`` and ``network_latency``;
    the CPU keeps its times and pays nothing. An edge carries ``cost * 1000`` bytes
    (the base's costs at the GPU link). Raises InputError when ``gpus`` is not a
    positive multiple of ``SERVER_SIZE``. O(variants * (nodes + edges + links)).

    Example: ``server_scaling(load_instance("base.json"), 8)["servers"]``.
    """
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus <= 0 or gpus % SERVER_SIZE:
        raise InputError(f"gpus must be a positive multiple of {SERVER_SIZE}, got {gpus!r}")
    names = base.topology.class_names
    if "acc" not in names or "cpu" not in names:
        raise InputError("server_scaling needs an instance in the paper's model (device classes acc and cpu)")
    memory = base.topology.class_of("acc").memory
    servers = [f"s{i}" for i in range(gpus // SERVER_SIZE)]

    def graph(gpu_classes: list[str]) -> OpGraph:
        nodes = []
        for n in base.graph.nodes:
            times = {c: n.times["acc"] for c in gpu_classes} if "acc" in n.supported else {}
            nodes.append(OpNode(n.id, {**times, "cpu": n.times["cpu"]}, frozenset({*times, "cpu"}), n.memory,
                                n.backward, n.color_class))
        edges = tuple(OpEdge(e.source, e.target, e.cost, e.cost * 1000) for e in base.graph.edges)
        return OpGraph(tuple(nodes), edges)

    cpu = DeviceClass("cpu", "cpu", 1, None, False)
    one = (DeviceClass("gpu", "gpu", gpus, memory, True, bandwidth, 0.0), cpu)
    per = tuple(DeviceClass(s, "gpu", SERVER_SIZE, memory, True, bandwidth, 0.0) for s in servers) + (cpu,)
    net = tuple(Link(a, b, network, network_latency) for i, a in enumerate(servers) for b in servers[i + 1:])
    pairs = tuple(Link(f"gpu:{a}", f"gpu:{b}", network, network_latency)
                  for a in range(gpus) for b in range(a + 1, gpus) if a // SERVER_SIZE != b // SERVER_SIZE)
    variants = {
        "nolinks": (Topology(one), ["gpu"]),
        "classes": (Topology(per), servers),
        "servers": (Topology(per, links=net), servers),
        "devpairs": (Topology(one, links=pairs), ["gpu"]),
    }
    return {name: Instance(graph(cls), topo, f"{name}_{gpus}") for name, (topo, cls) in variants.items()}


def write_examples(directory: str | Path, force: bool = False) -> list[Path]:
    """Write every example to ``directory/NAME.json`` in the native format.

    Creates the directory when needed; raises InputError (before writing anything)
    when it is a file, or when a file exists and ``force`` is False. O(size of the
    instances). Example: ``write_examples("instances/heterogeneous", force=True)``.
    """
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a directory")
    paths = [out / f"{name}.json" for name in EXAMPLES]
    refuse_overwrite(*paths, force=force)
    out.mkdir(parents=True, exist_ok=True)
    for path, make in zip(paths, EXAMPLES.values()):
        save_instance(make(), path, fmt="native", overwrite=True)
    return paths


def write_scaling(base_path: str | Path, directory: str | Path, force: bool = False,
                  sizes: Sequence[int] = (4, 8, 16, 32)) -> list[Path]:
    """Write :func:`server_scaling` of the instance at ``base_path`` for each size
    to ``directory/VARIANT_D.json``; refuses (before writing) to overwrite without
    ``force``. Example: ``write_scaling("base.json", "scaling")``."""
    base = load_instance(base_path)
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a directory")
    made = {out / f"{name}_{d}.json": inst for d in sizes for name, inst in server_scaling(base, d).items()}
    refuse_overwrite(*made, force=force)
    out.mkdir(parents=True, exist_ok=True)
    for path, inst in made.items():
        save_instance(inst, path, fmt="native", overwrite=True)
    return list(made)


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m placement_ilp.examples DIR [--force]``: write the examples.
    Returns 0, or 2 after a one-line ``error: ...`` on bad input."""
    parser = _Parser(prog="python3 -m placement_ilp.examples",
                     description="Write the heterogeneous example instances to DIR.")
    parser.add_argument("directory", metavar="DIR")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument("--scaling", metavar="BASE",
                        help="instead: write the device-scaling instances of docs/formulations.md "
                             "(NAME_D.json for D in 4, 8, 16, 32) made from the instance BASE")
    try:
        args = parser.parse_args(argv)
        paths = (write_examples(args.directory, args.force) if args.scaling is None
                 else write_scaling(args.scaling, args.directory, args.force))
        for path in paths:
            print(path)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or args.directory}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
