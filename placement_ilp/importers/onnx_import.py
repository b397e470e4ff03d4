"""ONNX import: operators, shapes by ONNX shape inference, FLOPs, the same cost model.

Needs the optional extra ``onnx`` (``pip install "placement-ilp[onnx]"``).

Every node of the main graph becomes an :class:`OpRecord` counted with the formulas
of :mod:`placement_ilp.importers.flops`, as the PyTorch importer does:

- layout operators (Reshape, Transpose, Squeeze, Unsqueeze, Flatten, Identity,
  Expand, Slice, Split, Dropout, and Gather with a constant index into an
  activation, which is how a ``select`` exports) are folded into the operator
  that produced their input;
- Constant, Shape, Size and every node that depends on initializers and constants
  alone are left out (constant work);
- the module path of a node (for ``--granularity layer``) is read from the
  ``pkg.torch.onnx.name_scopes`` metadata that ``torch.onnx.export`` writes, or
  else from a node name of the form ``/encoder/layer.0/attn/MatMul``;
- symbolic dimensions (``batch``, ``sequence``...) must be fixed with ``dims``
  (``--dim batch=1``); control flow (If, Loop, Scan) and operators of other
  domains are rejected, naming the node.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any, Mapping

from ..errors import InputError
from .costmodel import CostTopology, ImportedModel, OpRecord, build_instance, check_unknown_ops
from .flops import (
    BATCH_NORM_INFERENCE_FLOPS_PER_ELEMENT,
    NORM_FLOPS_PER_ELEMENT,
    RMS_NORM_FLOPS_PER_ELEMENT,
    SOFTMAX_FLOPS_PER_ELEMENT,
    conv_flops,
    einsum_flops,
    matmul_flops,
    norm_flops,
    numel,
    pool_flops,
)


_LAYOUT = frozenset({
    "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Identity", "Expand", "Slice", "Split",
    "Dropout", "SplitToSequence",
})
_CONSTANT = frozenset({"Constant", "Shape", "Size", "ConstantOfShape", "Range", "EyeLike", "RandomNormal",
                       "RandomUniform", "RandomNormalLike", "RandomUniformLike"})
_CONTROL = frozenset({"If", "Loop", "Scan", "SequenceMap"})
_ELEMENTWISE = frozenset({
    "Add", "Sub", "Mul", "Div", "Neg", "Relu", "LeakyRelu", "PRelu", "Gelu", "Sigmoid", "Tanh",
    "HardSigmoid", "HardSwish", "Elu", "Selu", "Celu", "Mish", "Softplus", "Softsign", "Exp", "Log",
    "Sqrt", "Reciprocal", "Pow", "Abs", "Clip", "Max", "Min", "Sum", "Mean", "Where", "Erf", "Sin",
    "Cos", "Tan", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or",
    "Xor", "Floor", "Ceil", "Round", "Sign", "Mod", "IsNaN", "IsInf", "Trilu", "ThresholdedRelu",
    "Shrink", "BitwiseAnd", "BitwiseOr", "BitwiseNot", "BitwiseXor",
})
_COPY = frozenset({
    "Concat", "Pad", "Cast", "CastLike", "Tile", "Resize", "Upsample", "ScatterND", "ScatterElements",
    "DepthToSpace", "SpaceToDepth", "OneHot", "ReverseSequence", "Compress", "NonZero",
})
_EMBEDDING = frozenset({"Gather", "GatherElements", "GatherND"})
_REDUCTION = frozenset({
    "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", "ArgMax", "ArgMin", "CumSum", "TopK",
    "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool",
})
_FORMULAS = frozenset({
    "MatMul", "Gemm", "Einsum", "Conv", "ConvTranspose", "Softmax", "LogSoftmax", "LayerNormalization",
    "GroupNormalization", "InstanceNormalization", "RMSNormalization", "SimplifiedLayerNormalization",
    "BatchNormalization", "MaxPool", "AveragePool", "LpPool",
})
_KNOWN = _FORMULAS | _REDUCTION | _ELEMENTWISE | _EMBEDDING | _COPY


def require_onnx():
    """The ``onnx`` module, or InputError telling how to install it (the ``onnx`` extra).
    O(1) once imported. Example: ``require_onnx().__version__``."""
    try:
        import onnx
    except ImportError:
        raise InputError('importing an ONNX model needs onnx: pip install "placement-ilp[onnx]"') from None
    return onnx


def load_onnx(path: str | os.PathLike) -> Any:
    """Read an ONNX file (with its external data, if any); one-line InputError when
    it is missing or not ONNX. Cost: reading the file.

    Example: ``load_onnx("model.onnx").graph.node[0].op_type``.
    """
    onnx = require_onnx()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    try:
        return onnx.load(str(p))
    except Exception as exc:
        raise InputError(f"{p}: not an ONNX model ({type(exc).__name__}: {_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _fix_dims(model: Any, dims: Mapping[str, int]) -> None:
    """Replace the symbolic dimensions of the graph inputs named in ``dims`` by sizes."""
    for value in model.graph.input:
        for d in value.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param in dims:
                d.dim_value = int(dims[d.dim_param])


def _module_path(node: Any) -> str:
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                break
            if isinstance(scopes, list) and len(scopes) >= 2:
                return str(scopes[-2])
            return ""
    if node.name.startswith("/"):
        parts = [p for p in node.name.split("/")[1:-1] if p]
        return ".".join(parts)
    return ""


def _attr(node: Any, name: str, default: Any = None) -> Any:
    onnx = require_onnx()
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def ops_from_onnx(model: Any, dims: Mapping[str, int] | None = None, unknown_ops: str = "error") -> list[OpRecord]:
    """The operators of an ONNX ``ModelProto`` as OpRecords, in graph order.

    Shapes come from ONNX shape inference after fixing the symbolic dimensions
    named in ``dims``. Raises InputError for a shape left unknown, control flow,
    another domain's operator, or an operator the FLOP formulas do not know
    (unless ``unknown_ops="elementwise"``). O(nodes + initializers).

    Example: ``sum(op.flops for op in ops_from_onnx(load_onnx("model.onnx")))``.
    """
    onnx = require_onnx()
    check_unknown_ops(unknown_ops)
    model_copy = onnx.ModelProto()
    model_copy.CopyFrom(model)
    _fix_dims(model_copy, dims or {})
    try:
        inferred = onnx.shape_inference.infer_shapes(model_copy, strict_mode=False, data_prop=True)
    except Exception as exc:
        raise InputError(f"ONNX shape inference failed: {_first_line(exc)}") from None
    graph = inferred.graph

    types: dict[str, tuple[tuple | None, int]] = {}

    def remember(value: Any) -> None:
        tt = value.type.tensor_type
        if not tt.elem_type:
            return
        shape = None
        if tt.HasField("shape"):
            shape = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tt.shape.dim)
        types[value.name] = (shape, tt.elem_type)

    for value in list(graph.input) + list(graph.value_info) + list(graph.output):
        remember(value)
    params: dict[str, int] = {}
    for init in graph.initializer:
        types[init.name] = (tuple(init.dims), init.data_type)
        params[init.name] = numel(init.dims) * _itemsize(init.data_type)

    def shape_of(name: str, where: str) -> tuple[int, ...]:
        shape = types.get(name, (None, 0))[0]
        if shape is None or any(not isinstance(d, int) or d <= 0 for d in shape):
            symbolic = [d for d in (shape or ()) if not isinstance(d, int)]
            hint = (f"; fix the symbolic dimension {symbolic[0]!r} with --dim {symbolic[0]}=SIZE"
                    if symbolic and symbolic[0] != "?" else "")
            raise InputError(f"{where}: the shape of tensor {name!r} is unknown after shape inference{hint}")
        return tuple(int(d) for d in shape)

    def nbytes(name: str, where: str) -> int:
        return numel(shape_of(name, where)) * _itemsize(types[name][1])

    # value of each tensor: ("op", id) | ("param", name) | ("input", None) | ("const", None)
    value: dict[str, tuple[str, str | None]] = {}
    initializer_names = set(params)
    for v in graph.input:
        if v.name not in initializer_names:
            value[v.name] = ("input", None)
    for name in initializer_names:
        value[name] = ("param", name)

    records: list[OpRecord] = []
    attributed: set[str] = set()
    used_ids: set[str] = set()
    for index, node in enumerate(graph.node):
        node_id = node.name if node.name and node.name not in used_ids else f"{node.op_type}_{index}"
        while node_id in used_ids:
            node_id += "_"
        where = f"node {node_id!r} ({node.op_type})"
        if node.domain not in ("", "ai.onnx"):
            if unknown_ops == "error":
                raise InputError(f"{where}: operator of domain {node.domain!r} is not supported")
        if node.op_type in _CONTROL:
            raise InputError(f"{where}: control flow is not supported; export the model without it")
        inputs = [x for x in node.input if x]
        in_values = [value.get(x, ("const", None)) for x in inputs]
        outputs = [x for x in node.output if x]
        data = [v for v in in_values if v[0] in ("op", "input")]
        op = node.op_type
        if op in _CONSTANT or not data:
            for out in outputs:
                value[out] = ("const", None)
            continue
        fold = op in _LAYOUT or (
            op == "Gather" and in_values[0][0] in ("op", "input") and len(inputs) > 1
            and in_values[1][0] in ("const", "param") and types.get(inputs[1], ((None,), 0))[0] == ()
        )
        if fold:
            for out in outputs:
                value[out] = in_values[0]
            continue
        counted = _count(node, inputs, outputs, where, shape_of)
        if counted is None:
            if unknown_ops == "error":
                raise InputError(
                    f"{where}: unsupported operator {op!r} (the FLOP formulas do not know it; "
                    "--unknown-ops elementwise counts it as one FLOP per output element)"
                )
            counted = ("elementwise", numel(shape_of(outputs[0], where)), 0)
        kind, flops, product = counted
        param_bytes = 0
        read = 0
        for name, v in zip(inputs, in_values):
            if v[0] == "const" and name not in types:
                continue
            nb = nbytes(name, where)
            read += nb
            if v[0] == "param" and v[1] not in attributed:
                attributed.add(v[1])
                param_bytes += params.get(v[1], nb)
        out_bytes = sum(nbytes(o, where) for o in outputs)
        records.append(
            OpRecord(
                id=node_id, op=op, kind=kind, flops=float(flops), product_flops=float(product),
                bytes_accessed=float(read + out_bytes), output_bytes=float(out_bytes),
                param_bytes=float(param_bytes),
                inputs=tuple(dict.fromkeys(v[1] for v in in_values if v[0] == "op")),
                module=_module_path(node), dtype=_dtype_name(types[outputs[0]][1]) if outputs else "float32",
            )
        )
        used_ids.add(node_id)
        for out in outputs:
            value[out] = ("op", node_id)
    return records


def _itemsize(elem_type: int) -> int:
    onnx = require_onnx()
    try:
        return int(onnx.helper.tensor_dtype_to_np_dtype(elem_type).itemsize)
    except (KeyError, TypeError, ValueError):
        raise InputError(f"ONNX element type {elem_type} is not supported") from None


def _dtype_name(elem_type: int) -> str:
    onnx = require_onnx()
    return str(onnx.helper.tensor_dtype_to_np_dtype(elem_type).name)


def _count(node: Any, inputs: list[str], outputs: list[str], where: str, shape_of) -> tuple[str, int, int] | None:
    """(kind, FLOPs, product FLOPs) of one ONNX node; ``None`` when unknown."""
    op = node.op_type
    if op not in _KNOWN:
        return None
    out = shape_of(outputs[0], where) if outputs else ()
    out_n = numel(out)
    if op == "MatMul":
        product = matmul_flops(shape_of(inputs[0], where), (), out)
        return "matmul", product, product
    if op == "Gemm":
        a = shape_of(inputs[0], where)
        k = a[0] if _attr(node, "transA", 0) else a[1]
        product = 2 * out_n * k
        return "matmul", product + (out_n if len(inputs) > 2 else 0), product
    if op == "Einsum":
        equation = _attr(node, "equation")
        if isinstance(equation, bytes):
            equation = equation.decode()
        product = einsum_flops(equation, [shape_of(x, where) for x in inputs])
        return None if product is None else ("matmul", product, product)
    if op in ("Conv", "ConvTranspose"):
        x, w = shape_of(inputs[0], where), shape_of(inputs[1], where)
        product = conv_flops(x, w, out, transposed=op == "ConvTranspose")
        return "conv", product + (out_n if len(inputs) > 2 else 0), product
    if op in ("Softmax", "LogSoftmax"):
        return "softmax", SOFTMAX_FLOPS_PER_ELEMENT * out_n, 0
    if op == "LayerNormalization":
        return "norm", norm_flops(shape_of(inputs[0], where), len(inputs) > 1, len(inputs) > 2), 0
    if op in ("GroupNormalization", "InstanceNormalization"):
        return "norm", norm_flops(shape_of(inputs[0], where), len(inputs) > 1, len(inputs) > 2), 0
    if op in ("RMSNormalization", "SimplifiedLayerNormalization"):
        return "norm", norm_flops(shape_of(inputs[0], where), len(inputs) > 1, False, RMS_NORM_FLOPS_PER_ELEMENT), 0
    if op == "BatchNormalization":
        per = NORM_FLOPS_PER_ELEMENT if _attr(node, "training_mode", 0) else BATCH_NORM_INFERENCE_FLOPS_PER_ELEMENT
        return "norm", norm_flops(shape_of(inputs[0], where), True, True, per), 0
    if op in ("MaxPool", "AveragePool", "LpPool"):
        kernel = _attr(node, "kernel_shape")
        if kernel is None:
            return None
        return "pool", pool_flops(out, kernel), 0
    if op in _REDUCTION:
        return ("pool" if op.startswith("Global") else "reduction"), numel(shape_of(inputs[0], where)), 0
    if op in _ELEMENTWISE:
        return "elementwise", out_n, 0
    if op in _EMBEDDING:
        return "embedding", 0, 0
    if op in _COPY:
        return "copy", 0, 0
    return None


def import_onnx(
    model: Any,
    topology: CostTopology,
    *,
    training: bool = False,
    granularity: str = "operator",
    layer_depth: int | None = None,
    dims: Mapping[str, int] | None = None,
    unknown_ops: str = "error",
    name: str = "model",
) -> ImportedModel:
    """Import an ONNX model (a path or a ``ModelProto``) as a costed instance on
    ``topology``; ``training`` adds the backward pass as for PyTorch models.
    Cost: shape inference plus O(nodes) counting and costing.

    Example: ``import_onnx("tiny_cnn.onnx", load_cost_topology("topology.json")).total_flops``.
    """
    onnx = require_onnx()
    if isinstance(model, (str, os.PathLike)):
        model = load_onnx(model)
    if not isinstance(model, onnx.ModelProto):
        raise InputError(f"expected an ONNX ModelProto or a path, got {type(model).__name__}")
    records = ops_from_onnx(model, dims, unknown_ops)
    return build_instance(records, topology, training=training, granularity=granularity,
                          layer_depth=layer_depth, name=name)
