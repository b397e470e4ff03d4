"""Seeded generators of synthetic workloads on the paper's topology.

``layered_dag`` makes a random layered DAG with skip connections, the shape of
many inference graphs; ``training=True`` adds a mirrored backward pass whose
nodes share a colour class with their forward twins.
"""

from __future__ import annotations

import random

from .errors import InputError
from .graph import OpEdge, OpGraph, OpNode
from .instance import Instance
from .topology import PAPER_ACCELERATOR, PAPER_CPU, paper_topology


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
    if layers < 1 or width < 1:
        raise InputError(f"layers and width must be >= 1, got {layers} and {width}")
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
