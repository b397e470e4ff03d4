"""The cost model: roofline times, topology files with cost fields, FLOP formulas,
and the instance built from operator records (no torch or onnx needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from placement_ilp import InputError, evaluate, solve
from placement_ilp.cli import main
from placement_ilp.importers import (
    DEVICES,
    TIME_UNIT,
    ClassCost,
    OpRecord,
    build_instance,
    layer_keys,
    load_cost_topology,
    parse_cost_topology,
    ready_made_topology,
)
from placement_ilp.importers.flops import (
    attention_flops,
    conv_flops,
    einsum_flops,
    matmul_flops,
    norm_flops,
    pool_flops,
)
from placement_ilp.data.preprocess import contract

REPO = Path(__file__).resolve().parents[1]
TOPOLOGIES = sorted((REPO / "instances" / "topologies").glob("*.json"))


def _cls(**kw) -> ClassCost:
    base = dict(name="x", kind="gpu", peak_flops={"default": 1e12, "float16": 4e12}, memory_bandwidth=1e11)
    base.update(kw)
    return ClassCost(**base)


# -- roofline -----------------------------------------------------------------
def test_roofline_takes_the_slower_of_compute_and_memory():
    c = _cls()
    assert c.seconds(2e9, 1e6) == pytest.approx(2e-3)  # compute-bound: 2e9 / 1e12
    assert c.seconds(1e6, 1e9) == pytest.approx(1e-2)  # memory-bound: 1e9 / 1e11
    assert c.seconds(0, 0) == 0.0


def test_roofline_overhead_efficiency_and_element_type():
    c = _cls(op_overhead=5e-6, efficiency=0.5)
    assert c.seconds(2e9, 0) == pytest.approx(5e-6 + 4e-3)
    assert c.seconds(2e9, 0, "float16") == pytest.approx(5e-6 + 1e-3)  # its own peak
    assert c.seconds(2e9, 0, "int8") == pytest.approx(5e-6 + 4e-3)  # falls back to "default"
    with pytest.raises(InputError, match="no peak_flops"):
        _cls(peak_flops={"float16": 1e12}).seconds(1.0, 0, "float32")


def test_support_lists_match_names_and_kinds():
    op = OpRecord("a", "linear", "matmul", 1.0)
    assert _cls().supports(op)
    assert _cls(supported_ops=frozenset({"matmul"})).supports(op)
    assert _cls(supported_ops=frozenset({"linear"})).supports(op)
    assert not _cls(supported_ops=frozenset({"conv"})).supports(op)
    assert not _cls(unsupported_ops=frozenset({"matmul"})).supports(op)
    assert not _cls(unsupported_ops=frozenset({"linear"})).supports(OpRecord("b", "Linear", "matmul", 1.0))


# -- topology files -------------------------------------------------------------
def test_ready_made_device_fills_fields_and_the_class_overrides_them():
    ct = parse_cost_topology({"classes": [
        {"name": "gpu", "count": 2, "device": "nvidia-a100-sxm4-40gb", "memory": 1e9, "op_overhead": 1e-6},
        {"name": "cpu", "count": 1, "device": "intel-xeon-platinum-8380"},
    ]})
    gpu, cpu = ct.topology.classes
    a100 = DEVICES["nvidia-a100-sxm4-40gb"]
    assert (gpu.kind, gpu.count, gpu.memory) == ("gpu", 2, 1e9)
    assert gpu.pays_communication and gpu.bandwidth == pytest.approx(a100.link_bandwidth * TIME_UNIT)
    assert ct.cost_of("gpu").peak_for("float32") == 19.5e12
    assert ct.cost_of("gpu").memory_bandwidth == 1555e9
    assert ct.cost_of("gpu").op_overhead == 1e-6
    assert cpu.kind == "cpu" and not cpu.pays_communication and cpu.memory is None
    assert cpu.bandwidth is None


def test_link_fields_in_si_units_are_converted_to_microseconds():
    ct = parse_cost_topology({"topology": {"classes": [
        {"name": "acc", "kind": "accelerator", "count": 1, "peak_flops": 1e12, "memory_bandwidth": 1e11,
         "link_bandwidth": 8e9, "link_latency": 3e-6},
    ]}})
    acc = ct.topology.classes[0]
    assert acc.bandwidth == pytest.approx(8000.0)  # bytes per microsecond
    assert acc.latency == pytest.approx(3.0)
    native = parse_cost_topology({"classes": [
        {"name": "acc", "kind": "accelerator", "count": 1, "peak_flops": 1e12, "memory_bandwidth": 1e11,
         "bandwidth": 8000.0, "latency": 3.0},
    ]})
    assert native.topology == ct.topology


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        ({"name": "g", "kind": "gpu", "count": 1, "peak_flop": 1}, "unknown field 'peak_flop'"),
        ({"name": "g", "kind": "gpu", "count": 1, "memory_bandwidth": 1e9, "link_bandwidth": 1e9},
         "missing field 'peak_flops'"),
        ({"name": "g", "kind": "gpu", "count": 1, "peak_flops": 1e12, "memory_bandwidth": 1e11},
         "no link bandwidth"),
        ({"name": "g", "count": 1, "device": "nvidia-v100-pcie-16gb", "bandwidth": 1.0, "link_bandwidth": 1e9},
         "not both"),
        ({"name": "g", "count": 1, "device": "nvidia-v100-pcie-16gb", "efficiency": 1.5}, "efficiency"),
        ({"name": "g", "count": 1, "device": "tpu-v9"}, "unknown device 'tpu-v9'"),
        ({"name": "g", "count": 1, "peak_flops": 1e12, "memory_bandwidth": 1e11}, "missing field 'kind'"),
        ({"name": "g", "kind": "gpu", "count": 1, "device": "nvidia-v100-pcie-16gb", "peak_flops": -1}, "positive"),
        ({"name": "g", "kind": "gpu", "count": 1, "device": "nvidia-v100-pcie-16gb", "supported_ops": "matmul"},
         "supported_ops must be a list"),
        ({"name": "g:1", "kind": "gpu", "count": 1, "device": "nvidia-v100-pcie-16gb"}, "without ':'"),
    ],
)
def test_bad_topologies_are_rejected_naming_the_problem(cls, message):
    with pytest.raises(InputError, match=message):
        parse_cost_topology({"classes": [cls]})


def test_a_topology_file_error_names_the_file(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"classes": []}))
    with pytest.raises(InputError, match=r"t\.json: topology: 'classes' is empty"):
        load_cost_topology(path)
    with pytest.raises(InputError, match="no such file"):
        load_cost_topology(tmp_path / "missing.json")


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.name)
def test_shipped_topologies_load(path):
    ct = load_cost_topology(path)
    assert ct.topology.num_devices >= 2
    assert {c.name for c in ct.costs} == set(ct.topology.class_names)


# -- FLOP formulas ----------------------------------------------------------------
def test_flop_formulas_on_hand_counted_cases():
    assert matmul_flops((4, 8), (8, 5), (4, 5)) == 2 * 4 * 5 * 8
    assert matmul_flops((3, 4, 8), (8, 5), (3, 4, 5)) == 2 * 3 * 4 * 5 * 8  # broadcast batch
    assert matmul_flops((8,), (8,), ()) == 16  # a dot product
    assert conv_flops((1, 16, 8, 8), (32, 16, 3, 3), (1, 32, 8, 8)) == 2 * 64 * 32 * 16 * 9
    assert conv_flops((2, 8, 4, 4), (32, 4, 3, 3), (2, 32, 4, 4)) == 2 * 2 * 16 * 32 * 4 * 9  # 2 groups
    # transposed: the input's spatial size drives it
    assert conv_flops((1, 16, 4, 4), (16, 8, 2, 2), (1, 8, 8, 8), transposed=True) == 2 * 16 * 16 * 8 * 4
    product, other = attention_flops((2, 4, 8, 16), (2, 4, 10, 16), (2, 4, 10, 32))
    assert product == 2 * (2 * 4 * 8 * 10) * 16 + 2 * (2 * 4 * 8 * 10) * 32
    assert other == 6 * 2 * 4 * 8 * 10
    assert einsum_flops("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]) == 2 * 2 * 3 * 4 * 5
    assert einsum_flops("ij,jk,kl->il", [(2, 2), (2, 2), (2, 2)]) is None
    assert pool_flops((1, 16, 4, 4), (2, 2)) == 256 * 4
    assert norm_flops((2, 8, 32), True, True) == 7 * 512
    assert norm_flops((2, 8, 32), False, False) == 5 * 512


# -- building instances -----------------------------------------------------------
def _ops() -> list[OpRecord]:
    """x -> a (matmul, 2e9 FLOPs) -> {b, c} -> d, modules m.a / m / n / m."""
    return [
        OpRecord("a", "linear", "matmul", 2e9, 2e9, bytes_accessed=3e6, output_bytes=1e6, param_bytes=2e6,
                 module="m.a"),
        OpRecord("b", "relu", "elementwise", 1e6, bytes_accessed=2e6, output_bytes=1e6, inputs=("a",), module="m"),
        OpRecord("c", "gelu", "elementwise", 1e6, bytes_accessed=2e6, output_bytes=1e6, inputs=("a",), module="n"),
        OpRecord("d", "add", "elementwise", 1e6, bytes_accessed=3e6, output_bytes=5e5, inputs=("b", "c"),
                 module="m"),
    ]


def _topology():
    return parse_cost_topology({"classes": [
        {"name": "gpu", "kind": "gpu", "count": 2, "peak_flops": 1e13, "memory_bandwidth": 1e12,
         "link_bandwidth": 1e10, "link_latency": 1e-6, "op_overhead": 4e-6},
        {"name": "dsa", "kind": "dsa", "count": 1, "peak_flops": 1e14, "memory_bandwidth": 1e12,
         "link_bandwidth": 1e9, "supported_ops": ["matmul"]},
        {"name": "cpu", "kind": "cpu", "count": 1, "peak_flops": 1e12, "memory_bandwidth": 1e11},
    ]})


def test_build_instance_costs_nodes_and_edges():
    imported = build_instance(_ops(), _topology(), name="toy")
    g = imported.instance.graph
    a, b, d = g.node("a"), g.node("b"), g.node("d")
    # a: compute-bound on every class; times in microseconds
    assert a.times == {"gpu": pytest.approx(4 + 200), "dsa": pytest.approx(20), "cpu": pytest.approx(2000)}
    # b: memory-bound (2e6 bytes); the DSA does not run element-wise operators
    assert b.times == {"gpu": pytest.approx(4 + 2), "cpu": pytest.approx(20)}
    assert b.supported == frozenset({"gpu", "cpu"})
    assert (a.memory, b.memory, a.layer_id, b.name) == (2e6, 0.0, "m.a", "relu")
    assert {(e.source, e.target) for e in g.edges} == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}
    edge = next(e for e in g.edges if e.source == "a")
    # bytes of the source's output; cost over the slowest paying link (the DSA's 1e9 B/s)
    assert edge.bytes == 1e6 and edge.cost == pytest.approx(1e6 / 1e9 / TIME_UNIT)
    gpu = imported.instance.topology.class_of("gpu")
    assert imported.instance.comm_time("a", "gpu") == pytest.approx(1e6 / gpu.bandwidth + 1.0)
    assert imported.instance.comm_time("a", "cpu") == 0.0
    assert imported.total_flops == pytest.approx(2e9 + 3e6)
    assert imported.product_flops == pytest.approx(2e9)
    assert imported.flops_by_module() == pytest.approx({"": 2.003e9, "m": 2.002e9, "m.a": 2e9, "n": 1e6})


def test_training_adds_backward_twins_with_colour_classes_and_reversed_edges():
    ops = _ops()
    g = build_instance(ops, _topology(), training=True).instance.graph
    assert len(g) == 8 and sum(n.backward for n in g.nodes) == 4
    for op in ops:
        fw, bw = g.node(op.id), g.node(f"{op.id}.grad")
        assert bw.backward and fw.color_class == bw.color_class == op.id
        assert (op.id, f"{op.id}.grad") in {(e.source, e.target) for e in g.edges}
        # products cost twice forward in the backward pass, the rest once (bytes twice)
        ratio = 2 if op.kind == "matmul" else 1
        cpu = _topology().cost_of("cpu")
        expected = cpu.seconds(op.flops * ratio, op.bytes_accessed * 2) / TIME_UNIT
        assert bw.times["cpu"] == pytest.approx(expected, rel=1e-5)
    edges = {(e.source, e.target) for e in g.edges}
    assert {("d.grad", "b.grad"), ("d.grad", "c.grad"), ("b.grad", "a.grad"), ("c.grad", "a.grad")} <= edges
    # stashed activation on the forward node, parameter gradients on the backward one
    assert g.node("a").memory == 2e6 + 1e6 and g.node("a.grad").memory == 2e6
    # a backward node's out-edges carry the gradients of all its inputs (b and c: 1e6 each)
    assert {e.bytes for e in g.edges if e.source == "d.grad"} == {2e6}


def test_layer_keys_are_runs_of_module_paths():
    mods = ["a", "a", "", "b", "a", "a.x", "a.y"]
    ops = [OpRecord(str(i), "relu", "elementwise", 1.0, module=m) for i, m in enumerate(mods)]
    assert layer_keys(ops) == ["a", "a", None, "b", "a#2", "a.x", "a.y"]
    assert layer_keys(ops, depth=1) == ["a", "a", None, "b", "a#2", "a#2", "a#2"]


def test_layer_granularity_keeps_the_contracted_graph_acyclic():
    # module m holds b and d, with c (module n) between them: one class would be a cycle
    imported = build_instance(_ops(), _topology(), granularity="layer", training=True)
    g = imported.instance.graph
    assert g.node("b").color_class == "m" and g.node("d").color_class == "m#2"
    assert g.node("b.grad").color_class == "m"
    contracted = contract(imported.instance)
    import networkx as nx

    dag = nx.DiGraph(list(zip(contracted.fw_src.tolist(), contracted.fw_dst.tolist())))
    assert nx.is_directed_acyclic_graph(dag)
    dp = solve(imported.instance, method="dp")
    milp = solve(imported.instance, method="milp", contiguity="pipeline", warm_start="none")
    assert dp.status == milp.status == "optimal"
    assert milp.objective == pytest.approx(dp.objective, rel=1e-6)


def test_measured_times_replace_the_roofline_on_measured_classes():
    ops = [OpRecord("a", "linear", "matmul", 2e9, 2e9, measured_seconds=3e-3),
           OpRecord("b", "relu", "elementwise", 1e6, inputs=("a",), measured_seconds=1e-5)]
    g = build_instance(ops, _topology(), measured_classes=["cpu"], training=True).instance.graph
    assert g.node("a").times["cpu"] == pytest.approx(3000.0)
    assert g.node("a.grad").times["cpu"] == pytest.approx(6000.0)  # scaled like the FLOPs
    assert g.node("b.grad").times["cpu"] == pytest.approx(10.0)
    assert g.node("a").times["gpu"] == pytest.approx(204.0)  # still the roofline


def test_jitter_is_seeded():
    t = ready_made_topology(2, 1)
    one = build_instance(_ops(), t, time_jitter=0.2, seed=3).instance
    two = build_instance(_ops(), t, time_jitter=0.2, seed=3).instance
    other = build_instance(_ops(), t, time_jitter=0.2, seed=4).instance
    plain = build_instance(_ops(), t).instance
    assert one.graph == two.graph and one.graph != other.graph
    for n, p in zip(one.graph.nodes, plain.graph.nodes):
        for cls, time in n.times.items():
            assert 0.8 * p.times[cls] - 1e-9 <= time <= 1.2 * p.times[cls] + 1e-9


@pytest.mark.parametrize(
    ("ops", "options", "message"),
    [
        ([], {}, "no operators"),
        ([OpRecord("a", "relu", "elementwise", 1.0), OpRecord("a", "relu", "elementwise", 1.0)], {}, "duplicate"),
        ([OpRecord("a", "relu", "elementwise", 1.0, inputs=("z",))], {}, "not an earlier operator"),
        ([OpRecord("a", "relu", "elementwise", 1.0)], {"granularity": "block"}, "granularity"),
        ([OpRecord("a", "relu", "elementwise", 1.0)], {"measured_classes": ["tpu"]}, "unknown device class"),
    ],
)
def test_build_instance_rejects_bad_input(ops, options, message):
    with pytest.raises(InputError, match=message):
        build_instance(ops, _topology(), **options)


def test_an_operator_no_class_runs_is_an_error():
    t = parse_cost_topology({"classes": [
        {"name": "dsa", "kind": "dsa", "count": 1, "peak_flops": 1e12, "memory_bandwidth": 1e11,
         "link_bandwidth": 1e9, "supported_ops": ["conv"]}]})
    with pytest.raises(InputError, match="'b' .*supported on no device class"):
        build_instance([OpRecord("b", "relu", "elementwise", 1.0)], t)
    with pytest.raises(InputError, match="kind 'blas'"):
        OpRecord("c", "gemm", "blas", 1.0)


def test_built_instance_solves_to_one_optimum_and_the_evaluator_agrees():
    instance = build_instance(_ops(), _topology(), training=True).instance
    dp = solve(instance, method="dp")
    milp = solve(instance, method="milp", contiguity="pipeline", warm_start="none")
    assert milp.status == "optimal"
    assert milp.objective == pytest.approx(dp.objective, rel=1e-6)
    assert evaluate(instance, dp.placement).max_load == pytest.approx(dp.objective)
    # the optimum uses the fast DSA or a GPU for the product, never the slow CPU
    assert dp.placement.device_of("a").cls != "cpu"


def test_cli_import_rejects_a_bad_topology_with_one_line(tmp_path, capsys):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"")
    bad = tmp_path / "t.json"
    bad.write_text('{"classes": [{"name": "g", "kind": "gpu", "count": 1}]}')
    assert main(["import", str(model), "--topology", str(bad), "-o", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "peak_flops" in err[0]
    assert not (tmp_path / "o.json").exists()
