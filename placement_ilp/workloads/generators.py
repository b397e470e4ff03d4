"""Seeded generators of synthetic workloads.

``layered_dag`` makes a random layered DAG with skip connections, the shape of
many inference graphs, on the paper's topology with random times;
``training=True`` adds a mirrored backward pass whose nodes share a colour class
with their forward twins.

The other families describe the operators of a network (FLOPs, bytes,
parameters, from the layer sizes) and cost them with the cost model of
:mod:`placement_ilp.importers` on a topology (default: GPUs and a CPU socket of
the ready-made descriptions), exactly as an imported model is:

- ``transformer_encoder``: L encoder layers (separate q/k/v projections,
  attention, feed-forward network, post-norm), an embedding and a classifier;
- ``residual_cnn``: a ResNet-style CNN of residual blocks in stages;
- ``inception_like``: fork-join modules of random branches joined by a concat.

Their ``seed`` draws the jitter of every time (a factor in [1 - j, 1 + j]) and,
for ``inception_like``, the branches. Same arguments, same instance.

Every generator checks its arguments before building anything: sizes are whole
numbers >= 1, device counts whole numbers in [0, MAX_DEVICES] (not both 0 for the
default topology), and a graph of more than :data:`MAX_GENERATED_NODES`
(1,000,000) nodes is refused, naming the arguments that set its size.
"""

from __future__ import annotations

import math
import random

from ..data.checks import MAX_DEVICES, check_int
from ..errors import InputError
from ..data.graph import OpEdge, OpGraph, OpNode
from ..data.instance import Instance
from ..data.topology import PAPER_ACCELERATOR, PAPER_CPU, TOO_MANY_DEVICES, paper_topology
from ..importers.costmodel import CostTopology, OpRecord, build_instance, ready_made_topology


#: The most nodes a generator builds (a training graph counts both passes). Larger
#: graphs take minutes to build, and no method of the toolkit places them.
MAX_GENERATED_NODES = 1_000_000


def _check_sizes(**sizes: object) -> None:
    """InputError naming the first argument that is not a whole number >= 1."""
    for what, value in sizes.items():
        check_int(value, what, minimum=1)


def _check_devices(accelerators: object, cpus: object, *, need_one: bool = True) -> None:
    """InputError unless both counts are whole numbers in [0, MAX_DEVICES] and, with
    ``need_one``, not both 0 (the counts make the default topology)."""
    for what, value in (("accelerators", accelerators), ("cpus", cpus)):
        check_int(value, what, maximum=MAX_DEVICES, why_maximum=TOO_MANY_DEVICES)
    if need_one and accelerators == 0 and cpus == 0:
        raise InputError("no devices: accelerators and cpus are both 0")


def _check_node_count(nodes: int, training: bool, arguments: str) -> None:
    """InputError when the graph would have more than MAX_GENERATED_NODES nodes
    (twice ``nodes`` with ``training``); ``arguments`` names what sets its size."""
    total = nodes * (2 if training else 1)
    if total > MAX_GENERATED_NODES:
        raise InputError(f"{arguments} would make {total} nodes, more than {MAX_GENERATED_NODES}, the most a "
                         "generator builds (MAX_GENERATED_NODES)")


def layered_dag(
    layers: int = 6,
    width: int = 3,
    *,
    seed: int = 0,
    skip_probability: float = 0.2,
    unsupported_probability: float = 0.05,
    accelerators: int = 3,
    cpus: int = 1,
    memory_slack: float = 1.5,
    training: bool = False,
    name: str | None = None,
) -> Instance:
    """A random layered DAG of ``layers`` x ``width`` nodes on the paper's topology.

    Each node gets 1 to 3 inputs from the previous layer and, with
    ``skip_probability``, one more from an earlier layer. Accelerator times are
    drawn from [1, 10], CPU times are 5 to 20 times slower, communication costs are
    drawn from [0.5, 4], node memory from [1, 10] units. Each accelerator holds
    ``memory_slack`` times an equal share of the total memory. With ``training``,
    every forward node v gets a backward twin (twice its time) in v's colour class,
    with the reversed edges and an edge v -> twin.
    O(layers * width). Same arguments, same instance.

    Example: ``layered_dag(4, 2, seed=1).graph.nodes[0].id == 0``.
    """
    _check_sizes(layers=layers, width=width)
    _check_devices(accelerators, cpus)
    _check_node_count(layers * width, training, f"layers = {layers} and width = {width}")
    rng = random.Random(seed)
    grid = [[layer * width + k for k in range(width)] for layer in range(layers)]
    nodes: list[OpNode] = []
    edges: list[tuple[int, int]] = []
    cost: dict[int, float] = {}
    for layer, ids in enumerate(grid):
        for v in ids:
            acc_time = round(rng.uniform(1.0, 10.0), 3)
            supported = {PAPER_CPU}
            if rng.random() >= unsupported_probability:
                supported.add(PAPER_ACCELERATOR)
            nodes.append(
                OpNode(
                    id=v,
                    times={PAPER_CPU: round(acc_time * rng.uniform(5.0, 20.0), 3), PAPER_ACCELERATOR: acc_time},
                    supported=frozenset(supported),
                    memory=float(rng.randint(1, 10)),
                    color_class=v if training else None,
                    name=f"op{v}",
                )
            )
            cost[v] = round(rng.uniform(0.5, 4.0), 3)
            if layer > 0:
                for u in rng.sample(grid[layer - 1], rng.randint(1, min(3, width))):
                    edges.append((u, v))
                if layer > 1 and rng.random() < skip_probability:
                    edges.append((rng.choice(grid[rng.randrange(layer - 1)]), v))
    edges = sorted(set(edges))
    if training:
        offset = layers * width
        forward = list(nodes)
        for n in forward:
            twin = n.id + offset
            nodes.append(
                OpNode(
                    id=twin,
                    times={cls: round(2 * t, 3) for cls, t in n.times.items()},
                    supported=n.supported,
                    memory=n.memory,
                    backward=True,
                    color_class=n.id,
                    name=f"op{n.id}_grad",
                )
            )
            cost[twin] = cost[n.id]
        edges = edges + [(v + offset, u + offset) for u, v in edges] + [(n.id, n.id + offset) for n in forward]
    total_memory = sum(n.memory for n in nodes)
    memory = float(round(memory_slack * total_memory / max(accelerators, 1)))
    graph = OpGraph(tuple(nodes), tuple(OpEdge(u, v, cost[u]) for u, v in edges))
    label = name or f"layered_{layers}x{width}_seed{seed}{'_training' if training else ''}"
    return Instance(graph, paper_topology(accelerators, cpus, memory), label)


# -- families costed by the cost model ----------------------------------------
FAMILIES = ("layered", "transformer", "resnet", "inception")


class _Network:
    """Accumulates the operators of a synthetic network (float32 tensors)."""

    BYTES = 4

    def __init__(self) -> None:
        self.ops: list[OpRecord] = []
        self._out: dict[str, int] = {}

    def add(self, ident: str, op: str, kind: str, flops: float, out_elements: int, inputs: tuple[str, ...] = (),
            module: str = "", params: int = 0, product: float = 0.0) -> str:
        read = sum(self._out[u] for u in inputs) + params
        self.ops.append(
            OpRecord(
                id=ident, op=op, kind=kind, flops=float(flops), product_flops=float(product),
                bytes_accessed=float((read + out_elements) * self.BYTES),
                output_bytes=float(out_elements * self.BYTES), param_bytes=float(params * self.BYTES),
                inputs=tuple(dict.fromkeys(inputs)), module=module,
            )
        )
        self._out[ident] = out_elements
        return ident

    def linear(self, ident: str, x: str, rows: int, fan_in: int, fan_out: int, module: str) -> str:
        product = 2 * rows * fan_in * fan_out
        return self.add(ident, "linear", "matmul", product + rows * fan_out, rows * fan_out, (x,), module,
                        params=fan_in * fan_out + fan_out, product=product)

    def conv(self, ident: str, x: str, batch: int, cin: int, cout: int, kernel: int, size_out: int,
             module: str) -> str:
        product = 2 * batch * size_out * size_out * cout * cin * kernel * kernel
        return self.add(ident, "conv2d", "conv", product, batch * cout * size_out * size_out, (x,), module,
                        params=cout * cin * kernel * kernel, product=product)


def _costed(net: _Network, topology: "CostTopology | None", accelerators: int, cpus: int, training: bool,
            granularity: str, layer_depth: int | None, seed: int, time_jitter: float, name: str) -> Instance:
    costs = topology if topology is not None else ready_made_topology(accelerators, cpus)
    return build_instance(
        net.ops, costs, training=training, granularity=granularity, layer_depth=layer_depth,
        time_jitter=time_jitter, seed=seed, name=name,
    ).instance


def transformer_encoder(
    layers: int = 4,
    *,
    d_model: int = 256,
    heads: int = 4,
    seq: int = 128,
    batch: int = 8,
    ffn_mult: int = 4,
    vocab: int = 8192,
    classes: int = 2,
    topology: "CostTopology | None" = None,
    accelerators: int = 3,
    cpus: int = 1,
    training: bool = False,
    granularity: str = "operator",
    layer_depth: int | None = None,
    seed: int = 0,
    time_jitter: float = 0.1,
    name: str | None = None,
) -> Instance:
    """A BERT-style encoder of ``layers`` layers, costed on ``topology`` (default:
    ``accelerators`` A100 GPUs and ``cpus`` Xeon sockets).

    Operators: a token embedding; per layer, q/k/v projections (a three-way fork),
    scores, scaling, softmax, context, output projection, residual add, layer
    norm, feed-forward (linear, GELU, linear), residual add, layer norm (module
    paths ``layers.i.attn.q``, ``layers.i.ffn.1``, ...); a mean over the sequence
    and a classifier: 15 operators per layer plus 3.
    ``seed`` draws the time jitter. O(layers * device classes).

    Example: ``len(transformer_encoder(2).graph) == 33``.
    """
    _check_sizes(layers=layers, d_model=d_model, heads=heads, seq=seq, batch=batch, ffn_mult=ffn_mult,
                 vocab=vocab, classes=classes)
    if d_model % heads:
        raise InputError(f"d_model ({d_model}) must be a multiple of heads ({heads})")
    _check_devices(accelerators, cpus, need_one=topology is None)
    _check_node_count(15 * layers + 3, training, f"layers = {layers}")
    net = _Network()
    tokens, d, ffn = batch * seq, d_model, ffn_mult * d_model
    scores = batch * heads * seq * seq
    x = net.add("embed", "embedding", "embedding", 0, tokens * d, (), "embed", params=vocab * d)
    for i in range(layers):
        m = f"layers.{i}"
        q, k, v = (net.linear(f"{m}.{p}", x, tokens, d, d, f"{m}.attn.{p}") for p in ("q", "k", "v"))
        product = 2 * scores * (d // heads)
        s = net.add(f"{m}.scores", "matmul", "matmul", product, scores, (q, k), f"{m}.attn", product=product)
        s = net.add(f"{m}.scale", "mul", "elementwise", scores, scores, (s,), f"{m}.attn")
        s = net.add(f"{m}.softmax", "softmax", "softmax", 5 * scores, scores, (s,), f"{m}.attn")
        c = net.add(f"{m}.context", "matmul", "matmul", product, tokens * d, (s, v), f"{m}.attn", product=product)
        c = net.linear(f"{m}.out", c, tokens, d, d, f"{m}.attn.out")
        x = net.add(f"{m}.add1", "add", "elementwise", tokens * d, tokens * d, (x, c), m)
        x = net.add(f"{m}.norm1", "layer_norm", "norm", 7 * tokens * d, tokens * d, (x,), f"{m}.norm1", params=2 * d)
        h = net.linear(f"{m}.ffn1", x, tokens, d, ffn, f"{m}.ffn.1")
        h = net.add(f"{m}.gelu", "gelu", "elementwise", tokens * ffn, tokens * ffn, (h,), f"{m}.ffn")
        h = net.linear(f"{m}.ffn2", h, tokens, ffn, d, f"{m}.ffn.2")
        x = net.add(f"{m}.add2", "add", "elementwise", tokens * d, tokens * d, (x, h), m)
        x = net.add(f"{m}.norm2", "layer_norm", "norm", 7 * tokens * d, tokens * d, (x,), f"{m}.norm2", params=2 * d)
    x = net.add("pool", "mean", "reduction", tokens * d, batch * d, (x,), "pool")
    net.linear("classifier", x, batch, d, classes, "classifier")
    label = name or f"transformer_L{layers}_d{d_model}_seed{seed}{'_training' if training else ''}"
    return _costed(net, topology, accelerators, cpus, training, granularity, layer_depth, seed, time_jitter, label)


def residual_cnn(
    blocks: int = 6,
    *,
    blocks_per_stage: int = 2,
    channels: int = 64,
    image: int = 56,
    batch: int = 8,
    classes: int = 1000,
    topology: "CostTopology | None" = None,
    accelerators: int = 3,
    cpus: int = 1,
    training: bool = False,
    granularity: str = "operator",
    layer_depth: int | None = None,
    seed: int = 0,
    time_jitter: float = 0.1,
    name: str | None = None,
) -> Instance:
    """A ResNet-style CNN: a stem (3x3 convolution, batch norm, ReLU, 3x3 max pool
    with stride 2), ``blocks`` basic residual blocks (two 3x3 convolutions with
    batch norm; the first block of every stage after the first halves the
    resolution, doubles the channels and has a 1x1 projection shortcut, so a
    fork-join), global average pooling and a classifier. Module paths
    ``stage.s.block.b.conv1``, ... ``seed`` draws the time jitter. O(blocks).

    Example: ``len(residual_cnn(2, blocks_per_stage=1).graph) == 22``.
    """
    _check_sizes(blocks=blocks, blocks_per_stage=blocks_per_stage, channels=channels, image=image, batch=batch,
                 classes=classes)
    _check_devices(accelerators, cpus, need_one=topology is None)
    _check_node_count(9 * blocks + 6, training, f"blocks = {blocks}")
    net = _Network()
    size, c = image, channels
    # the stem reads the image, which no operator produces: no inputs
    product = 2 * batch * size * size * c * 3 * 9
    x = net.add("stem.conv", "conv2d", "conv", product, batch * c * size * size, (), "stem.conv",
                params=c * 27, product=product)
    x = net.add("stem.bn", "batch_norm", "norm", 4 * batch * c * size * size, batch * c * size * size, (x,),
                "stem.bn", params=4 * c)
    x = net.add("stem.relu", "relu", "elementwise", batch * c * size * size, batch * c * size * size, (x,), "stem")
    size = math.ceil(size / 2)
    x = net.add("stem.pool", "max_pool2d", "pool", 9 * batch * c * size * size, batch * c * size * size, (x,),
                "stem.pool")
    for b in range(blocks):
        stage, index = divmod(b, blocks_per_stage)
        m = f"stage.{stage}.block.{index}"
        down = stage > 0 and index == 0
        cin = c
        if down:
            c, size = 2 * c, math.ceil(size / 2)
        n = batch * c * size * size
        y = net.conv(f"{m}.conv1", x, batch, cin, c, 3, size, f"{m}.conv1")
        y = net.add(f"{m}.bn1", "batch_norm", "norm", 4 * n, n, (y,), f"{m}.bn1", params=4 * c)
        y = net.add(f"{m}.relu1", "relu", "elementwise", n, n, (y,), m)
        y = net.conv(f"{m}.conv2", y, batch, c, c, 3, size, f"{m}.conv2")
        y = net.add(f"{m}.bn2", "batch_norm", "norm", 4 * n, n, (y,), f"{m}.bn2", params=4 * c)
        shortcut = x
        if down:
            shortcut = net.conv(f"{m}.proj", x, batch, cin, c, 1, size, f"{m}.shortcut.conv")
            shortcut = net.add(f"{m}.proj_bn", "batch_norm", "norm", 4 * n, n, (shortcut,), f"{m}.shortcut.bn",
                               params=4 * c)
        y = net.add(f"{m}.add", "add", "elementwise", n, n, (y, shortcut), m)
        x = net.add(f"{m}.relu2", "relu", "elementwise", n, n, (y,), m)
    x = net.add("pool", "adaptive_avg_pool2d", "pool", batch * c * size * size, batch * c, (x,), "pool")
    net.linear("fc", x, batch, c, classes, "fc")
    label = name or f"resnet_b{blocks}_c{channels}_seed{seed}{'_training' if training else ''}"
    return _costed(net, topology, accelerators, cpus, training, granularity, layer_depth, seed, time_jitter, label)


_BRANCHES = (("1x1",), ("1x1", "3x3"), ("1x1", "5x5"), ("1x1", "3x3", "3x3"), ("pool", "1x1"))


def inception_like(
    modules: int = 4,
    *,
    max_branches: int = 4,
    channels: int = 64,
    image: int = 28,
    batch: int = 8,
    classes: int = 1000,
    topology: "CostTopology | None" = None,
    accelerators: int = 3,
    cpus: int = 1,
    training: bool = False,
    granularity: str = "operator",
    layer_depth: int | None = None,
    seed: int = 0,
    time_jitter: float = 0.1,
    name: str | None = None,
) -> Instance:
    """Fork-join modules in the style of Inception: a stem (3x3 convolution, ReLU,
    max pool), then ``modules`` modules, each forking its input into 2 to
    ``max_branches`` branches drawn with ``seed`` (a 1x1 convolution; 1x1 then 3x3;
    1x1 then 5x5; 1x1 then two 3x3; 3x3 max pool then 1x1; every convolution
    followed by a ReLU, with 16 to 64 x ``channels``/64 output channels drawn per
    branch) joined by a concat; a 2x2 max pool halves the resolution after every
    second module; global average pooling and a classifier close it. Module
    paths ``mixed.i.branch.j.k``. O(modules * max_branches).

    Example: ``inception_like(2, seed=1).graph.is_training is False``.
    """
    _check_sizes(modules=modules, max_branches=max_branches, channels=channels, image=image, batch=batch,
                 classes=classes)
    if max_branches < 2:
        raise InputError(f"max_branches must be >= 2 for a fork, got {max_branches}")
    _check_devices(accelerators, cpus, need_one=topology is None)
    # a module: at most max_branches branches of 6 operators, a concat and a pool
    _check_node_count(modules * (6 * max_branches + 2) + 5, training,
                      f"modules = {modules} and max_branches = {max_branches}")
    rng = random.Random(seed)
    net = _Network()
    size, c = image, channels
    n = batch * c * size * size
    product = 2 * n * 3 * 9
    x = net.add("stem.conv", "conv2d", "conv", product + n, n, (), "stem.conv", params=c * 27 + c, product=product)
    x = net.add("stem.relu", "relu", "elementwise", n, n, (x,), "stem")
    size = math.ceil(size / 2)
    n = batch * c * size * size
    x = net.add("stem.pool", "max_pool2d", "pool", 9 * n, n, (x,), "stem.pool")
    for i in range(modules):
        ends: list[str] = []
        widths: list[int] = []
        for j in range(rng.randint(2, max_branches)):
            shape = rng.choice(_BRANCHES)
            width = max(1, rng.choice((16, 32, 48, 64)) * channels // 64)
            y, cin = x, c
            for k, layer in enumerate(shape):
                m = f"mixed.{i}.branch.{j}.{k}"
                if layer == "pool":
                    y = net.add(f"{m}.pool", "max_pool2d", "pool", 9 * batch * cin * size * size,
                                batch * cin * size * size, (y,), m)
                    continue
                kernel = int(layer[0])
                y = net.conv(f"{m}.conv", y, batch, cin, width, kernel, size, m)
                out = batch * width * size * size
                y = net.add(f"{m}.relu", "relu", "elementwise", out, out, (y,), m)
                cin = width
            ends.append(y)
            widths.append(cin)
        c = sum(widths)
        n = batch * c * size * size
        x = net.add(f"mixed.{i}.concat", "cat", "copy", 0, n, tuple(ends), f"mixed.{i}")
        if i % 2 == 1 and i + 1 < modules:
            size = math.ceil(size / 2)
            n = batch * c * size * size
            x = net.add(f"mixed.{i}.pool", "max_pool2d", "pool", 4 * n, n, (x,), f"reduce.{i}")
    x = net.add("pool", "adaptive_avg_pool2d", "pool", batch * c * size * size, batch * c, (x,), "pool")
    net.linear("fc", x, batch, c, classes, "fc")
    label = name or f"inception_m{modules}_b{max_branches}_seed{seed}{'_training' if training else ''}"
    return _costed(net, topology, accelerators, cpus, training, granularity, layer_depth, seed, time_jitter, label)
