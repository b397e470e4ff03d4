"""ONNX import: hand-built graphs counted exactly, symbolic dimensions, rejected
operators; and the tests' PyTorch models exported to ONNX, which must import,
solve exactly and give total FLOPs within 1% of the PyTorch import.
Skipped without the 'onnx' extra (the export tests also need 'torch')."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx", reason="ONNX import needs the 'onnx' extra: pip install '.[onnx]'")

import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from placement_ilp import InputError, evaluate, solve  # noqa: E402
from placement_ilp.cli import main  # noqa: E402
from placement_ilp.importers import import_model, ready_made_topology  # noqa: E402
from placement_ilp.importers.onnx_import import import_onnx, ops_from_onnx  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TOPOLOGY = REPO / "instances" / "topologies" / "a100x4-xeon.json"


def _init(name: str, *shape: int):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def _mlp(batch: int | str = "batch", extra_nodes=(), names=None) -> onnx.ModelProto:
    """X[batch,16] -MatMul-> +b -> Relu -> Gemm(32->8, bias) -> Reshape -> Softmax."""
    names = names or {}
    nodes = [
        helper.make_node("MatMul", ["X", "W1"], ["h"], name=names.get("mm", "mm")),
        helper.make_node("Add", ["h", "B1"], ["h2"], name=names.get("add", "add")),
        helper.make_node("Relu", ["h2"], ["h3"], name=names.get("relu", "relu")),
        helper.make_node("Gemm", ["h3", "W2", "B2"], ["y"], name=names.get("gemm", "gemm")),
        helper.make_node("Reshape", ["y", "shape"], ["z"], name="reshape"),
        helper.make_node("Softmax", ["z"], ["out"], axis=-1, name=names.get("softmax", "softmax")),
        *extra_nodes,
    ]
    inits = [_init("W1", 16, 32), _init("B1", 32), _init("W2", 32, 8), _init("B2", 8),
             numpy_helper.from_array(np.array([-1, 8], dtype=np.int64), "shape")]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [batch, 16])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_hand_built_graph_counts_exactly():
    ops = ops_from_onnx(_mlp(), dims={"batch": 4})
    assert [(op.id, op.kind) for op in ops] == [
        ("mm", "matmul"), ("add", "elementwise"), ("relu", "elementwise"), ("gemm", "matmul"), ("softmax", "softmax")]
    flops = {op.id: op.flops for op in ops}
    assert flops == {"mm": 2 * 4 * 16 * 32, "add": 4 * 32, "relu": 4 * 32, "gemm": 2 * 4 * 32 * 8 + 4 * 8,
                     "softmax": 5 * 4 * 8}
    assert {op.id: op.product_flops for op in ops}["gemm"] == 2 * 4 * 32 * 8
    # the reshape is folded: the softmax reads the gemm's output
    assert {op.id: op.inputs for op in ops}["softmax"] == ("gemm",)
    params = {op.id: op.param_bytes for op in ops}
    assert params == {"mm": 16 * 32 * 4, "add": 32 * 4, "relu": 0, "gemm": (32 * 8 + 8) * 4, "softmax": 0}
    assert {op.id: op.output_bytes for op in ops}["mm"] == 4 * 32 * 4


def test_symbolic_dimensions_must_be_fixed():
    with pytest.raises(InputError, match="--dim batch=SIZE"):
        ops_from_onnx(_mlp())
    assert ops_from_onnx(_mlp(batch=3))[0].flops == 2 * 3 * 16 * 32


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (helper.make_node("Hardmax", ["out"], ["d"], name="hardmax"), "unsupported operator 'Hardmax'"),
        (helper.make_node("FusedThing", ["out"], ["d"], domain="com.example", name="fused"), "domain 'com.example'"),
    ],
)
def test_unknown_operators_are_rejected_naming_the_node(node, message):
    model = _mlp(batch=2, extra_nodes=[node])
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    with pytest.raises(InputError, match=f"node '{node.name}'.*{message}"):
        ops_from_onnx(model)


def test_unknown_operator_counted_elementwise_on_request():
    model = _mlp(batch=2, extra_nodes=[helper.make_node("Hardmax", ["out"], ["d"], name="hardmax")])
    ops = ops_from_onnx(model, unknown_ops="elementwise")
    hardmax = next(op for op in ops if op.id == "hardmax")
    assert hardmax.kind == "elementwise" and hardmax.flops == 2 * 8 and hardmax.inputs == ("softmax",)


def test_control_flow_is_rejected():
    then = helper.make_graph([helper.make_node("Identity", ["out"], ["t"])], "then", [],
                             [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    cond = numpy_helper.from_array(np.array(True), "cond")
    model = _mlp(batch=2, extra_nodes=[
        helper.make_node("If", ["cond"], ["r"], then_branch=then, else_branch=then, name="branch")])
    model.graph.initializer.append(cond)
    with pytest.raises(InputError, match="control flow"):
        ops_from_onnx(model)


def test_module_paths_from_node_names_give_layer_classes():
    names = {"mm": "/enc/fc1/MatMul", "add": "/enc/fc1/Add", "relu": "/enc/Relu", "gemm": "/head/Gemm",
             "softmax": "/Softmax"}
    imported = import_onnx(_mlp(batch=2, names=names), ready_made_topology(2, 1), granularity="layer")
    g = imported.instance.graph
    assert [op.module for op in imported.ops] == ["enc.fc1", "enc.fc1", "enc", "head", ""]
    assert g.node("/enc/fc1/MatMul").color_class == g.node("/enc/fc1/Add").color_class == "enc.fc1"
    assert g.node("/Softmax").color_class is None


def test_onnx_file_through_import_model_and_cli(tmp_path, capsys):
    path = tmp_path / "mlp.onnx"
    onnx.save(_mlp(), str(path))
    imported = import_model(path, ready_made_topology(2, 1), dims={"batch": 4})
    assert imported.total_flops == 4096 + 128 + 128 + 2080 + 160
    out = tmp_path / "mlp.json"
    assert main(["import", str(path), "--topology", str(TOPOLOGY), "-o", str(out), "--dim", "batch=4"]) == 0
    assert main(["solve", str(out), "--method", "dp"]) == 0
    assert main(["import", str(path), "--topology", str(TOPOLOGY), "-o", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dim batch=SIZE" in err[0]
    assert main(["import", str(path), "--topology", str(TOPOLOGY), "-o", str(tmp_path / "x.json"),
                 "--dim", "batch"]) == 2
    with pytest.raises(InputError, match="PyTorch models"):
        import_model(path, ready_made_topology(2, 1), measure=True)


# -- the PyTorch models, exported --------------------------------------------------
@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The tests' transformer and CNN, exported to ONNX once per test module."""
    torch = pytest.importorskip("torch", reason="exporting to ONNX needs the 'torch' extra")
    pytest.importorskip("onnxscript", reason="torch.onnx.export needs onnxscript (the 'onnx' extra)")
    from placement_ilp.importers.examples import tiny_cnn, tiny_transformer

    folder = tmp_path_factory.mktemp("onnx")
    out = {}
    for name, make in (("transformer", tiny_transformer), ("cnn", tiny_cnn)):
        module, inputs = make()
        path = folder / f"{name}.onnx"
        with warnings.catch_warnings():  # the exporter's own deprecation notices
            warnings.simplefilter("ignore", FutureWarning)
            torch.onnx.export(module, inputs, str(path))
        out[name] = (module, inputs, path)
    return out


@pytest.mark.parametrize("name", ["transformer", "cnn"])
def test_exported_models_match_the_pytorch_import(exported, name):
    from placement_ilp.importers.torch_import import import_torch

    module, inputs, path = exported[name]
    topology = ready_made_topology(2, 1)
    from_torch = import_torch(module, inputs, topology)
    from_onnx = import_onnx(path, topology)
    assert from_onnx.total_flops == pytest.approx(from_torch.total_flops, rel=0.01)
    assert from_onnx.product_flops == from_torch.product_flops
    assert from_onnx.param_bytes == pytest.approx(from_torch.param_bytes, rel=0.01)


@pytest.mark.parametrize("name", ["transformer", "cnn"])
@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
def test_exported_models_solve_exactly(exported, name, training):
    instance = import_onnx(exported[name][2], ready_made_topology(2, 1), training=training).instance
    dp = solve(instance, method="dp")
    milp = solve(instance, method="milp", contiguity="pipeline", time_limit=120, warm_start="none")
    assert dp.status == milp.status == "optimal"
    assert milp.objective == pytest.approx(dp.objective, rel=1e-6)
    assert evaluate(instance, milp.placement).max_load == pytest.approx(milp.objective, rel=1e-9)


def test_exported_transformer_layer_classes_follow_module_paths(exported):
    imported = import_onnx(exported["transformer"][2], ready_made_topology(2, 1), granularity="layer",
                           layer_depth=2)
    classes = {n.color_class for n in imported.instance.graph.nodes}
    assert {"embed", "blocks.0", "blocks.1", "norm", "head"} <= classes
    dp = solve(imported.instance, method="dp")
    assert dp.status == "optimal"
