"""PyTorch import: FLOPs against torch.utils.flop_counter, exact solves (DP = MILP,
evaluator agrees), training graphs, layer granularity, measured CPU times, model
files and the CLI. Skipped without the 'torch' extra."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="PyTorch import needs the 'torch' extra: pip install '.[torch]'")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from placement_ilp import InputError, evaluate, load_instance, solve  # noqa: E402
from placement_ilp.cli import main  # noqa: E402
from placement_ilp.importers import TIME_UNIT, import_model, ready_made_topology  # noqa: E402
from placement_ilp.importers.examples import tiny_cnn, tiny_transformer  # noqa: E402
from placement_ilp.importers.torch_import import import_torch  # noqa: E402
from placement_ilp.data.preprocess import contract  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TOPOLOGY = REPO / "instances" / "topologies" / "a100x4-xeon.json"
MODELS = {"transformer": tiny_transformer, "cnn": tiny_cnn}


@pytest.fixture(scope="module")
def topology():
    return ready_made_topology(gpus=2, cpus=1)


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request):
    return request.param, *MODELS[request.param]()


def _flop_counter(module, inputs) -> tuple[int, dict[str, int]]:
    with FlopCounterMode(display=False) as counter:
        module(*inputs)
    root = type(module).__name__
    per_module = {}
    for key, counts in counter.get_flop_counts().items():
        if key == "Global":
            continue
        path = "" if key == root else key[len(root) + 1:]
        per_module[path] = sum(counts.values())
    return counter.get_total_flops(), per_module


def test_flops_agree_with_torch_flop_counter_in_total_and_per_module(model, topology):
    name, module, inputs = model
    imported = import_torch(module, inputs, topology)
    total, per_module = _flop_counter(module, inputs)
    assert total > 1e6
    assert imported.product_flops == total
    ours = imported.flops_by_module(product_only=True)
    assert len(per_module) >= 5
    for path, flops in per_module.items():
        assert ours.get(path, 0.0) == flops, path
    # the other arithmetic (norms, softmax, element-wise, biases) is a few percent more
    assert total < imported.total_flops < 1.1 * total


def test_a_small_mlp_counts_by_hand(topology):
    mlp = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 8))
    imported = import_torch(mlp, (torch.randn(4, 32),), topology)
    assert [(op.op, op.module) for op in imported.ops] == [("linear", "0"), ("relu", "1"), ("linear", "2")]
    assert imported.product_flops == 2 * 4 * 32 * 64 + 2 * 4 * 64 * 8
    assert imported.total_flops == imported.product_flops + 4 * 64 + 4 * 64 + 4 * 8
    assert imported.param_bytes == 4 * (32 * 64 + 64 + 64 * 8 + 8)
    g = imported.instance.graph
    first = g.node(imported.ops[0].id)
    assert first.memory == 4 * (32 * 64 + 64)
    read = 4 * (4 * 32 + 32 * 64 + 64 + 4 * 64)
    gpu = topology.cost_of("gpu")
    expected = gpu.op_overhead + max((2 * 4 * 32 * 64 + 4 * 64) / 19.5e12, read / 1555e9)
    assert first.times["gpu"] == pytest.approx(expected / TIME_UNIT, rel=1e-5)
    assert [(e.source, e.target, e.bytes) for e in g.edges] == [
        (imported.ops[0].id, imported.ops[1].id, 4 * 4 * 64), (imported.ops[1].id, imported.ops[2].id, 4 * 4 * 64)]


def test_parameters_are_counted_once(topology):
    module, inputs = tiny_transformer()
    imported = import_torch(module, inputs, topology)
    assert imported.param_bytes == sum(p.numel() * 4 for p in module.parameters())
    assert sum(n.memory for n in imported.instance.graph.nodes) == pytest.approx(imported.param_bytes)


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
def test_dp_and_milp_reach_the_same_optimum_and_the_evaluator_agrees(model, topology, training):
    name, module, inputs = model
    instance = import_torch(module, inputs, topology, training=training).instance
    dp = solve(instance, method="dp")
    milp = solve(instance, method="milp", contiguity="pipeline", time_limit=120, warm_start="none")
    assert dp.status == "optimal" and milp.status == "optimal"
    assert milp.objective == pytest.approx(dp.objective, rel=1e-6)
    assert milp.bound == pytest.approx(dp.objective, rel=1e-6)
    for result in (dp, milp):
        report = evaluate(instance, result.placement)
        assert report.feasible
        assert report.max_load == pytest.approx(result.objective, rel=1e-9)
    # the optimum beats the best single device
    single = min(sum(n.times[c] for n in instance.graph.nodes) for c in ("gpu", "cpu"))
    assert dp.objective < single


def test_training_graph_structure(topology):
    module, inputs = tiny_cnn()
    imported = import_torch(module, inputs, topology, training=True)
    g = imported.instance.graph
    forward = [n for n in g.nodes if not n.backward]
    assert len(forward) == len(imported.ops) == len(g) // 2
    edges = {(e.source, e.target) for e in g.edges}
    for n in forward:
        twin = g.node(f"{n.id}.grad")
        assert twin.color_class == n.color_class == n.id
        assert (n.id, twin.id) in edges
        for u in g.predecessors(n.id):
            if not g.node(u).backward:
                assert (twin.id, f"{u}.grad") in edges
    # train-mode batch norm computes statistics: more FLOPs than in eval mode
    assert imported.total_flops > import_torch(module, inputs, topology).total_flops
    assert module.training is False  # the module's mode is restored


def test_layer_granularity_groups_by_module_path(topology):
    module, inputs = tiny_transformer()
    imported = import_torch(module, inputs, topology, granularity="layer", layer_depth=2, training=True)
    g = imported.instance.graph
    classes = {n.color_class for n in g.nodes}
    assert {"embed", "blocks.0", "blocks.1", "norm", "head"} <= classes
    # the top-level add (embedding + positions) has no module: it is its own class in training
    top = [op for op in imported.ops if op.module == ""]
    assert top and all(g.node(op.id).color_class == op.id for op in top)
    assert sum(1 for n in g.nodes if n.color_class == "blocks.0") == 2 * sum(
        1 for op in imported.ops if op.module.startswith("blocks.0"))
    contract(imported.instance)  # acyclic after contraction: the DP and the MILP agree
    dp = solve(imported.instance, method="dp")
    milp = solve(imported.instance, method="milp", contiguity="pipeline", warm_start="none")
    assert milp.objective == pytest.approx(dp.objective, rel=1e-6)


def test_attention_module_flops_match_the_flop_counter_on_the_math_kernel(topology):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    class SelfAttention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(32, 4, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    module, x = SelfAttention().eval(), torch.randn(2, 8, 32)
    imported = import_torch(module, (x,), topology)
    assert "scaled_dot_product_attention" in {op.op for op in imported.ops}
    with sdpa_kernel(SDPBackend.MATH):
        total, _ = _flop_counter(module, (x,))
    assert imported.product_flops == total


def test_measured_cpu_times_feed_the_cpu_class(topology):
    module, inputs = tiny_cnn(channels=8, image=16)
    plain = import_torch(module, inputs, topology)
    measured = import_torch(module, inputs, topology, measure=True, repeats=2)
    assert any("measured on this CPU" in note for note in measured.notes)
    for op, node, before in zip(measured.ops, measured.instance.graph.nodes, plain.instance.graph.nodes):
        assert op.measured_seconds is not None and op.measured_seconds > 0
        assert node.times["cpu"] == pytest.approx(op.measured_seconds / TIME_UNIT, rel=1e-5)
        assert node.times["gpu"] == before.times["gpu"]


def test_unsupported_operator_is_an_error_unless_counted_elementwise(topology):
    class Inverse(torch.nn.Module):
        def forward(self, x):
            return torch.linalg.inv(x @ x.transpose(-1, -2) + torch.eye(4))

    x = torch.randn(2, 4, 4)
    with pytest.raises(InputError, match="unsupported operator 'linalg_inv'"):
        import_torch(Inverse(), (x,), topology)
    imported = import_torch(Inverse(), (x,), topology, unknown_ops="elementwise")
    inv = [op for op in imported.ops if op.op == "linalg_inv"]
    assert len(inv) == 1 and inv[0].flops == 2 * 4 * 4


def _docs_model(tmp_path: Path) -> Path:
    """The model defined in docs/import.md, written to a file."""
    text = (REPO / "docs" / "import.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    source = next(b for b in blocks if "example_inputs =" in b)
    path = tmp_path / "tiny_transformer.py"
    path.write_text(source)
    return path


def test_cli_imports_the_docs_model_and_solves_it(tmp_path, capsys):
    model_file = _docs_model(tmp_path)
    out = tmp_path / "tiny_transformer.json"
    assert main(["import", str(model_file), "--topology", str(TOPOLOGY), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "30 operators -> 30 nodes" in printed
    data = json.loads(out.read_text())
    assert data["format"] == "placement-ilp/instance" and data["name"] == "tiny_transformer"
    # the shipped instance is this import (roofline times do not depend on the machine)
    assert data == json.loads((REPO / "instances" / "imported" / "tiny_transformer_a100x4.json").read_text())
    instance = load_instance(out)
    assert instance.topology.num_devices == 5
    placement = tmp_path / "placement.json"
    assert main(["solve", str(out), "--method", "dp", "-o", str(placement)]) == 0
    assert main(["evaluate", str(out), str(placement)]) == 0
    assert "feasible: yes" in capsys.readouterr().out
    # refuses to overwrite; --force does
    assert main(["import", str(model_file), "--topology", str(TOPOLOGY), "-o", str(out)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    args = ["import", str(model_file), "--topology", str(TOPOLOGY), "-o", str(out), "--force", "--training",
            "--granularity", "layer", "--layer-depth", "2"]
    assert main(args) == 0
    assert load_instance(out).graph.is_training


def test_exported_program_file_imports_like_the_module(tmp_path, topology):
    module, inputs = tiny_cnn(channels=8, image=16)
    path = tmp_path / "cnn.pt2"
    torch.export.save(torch.export.export(module, inputs), str(path))
    from_file = import_model(path, topology, measure=True, repeats=1)
    direct = import_torch(module, inputs, topology)
    assert from_file.total_flops == direct.total_flops
    assert [op.module for op in from_file.ops] == [op.module for op in direct.ops]
    assert from_file.instance.name == "cnn"
    assert {(e.source, e.target) for e in from_file.instance.graph.edges} == {
        (e.source, e.target) for e in direct.instance.graph.edges}


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("import torch\nx = 1\n", ".py", "must define 'model'"),
        ("import torch\nmodel = torch.nn.Linear(2, 2)\n", ".py", "must define 'example_inputs'"),
        ("raise RuntimeError('broken on purpose')\n", ".py", "running it failed .*broken on purpose"),
        ("not a program", ".pt2", "not a torch.export program"),
        ("{}", ".txt", "unknown model file type"),
    ],
)
def test_bad_model_files_give_one_line(tmp_path, capsys, content, suffix, message):
    path = tmp_path / f"model{suffix}"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        import_model(path, ready_made_topology(1, 1))
    assert main(["import", str(path), "--topology", str(TOPOLOGY), "-o", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert not (tmp_path / "o.json").exists()


def test_a_model_torch_export_cannot_trace_is_one_input_error(topology):
    class Branchy(torch.nn.Module):
        def forward(self, x):
            return x * 2 if x.sum() > 0 else x - 1

    with pytest.raises(InputError, match="torch.export could not trace the model"):
        import_torch(Branchy(), (torch.randn(3),), topology)
    with pytest.raises(InputError, match="sample input"):
        import_torch(Branchy(), None, topology)
