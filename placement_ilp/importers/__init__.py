"""Workloads from real models: a roofline cost model, PyTorch and ONNX import.

- :mod:`.costmodel`: operators (:class:`OpRecord`) -> costed instance on a
  topology whose device classes carry peak FLOP/s, memory bandwidth and support
  lists (:class:`CostTopology`, read by :func:`load_cost_topology`).
- :mod:`.devices`: ready-made device descriptions with datasheet figures.
- :mod:`.flops`: the FLOP formulas both importers share.
- :mod:`.torch_import` (extra ``torch``) and :mod:`.onnx_import` (extra ``onnx``).
- :func:`import_model`: a model file (``.py``, ``.pt2`` or ``.onnx``) -> instance,
  what ``placement-ilp import`` runs.

torch and onnx are imported only when a model of theirs is imported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from ..errors import InputError
from .costmodel import (
    TIME_UNIT,
    ClassCost,
    CostTopology,
    ImportedModel,
    OpRecord,
    build_instance,
    layer_keys,
    load_cost_topology,
    parse_cost_topology,
    ready_made_topology,
)
from .devices import DEVICES, DeviceSpec, device_spec

MODEL_SUFFIXES = (".py", ".pt2", ".onnx")

__all__ = [
    "DEVICES",
    "MODEL_SUFFIXES",
    "TIME_UNIT",
    "ClassCost",
    "CostTopology",
    "DeviceSpec",
    "ImportedModel",
    "OpRecord",
    "build_instance",
    "device_spec",
    "import_model",
    "layer_keys",
    "load_cost_topology",
    "parse_cost_topology",
    "ready_made_topology",
]


def import_model(
    path: str | os.PathLike,
    topology: CostTopology,
    *,
    training: bool = False,
    granularity: str = "operator",
    layer_depth: int | None = None,
    measure: bool = False,
    repeats: int = 5,
    threads: int | None = 1,
    dims: Mapping[str, int] | None = None,
    unknown_ops: str = "error",
    name: str | None = None,
) -> ImportedModel:
    """Import the model in ``path`` by its suffix: ``.py`` (a Python file defining
    ``model`` and ``example_inputs``), ``.pt2`` (``torch.export.save``) or ``.onnx``.
    ``measure`` (PyTorch only) times the operators on this CPU (``threads``
    threads) for the CPU classes;
    ``dims`` (ONNX only) fixes symbolic dimensions. The instance is named after
    the file unless ``name`` is given. Cost: one export or shape inference, O(nodes).

    Example: ``import_model("tiny_transformer.py", load_cost_topology("topology.json")).instance``.
    """
    p = Path(path)
    label = name or p.stem
    if p.suffix not in MODEL_SUFFIXES:
        raise InputError(f"{p}: unknown model file type {p.suffix!r} (one of {', '.join(MODEL_SUFFIXES)})")
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    if p.suffix == ".onnx":
        if measure:
            raise InputError("measuring operator times is available for PyTorch models (.py, .pt2) only")
        from .onnx_import import import_onnx

        return import_onnx(p, topology, training=training, granularity=granularity, layer_depth=layer_depth,
                           dims=dims, unknown_ops=unknown_ops, name=label)
    if dims:
        raise InputError("--dim fixes symbolic dimensions of ONNX models; a PyTorch model takes its sample input")
    from .torch_import import import_torch, load_torch_model

    model, inputs = load_torch_model(p)
    return import_torch(model, inputs, topology, training=training, granularity=granularity,
                        layer_depth=layer_depth, measure=measure, repeats=repeats, threads=threads, unknown_ops=unknown_ops,
                        name=label)
