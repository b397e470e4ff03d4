"""PyTorch import: ``torch.export`` a module with a sample input, count FLOPs, cost it.

Needs the optional extra ``torch`` (``pip install "placement-ilp[torch]"``).

The module is exported with ``torch.export.export`` (so shapes come from the
sample input, and every operator of the exported graph carries the module path it
was called from). Each ATen operator becomes an :class:`OpRecord`:

- layout operators (views, reshapes, transposes, permutes, slices, selects,
  ``contiguous``, ``clone``, ``getitem``, eval-mode dropout, ...) do no arithmetic;
  they are folded into the operator that produced their input, so their consumers
  read that operator's output;
- computations that do not depend on the model's inputs (on parameters or
  constants alone, such as a batch-norm step counter) are left out;
- every other operator is counted with the formulas of
  :mod:`placement_ilp.importers.flops`; an operator they do not know is an
  error, unless ``unknown_ops="elementwise"`` counts it as one FLOP per output
  element.

``measure=True`` also runs the exported graph on the CPU, operator by operator,
and keeps each operator's median time (layout operators' time added to their
producer's), which :func:`~placement_ilp.importers.costmodel.build_instance` uses
for the CPU classes.
"""

from __future__ import annotations

import dataclasses
import operator
import os
import re
import statistics
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import InputError
from .costmodel import CostTopology, ImportedModel, OpRecord, build_instance, check_unknown_ops
from .flops import (
    BATCH_NORM_INFERENCE_FLOPS_PER_ELEMENT,
    NORM_FLOPS_PER_ELEMENT,
    RMS_NORM_FLOPS_PER_ELEMENT,
    SOFTMAX_FLOPS_PER_ELEMENT,
    attention_flops,
    conv_flops,
    einsum_flops,
    matmul_flops,
    norm_flops,
    numel,
    pool_flops,
)



def require_torch():
    """The ``torch`` module, or InputError telling how to install it (the ``torch`` extra).
    O(1) once imported. Example: ``require_torch().__version__``."""
    try:
        import torch
    except ImportError:
        raise InputError('importing a PyTorch model needs torch: pip install "placement-ilp[torch]"') from None
    return torch


# Operators that only change how a tensor is seen or laid out: folded into their producer.
_LAYOUT = frozenset({
    "view", "_unsafe_view", "reshape", "transpose", "t", "permute", "unsqueeze", "squeeze", "select",
    "slice", "expand", "expand_as", "unflatten", "flatten", "alias", "detach", "unbind", "split",
    "split_with_sizes", "chunk", "tensor_split", "narrow", "view_as", "as_strided", "lift_fresh_copy",
    "contiguous", "clone", "movedim", "swapaxes", "squeeze_copy", "unsqueeze_copy", "view_copy",
    "permute_copy", "transpose_copy", "t_copy", "expand_copy", "alias_copy", "identity",
    "_assert_tensor_metadata", "dropout_eval",
})

_ELEMENTWISE = frozenset({
    "add", "sub", "mul", "div", "rsub", "neg", "relu", "relu6", "leaky_relu", "gelu", "silu", "sigmoid",
    "tanh", "hardtanh", "hardswish", "hardsigmoid", "elu", "selu", "celu", "mish", "softplus", "exp",
    "exp2", "expm1", "log", "log2", "log1p", "sqrt", "rsqrt", "pow", "abs", "clamp", "clamp_min",
    "clamp_max", "clip", "maximum", "minimum", "where", "masked_fill", "erf", "reciprocal", "sin", "cos",
    "square", "eq", "ne", "lt", "gt", "le", "ge", "logical_and", "logical_or", "logical_not", "floor",
    "ceil", "round", "sign", "lerp", "addcmul", "addcdiv", "dropout", "prelu", "glu", "tril", "triu",
    "bitwise_and", "bitwise_or", "bitwise_not", "fmod", "remainder", "floor_divide", "true_divide",
    "native_dropout", "threshold", "logit", "hardshrink", "softshrink", "sgn", "isnan", "nan_to_num",
})

_COPY = frozenset({
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "pad", "constant_pad_nd",
    "reflection_pad1d", "reflection_pad2d", "replication_pad1d", "replication_pad2d", "_to_copy", "to",
    "type_as", "copy", "repeat", "tile", "zeros_like", "ones_like", "full_like", "empty_like", "roll",
    "flip", "index_put", "scatter", "scatter_add", "masked_scatter", "new_zeros", "new_ones", "new_full",
    "new_empty", "fill", "repeat_interleave", "upsample_nearest2d", "pixel_shuffle", "channel_shuffle",
})

_EMBEDDING = frozenset({"embedding", "index_select", "gather", "index", "take", "embedding_bag"})

_REDUCTION = frozenset({
    "mean", "sum", "amax", "amin", "max", "min", "var", "std", "var_mean", "std_mean", "prod", "norm",
    "linalg_vector_norm", "logsumexp", "argmax", "argmin", "cumsum", "cumprod", "all", "any", "topk",
    "sort", "argsort",
})

_SOFTMAX = frozenset({"softmax", "_softmax", "log_softmax", "_log_softmax", "_safe_softmax"})

_ATTENTION = frozenset({
    "scaled_dot_product_attention", "_scaled_dot_product_flash_attention_for_cpu",
    "_scaled_dot_product_efficient_attention", "_scaled_dot_product_flash_attention",
    "_scaled_dot_product_attention_math", "_scaled_dot_product_cudnn_attention",
})

_CONV = frozenset({
    "conv1d", "conv2d", "conv3d", "convolution", "_convolution", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "mkldnn_convolution", "_slow_conv2d_forward",
})

_MATMUL = frozenset({"linear", "matmul", "mm", "bmm", "addmm", "baddbmm", "einsum", "addmv", "mv", "dot", "vdot"})

_NORM = frozenset({
    "layer_norm", "native_layer_norm", "group_norm", "native_group_norm", "instance_norm", "rms_norm",
    "_fused_rms_norm", "batch_norm", "native_batch_norm", "_native_batch_norm_legit",
    "_native_batch_norm_legit_no_training", "_native_batch_norm_legit_functional", "cudnn_batch_norm",
    "_batch_norm_impl_index", "_batch_norm_with_update", "_batch_norm_no_update",
})

_POOL = frozenset({
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "avg_pool1d", "avg_pool2d", "avg_pool3d",
})
_ADAPTIVE_POOL = frozenset({
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "_adaptive_avg_pool2d",
    "_adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
})


def _op_name(target: Any) -> str | None:
    """The bare operator name of an FX call target: "linear" for ``aten.linear.default``,
    "add" for the in-place ``aten.add_.Tensor``; "getitem" for ``operator.getitem``."""
    if target is operator.getitem:
        return "getitem"
    packet = getattr(target, "_overloadpacket", None)
    name = getattr(packet, "__name__", None) or getattr(target, "__name__", None)
    if not isinstance(name, str):
        return None
    name = name.split(".")[-1]
    if name.endswith("_") and not name.startswith("_") and name[:-1]:
        name = name[:-1]
    return name


def _tensors(value: Any) -> list:
    torch = require_torch()
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def _shape(value: Any, where: str) -> tuple[int, ...]:
    try:
        return tuple(int(d) for d in value.shape)
    except (TypeError, ValueError):
        raise InputError(
            f"{where}: the shape {tuple(value.shape)} is symbolic; export with static shapes (no dynamic_shapes)"
        ) from None


def _nbytes(value: Any, where: str) -> int:
    return sum(numel(_shape(t, where)) * t.dtype.itemsize for t in _tensors(value))


def _arg(node: Any, index: int, name: str, default: Any = None) -> Any:
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def _val(x: Any) -> Any:
    """The example value of an FX node argument (a fake tensor), or ``x`` itself."""
    meta = getattr(x, "meta", None)
    return meta.get("val") if isinstance(meta, dict) else x


def _ints(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    return tuple(int(v) for v in value)


def _module_path(node: Any) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    entry = list(stack.values())[-1]
    path = entry[0] if isinstance(entry, (tuple, list)) else str(entry)
    return "" if path in ("", "L['self']") else str(path)


def count_node(name: str, node: Any) -> tuple[str, float, float] | None:
    """(kind, FLOPs, product FLOPs) of one exported ATen operator, from the example
    values of its arguments and output; ``None`` when the operator is unknown.

    Example: ``aten.linear`` on a (16, 32) input with a (64, 32) weight and a bias:
    ("matmul", 2*16*64*32 + 16*64, 2*16*64*32). O(rank of the tensors).
    """
    where = f"node {node.name!r}"
    out_val = node.meta.get("val")
    outs = _tensors(out_val)
    out_shape = _shape(outs[0], where) if outs else ()
    out_n = numel(out_shape) if outs else 0

    def shape_of(x: Any) -> tuple[int, ...]:
        return _shape(_val(x), where)

    if name in _MATMUL:
        if name == "linear":
            w = shape_of(_arg(node, 1, "weight"))
            product = 2 * out_n * w[-1]
            bias = _arg(node, 2, "bias") is not None
            return "matmul", product + (out_n if bias else 0), product
        if name in ("addmm", "baddbmm"):
            a, b = shape_of(node.args[1]), shape_of(node.args[2])
            product = matmul_flops(a, b, out_shape)
            return "matmul", product + out_n, product
        if name == "einsum":
            equation = node.args[0]
            operands = [shape_of(t) for t in node.args[1]]
            product = einsum_flops(equation, operands)
            return None if product is None else ("matmul", product, product)
        if name == "addmv":
            a = shape_of(node.args[1])
            product = 2 * out_n * a[-1]
            return "matmul", product + out_n, product
        a = shape_of(node.args[0])
        product = matmul_flops(a, (), out_shape)
        return "matmul", product, product
    if name in _CONV:
        x, w = shape_of(node.args[0]), shape_of(node.args[1])
        transposed = name.startswith("conv_transpose") or (
            name in ("convolution", "_convolution") and bool(_arg(node, 6, "transposed", False))
        )
        product = conv_flops(x, w, out_shape, transposed)
        bias = _arg(node, 2, "bias") is not None
        return "conv", product + (out_n if bias else 0), product
    if name in _ATTENTION:
        q, k, v = (shape_of(node.args[i]) for i in range(3))
        product, other = attention_flops(q, k, v)
        if name == "scaled_dot_product_attention" and _arg(node, 3, "attn_mask") is not None:
            other += numel(q[:-1]) * k[-2]  # the mask is added to every score
        return "attention", product + other, product
    if name in _NORM:
        x = shape_of(node.args[0])
        if name in ("rms_norm", "_fused_rms_norm"):
            return "norm", norm_flops(x, _arg(node, 2, "weight") is not None, False, RMS_NORM_FLOPS_PER_ELEMENT), 0
        if name in ("layer_norm", "native_layer_norm"):
            return "norm", norm_flops(x, _arg(node, 2, "weight") is not None, _arg(node, 3, "bias") is not None), 0
        if name in ("group_norm", "native_group_norm"):
            offset = 1 if name == "native_group_norm" else 2
            scale, shift = _arg(node, offset, "weight") is not None, _arg(node, offset + 1, "bias") is not None
            return "norm", norm_flops(x, scale, shift), 0
        if name == "instance_norm":
            return "norm", norm_flops(x, _arg(node, 1, "weight") is not None, _arg(node, 2, "bias") is not None), 0
        # batch norm: statistics are computed only in training mode
        if name == "_native_batch_norm_legit_no_training" or name == "_batch_norm_no_update":
            training = False
        elif name in ("batch_norm", "native_batch_norm", "cudnn_batch_norm", "_batch_norm_impl_index",
                      "_native_batch_norm_legit", "_native_batch_norm_legit_functional"):
            training = bool(_arg(node, 5, "training", False))
        else:
            training = True
        per = NORM_FLOPS_PER_ELEMENT if training else BATCH_NORM_INFERENCE_FLOPS_PER_ELEMENT
        scale, shift = _arg(node, 1, "weight") is not None, _arg(node, 2, "bias") is not None
        return "norm", norm_flops(x, scale, shift, per), 0
    if name in _SOFTMAX:
        return "softmax", SOFTMAX_FLOPS_PER_ELEMENT * out_n, 0
    if name in _POOL:
        rank = int(re.search(r"(\d)d", name).group(1))
        kernel = _ints(_arg(node, 1, "kernel_size"), rank)
        return "pool", pool_flops(out_shape, kernel), 0
    if name in _ADAPTIVE_POOL:
        return "pool", numel(shape_of(node.args[0])), 0
    if name in _REDUCTION:
        return "reduction", numel(shape_of(node.args[0])), 0
    if name in _ELEMENTWISE:
        return "elementwise", out_n, 0
    if name in _EMBEDDING:
        return "embedding", 0, 0
    if name in _COPY:
        return "copy", 0, 0
    return None


def export_model(model: Any, example_inputs: Sequence[Any], training: bool = False) -> Any:
    """``torch.export.export`` the module on ``example_inputs`` in eval mode (train
    mode with ``training``), restoring its mode afterwards. Export failures become an
    InputError with the exporter's first line. Cost: one traced run of the model.

    Example: ``export_model(torch.nn.Linear(4, 2), (torch.randn(3, 4),)).graph``.
    """
    torch = require_torch()
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"expected a torch.nn.Module, got {type(model).__name__}")
    inputs = tuple(example_inputs) if isinstance(example_inputs, (list, tuple)) else (example_inputs,)
    was_training = model.training
    model.train(training)
    try:
        return torch.export.export(model, inputs)
    except Exception as exc:  # the exporter raises many types; one line is what the user needs
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"torch.export could not trace the model: {first}") from None
    finally:
        model.train(was_training)


def ops_from_program(program: Any, unknown_ops: str = "error") -> tuple[list[OpRecord], dict[str, str]]:
    """The operators of an ``ExportedProgram`` as OpRecords, in graph order, and the
    map from every exported node name to the operator it was folded into (or itself).

    Raises InputError for an operator the FLOP formulas do not know (unless
    ``unknown_ops="elementwise"``) and for symbolic shapes. O(nodes).

    Example: ``ops_from_program(torch.export.export(torch.nn.Linear(4, 2), (torch.randn(3, 4),)))[0][0].op == "linear"``.
    """
    require_torch()
    from torch.export.graph_signature import InputKind

    check_unknown_ops(unknown_ops)
    kinds = {spec.arg.name: spec for spec in program.graph_signature.input_specs if hasattr(spec.arg, "name")}
    # value of each FX node: ("op", id) | ("param", target) | ("input", None) | ("const", None)
    value: dict[str, tuple[str, str | None]] = {}
    owner: dict[str, str] = {}
    records: list[OpRecord] = []
    attributed: set[str] = set()
    for node in program.graph.nodes:
        if node.op == "placeholder":
            spec = kinds.get(node.name)
            if spec is None or spec.kind == InputKind.USER_INPUT:
                value[node.name] = ("input", None)
            elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
                value[node.name] = ("param", spec.target or node.name)
            else:
                value[node.name] = ("const", None)
            continue
        if node.op != "call_function":
            continue
        args = [a for a in node.all_input_nodes]
        arg_values = [value.get(a.name, ("const", None)) for a in args]
        name = _op_name(node.target)
        if name is None:
            raise InputError(f"node {node.name!r}: cannot read the operator {node.target!r}")
        if name == "dropout" and not bool(_arg(node, 2, "train", False)):
            name = "dropout_eval"
        data = [v for v in arg_values if v[0] in ("op", "input")]
        if name in _LAYOUT or name == "getitem":
            value[node.name] = arg_values[0] if arg_values else ("const", None)
            if arg_values and arg_values[0][0] == "op":
                owner[node.name] = arg_values[0][1]
            continue
        if not data:
            value[node.name] = ("const", None)  # depends on parameters or constants only
            continue
        out_val = node.meta.get("val")
        if not _tensors(out_val):
            continue  # a shape or an assertion: no tensor, no work
        counted = count_node(name, node)
        where = f"node {node.name!r} ({node.target}, module {_module_path(node) or '<top>'})"
        if counted is None:
            if unknown_ops == "error":
                raise InputError(
                    f"{where}: unsupported operator {name!r} (the FLOP formulas do not know it; "
                    "--unknown-ops elementwise counts it as one FLOP per output element)"
                )
            counted = ("elementwise", numel(_shape(_tensors(out_val)[0], where)), 0)
        kind, flops, product = counted
        params = 0
        read = 0
        for a, v in zip(args, arg_values):
            nb = _nbytes(a.meta.get("val"), where)
            read += nb
            if v[0] == "param" and v[1] not in attributed:
                attributed.add(v[1])
                params += nb
        out_bytes = _nbytes(out_val, where)
        dtype = str(_tensors(out_val)[0].dtype).replace("torch.", "")
        inputs = tuple(dict.fromkeys(v[1] for v in arg_values if v[0] == "op"))
        records.append(
            OpRecord(
                id=node.name, op=name, kind=kind, flops=float(flops), product_flops=float(product),
                bytes_accessed=float(read + out_bytes), output_bytes=float(out_bytes), param_bytes=float(params),
                inputs=inputs, module=_module_path(node), dtype=dtype,
            )
        )
        value[node.name] = ("op", node.name)
        owner[node.name] = node.name
    return records, owner


def _program_inputs(program: Any, user_inputs: Sequence[Any]) -> list:
    """The flat argument list of the exported graph module: lifted parameters,
    buffers and constants in signature order, with the user's inputs in their places."""
    torch = require_torch()
    from torch.export.graph_signature import InputKind

    user = list(user_inputs)
    args = []
    for spec in program.graph_signature.input_specs:
        if spec.kind == InputKind.USER_INPUT:
            if not user:
                raise InputError("the sample input has fewer tensors than the exported program takes")
            args.append(user.pop(0))
        elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
            tensor = program.state_dict.get(spec.target)
            if tensor is None:
                tensor = program.constants.get(spec.target)
            if tensor is None:
                raise InputError(f"the exported program has no value for {spec.target!r}")
            args.append(tensor.detach().clone() if isinstance(tensor, torch.Tensor) else tensor)
        else:
            raise InputError(f"cannot run an exported program with a {spec.kind.name} input")
    return args


def measure_cpu_seconds(program: Any, user_inputs: Sequence[Any], repeats: int = 5,
                        threads: int | None = 1) -> dict[str, float]:
    """Median wall time (s) of every operator node of the exported graph, run on the
    CPU one node at a time by an FX interpreter (one warm-up run, then ``repeats``),
    with ``threads`` intra-op threads (default 1: one core, the paper's CPU device;
    ``None`` keeps PyTorch's setting). The times include PyTorch's per-operator
    dispatch, as eager execution does. Cost: ``repeats + 1`` runs of the model.

    Example: ``measure_cpu_seconds(ep, (x,), repeats=3)["linear"] > 0``.
    """
    torch = require_torch()
    if repeats < 1:
        raise InputError(f"repeats must be >= 1, got {repeats}")
    args = _program_inputs(program, user_inputs)
    samples: dict[str, list[float]] = {}

    class _Timed(torch.fx.Interpreter):
        def run_node(self, n):  # noqa: ANN001 - FX's signature
            if n.op != "call_function":
                return super().run_node(n)
            start = time.perf_counter()
            out = super().run_node(n)
            samples.setdefault(n.name, []).append(time.perf_counter() - start)
            return out

    gm = program.graph_module
    before = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise InputError(f"threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            for _ in range(repeats + 1):
                _Timed(gm).run(*args)
    finally:
        torch.set_num_threads(before)
    return {k: statistics.median(v[1:]) for k, v in samples.items()}


def import_torch(
    model: Any,
    example_inputs: Sequence[Any] | None,
    topology: CostTopology,
    *,
    training: bool = False,
    granularity: str = "operator",
    layer_depth: int | None = None,
    measure: bool = False,
    measure_classes: Iterable[str] | None = None,
    repeats: int = 5,
    threads: int | None = 1,
    unknown_ops: str = "error",
    name: str = "model",
) -> ImportedModel:
    """Import a ``torch.nn.Module`` (traced on ``example_inputs``) or an
    ``ExportedProgram`` (its own shapes; ``example_inputs`` only for ``measure``)
    as a costed instance on ``topology``.

    ``training`` adds the backward pass (see :func:`build_instance`); the module is
    exported in train mode then, in eval mode otherwise. ``measure`` times every
    operator on this machine's CPU and uses those times for ``measure_classes``
    (default: every class of kind "cpu"), running ``threads`` threads (see
    :func:`measure_cpu_seconds`). Cost: one export, O(nodes) counting,
    and ``repeats + 1`` runs of the model when measuring.

    Example::

        model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 8))
        imported = import_torch(model, (torch.randn(4, 32),), ready_made_topology(2, 1))
        imported.total_flops   # 2*4*32*64 + 4*64 + 4*64 + 2*4*64*8 + 4*8
    """
    torch = require_torch()
    if isinstance(model, torch.nn.Module):
        if example_inputs is None:
            raise InputError("importing a torch.nn.Module needs a sample input")
        program = export_model(model, example_inputs, training=training)
    elif hasattr(model, "graph_signature") and hasattr(model, "graph"):
        program = model
    else:
        raise InputError(f"expected a torch.nn.Module or an ExportedProgram, got {type(model).__name__}")
    records, owner = ops_from_program(program, unknown_ops)
    notes = []
    classes: list[str] = []
    if measure:
        if example_inputs is None:
            example_inputs = _stored_inputs(program)
        inputs = example_inputs if isinstance(example_inputs, (list, tuple)) else (example_inputs,)
        flat = [t for t in _flatten(inputs)]
        seconds = measure_cpu_seconds(program, flat, repeats, threads)
        per_op: dict[str, float] = {}
        for node_name, s in seconds.items():
            if node_name in owner:
                per_op[owner[node_name]] = per_op.get(owner[node_name], 0.0) + s
        records = [dataclasses.replace(r, measured_seconds=per_op.get(r.id, 0.0)) for r in records]
        classes = list(measure_classes) if measure_classes is not None else [
            c.name for c in topology.topology.classes if c.kind == "cpu"
        ]
        if not classes:
            raise InputError("measuring CPU times needs a device class of kind 'cpu' in the topology")
        total = sum(per_op.values())
        used = threads if threads is not None else torch.get_num_threads()
        notes.append(f"measured on this CPU ({used} thread{'s' if used != 1 else ''}): {total * 1e3:.4g} ms per "
                     f"forward pass, used for class(es) {', '.join(classes)}")
    return build_instance(
        records, topology, training=training, granularity=granularity, layer_depth=layer_depth,
        measured_classes=classes, name=name, notes=notes,
    )


def _flatten(inputs: Sequence[Any]) -> list:
    import torch.utils._pytree as pytree

    return list(pytree.tree_leaves(tuple(inputs)))


def _stored_inputs(program: Any) -> tuple:
    stored = getattr(program, "example_inputs", None)
    if not stored:
        raise InputError("measuring needs a sample input, and the exported program stores none")
    args, kwargs = stored
    if kwargs:
        raise InputError("measuring an exported program whose sample input has keyword arguments is not supported")
    return tuple(args)


def load_torch_model(path: str | os.PathLike) -> tuple[Any, tuple | None]:
    """Read a model file: ``.pt2`` (``torch.export.save``; returns the program and
    its stored sample input) or ``.py`` (a Python file run as a script that defines
    ``model``, a ``torch.nn.Module``, and ``example_inputs``, a tensor or a tuple of
    them). Errors, including an exception in the file, become one InputError line.
    Cost: loading or running the file.

    Example: ``model, inputs = load_torch_model("tiny_transformer.py")``.
    """
    torch = require_torch()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    if p.suffix == ".pt2":
        try:
            program = torch.export.load(str(p))
        except Exception as exc:
            raise InputError(f"{p}: not a torch.export program ({type(exc).__name__}: {_first_line(exc)})") from None
        stored = getattr(program, "example_inputs", None)
        return program, (tuple(stored[0]) if stored else None)
    if p.suffix == ".py":
        import runpy

        try:
            namespace = runpy.run_path(str(p), run_name="__placement_ilp_import__")
        except SystemExit:
            raise InputError(f"{p}: the file called exit() while being run") from None
        except Exception as exc:
            raise InputError(f"{p}: running it failed ({type(exc).__name__}: {_first_line(exc)})") from None
        model = namespace.get("model")
        inputs = namespace.get("example_inputs")
        if not isinstance(model, torch.nn.Module):
            raise InputError(f"{p}: the file must define 'model', a torch.nn.Module")
        if inputs is None:
            raise InputError(f"{p}: the file must define 'example_inputs', a tensor or a tuple of tensors")
        return model, (tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,))
    raise InputError(f"{p}: a PyTorch model file must be .pt2 (torch.export.save) or .py")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
