"""Synthetic workload families: seeded, shaped as documented, solvable, and the
README's default instance still made byte for byte by ``layered_dag``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from placement_ilp import evaluate, load_instance, solve
from placement_ilp.cli import main
from placement_ilp.errors import InputError
from placement_ilp.workloads.generators import inception_like, layered_dag, residual_cnn, transformer_encoder
from placement_ilp.importers import parse_cost_topology
from placement_ilp.io import instance_to_dict

REPO = Path(__file__).resolve().parents[1]
GENERATED = sorted((REPO / "instances" / "generated").glob("*.json"))


def test_default_instance_is_still_made_by_layered_dag(tmp_path):
    out = tmp_path / "default.json"
    assert main(["generate", "-o", str(out), "--layers", "8", "--width", "3", "--seed", "2"]) == 0
    assert out.read_bytes() == (REPO / "instances" / "default.json").read_bytes()


def test_layered_dag_is_seeded():
    assert instance_to_dict(layered_dag(5, 3, seed=4)) == instance_to_dict(layered_dag(5, 3, seed=4))
    assert instance_to_dict(layered_dag(5, 3, seed=4)) != instance_to_dict(layered_dag(5, 3, seed=5))


def _succ(instance):
    return {n.id: instance.graph.successors(n.id) for n in instance.graph.nodes}


def test_transformer_encoder_shape_and_flops():
    layers, d, seq, batch, heads = 3, 64, 16, 2, 4
    inst = transformer_encoder(layers, d_model=d, seq=seq, batch=batch, heads=heads, time_jitter=0.0)
    g = inst.graph
    assert len(g) == 15 * layers + 3
    succ = _succ(inst)
    # the three-way fork of the q/k/v projections, joined by the scores and the context
    assert sorted(succ["embed"]) == ["layers.0.add1", "layers.0.k", "layers.0.q", "layers.0.v"]
    assert sorted(g.predecessors("layers.1.scores")) == ["layers.1.k", "layers.1.q"]
    assert sorted(g.predecessors("layers.1.context")) == ["layers.1.softmax", "layers.1.v"]
    # the q projection: 2*T*d*d FLOPs plus a bias per output, at the roofline of an A100
    tokens = batch * seq
    flops = 2 * tokens * d * d + tokens * d
    bytes_ = 4 * (tokens * d + d * d + d + tokens * d)
    expected = 5.0 + max(flops / 19.5e12, bytes_ / 1555e9) * 1e6
    assert g.node("layers.0.q").times["gpu"] == pytest.approx(expected, rel=1e-5)
    assert g.node("layers.0.q").memory == 4 * (d * d + d)
    assert g.node("layers.2.norm2").layer_id == "layers.2.norm2"


def test_families_are_seeded_by_jitter_and_structure():
    for make in (transformer_encoder, residual_cnn, inception_like):
        one, two, other = make(2, seed=1), make(2, seed=1), make(2, seed=2)
        assert instance_to_dict(one) == instance_to_dict(two), make.__name__
        assert instance_to_dict(one) != instance_to_dict(other), make.__name__
    # the inception family draws its branches from the seed, not only the times
    shapes = {len(inception_like(3, seed=s).graph) for s in range(6)}
    assert len(shapes) > 1


def test_residual_cnn_has_projection_shortcuts_at_stage_starts():
    inst = residual_cnn(4, blocks_per_stage=2, channels=8, image=16, batch=1)
    g = inst.graph
    projections = [n.id for n in g.nodes if n.id.endswith(".proj")]
    assert projections == ["stage.1.block.0.proj"]
    fork = g.predecessors("stage.1.block.0.proj")[0]
    assert sorted(g.successors(fork)) == ["stage.1.block.0.conv1", "stage.1.block.0.proj"]
    assert len(g) == 4 + 4 * 7 + 2 + 2


def test_inception_modules_fork_and_join():
    inst = inception_like(3, max_branches=4, seed=5)
    g = inst.graph
    for i in range(3):
        join = g.node(f"mixed.{i}.concat")
        assert 2 <= len(g.predecessors(join.id)) <= 4
        assert join.name == "cat"


def test_training_and_layer_granularity():
    inst = transformer_encoder(2, training=True, granularity="layer", layer_depth=2, time_jitter=0.0)
    g = inst.graph
    assert sum(n.backward for n in g.nodes) == len(g) // 2
    assert g.node("layers.0.q").color_class == g.node("layers.0.ffn2.grad").color_class == "layers.0"
    classes = {n.color_class for n in g.nodes}
    assert {"embed", "layers.0", "layers.1", "pool", "classifier"} == classes


def test_custom_topology_and_bad_sizes():
    topo = parse_cost_topology({"classes": [
        {"name": "acc", "kind": "accelerator", "count": 2, "peak_flops": 1e12, "memory_bandwidth": 1e11,
         "link_bandwidth": 1e9},
        {"name": "cpu", "kind": "cpu", "count": 1, "peak_flops": 1e11, "memory_bandwidth": 1e10}]})
    inst = residual_cnn(2, topology=topo)
    assert inst.topology.class_names == ("acc", "cpu")
    with pytest.raises(InputError, match="blocks"):
        residual_cnn(0)
    with pytest.raises(InputError, match="multiple of heads"):
        transformer_encoder(2, d_model=30, heads=4)
    with pytest.raises(InputError, match="max_branches"):
        inception_like(2, max_branches=1)


@pytest.mark.parametrize(
    "instance",
    [transformer_encoder(2, d_model=128, seq=64, seed=3, accelerators=2), residual_cnn(3, seed=3, accelerators=2),
     inception_like(2, max_branches=3, seed=3, accelerators=2),
     transformer_encoder(1, training=True, seed=3, accelerators=2)],
    ids=["transformer", "resnet", "inception", "transformer-training"],
)
def test_dp_and_milp_agree_on_generated_workloads(instance):
    dp = solve(instance, method="dp")
    milp = solve(instance, method="milp", contiguity="pipeline", time_limit=60, warm_start="none")
    assert dp.status == milp.status == "optimal"
    assert milp.objective == pytest.approx(dp.objective, rel=1e-6)
    assert evaluate(instance, milp.placement).max_load == pytest.approx(milp.objective)
    assert len({d for d in dp.placement.by_device() if dp.placement.by_device()[d]}) >= 2


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: p.name)
def test_shipped_generated_instances_load_and_solve_with_the_dp(path):
    instance = load_instance(path)
    assert len(instance.graph) >= 40
    result = solve(instance, method="dp")
    assert result.status == "optimal" and result.objective > 0


def test_cli_generates_a_costed_family(tmp_path, capsys):
    out = tmp_path / "t.json"
    args = ["generate", "--family", "transformer", "--layers", "2", "--seed", "4", "-o", str(out)]
    assert main(args) == 0
    data = json.loads(out.read_text())
    assert data["format"] == "placement-ilp/instance" and len(data["nodes"]) == 33
    assert instance_to_dict(load_instance(out)) == instance_to_dict(transformer_encoder(2, seed=4))
    assert main(args) == 2  # refuses to overwrite
    assert "refusing to overwrite" in capsys.readouterr().err
    assert main(args + ["--force", "--granularity", "layer", "--training"]) == 0
    assert load_instance(out).graph.is_training
    assert main(["generate", "--topology", str(out), "-o", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


@pytest.mark.parametrize(
    ("file", "args"),
    [
        ("transformer_L4_seed1.json", ["--family", "transformer", "--layers", "4", "--seed", "1"]),
        ("transformer_L2_seed1_training_layer.json",
         ["--family", "transformer", "--layers", "2", "--seed", "1", "--training", "--granularity", "layer"]),
        ("transformer_L4_seed1_mixed.json", ["--family", "transformer", "--layers", "4", "--seed", "1",
                                             "--topology", str(REPO / "instances/topologies/mixed-a100-v100-xeon.json")]),
        ("resnet_b6_seed1.json", ["--family", "resnet", "--layers", "6", "--seed", "1"]),
        ("inception_m4_b4_seed3.json", ["--family", "inception", "--layers", "4", "--width", "4", "--seed", "3"]),
        ("layered_10x4_seed7_training.json",
         ["--family", "layered", "--layers", "10", "--width", "4", "--seed", "7", "--training"]),
    ],
)
def test_shipped_generated_instances_are_remade_by_their_commands(tmp_path, file, args):
    out = tmp_path / file
    assert main(["generate", *args, "-o", str(out)]) == 0
    assert out.read_bytes() == (REPO / "instances" / "generated" / file).read_bytes()
