"""Reading and writing instances and placements; the format is detected from content.

- ``load_instance(path)`` reads the paper's JSON or the native JSON.
- ``load_placement(path, instance)`` reads either placement format, completes an
  expert split by colour class, and checks that it names only known nodes and
  devices and leaves no node out.
- ``save_instance`` / ``save_placement`` write the paper's format when the
  topology is the paper's (unless ``fmt="native"``), the native one otherwise.
  They refuse to overwrite an existing file unless ``overwrite=True``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..data.instance import Instance
from ..data.placement import Placement, check_placement, complete_by_colour
from . import native, paper
from .files import write_atomic

__all__ = [
    "load_instance",
    "load_placement",
    "save_instance",
    "save_placement",
    "instance_from_dict",
    "instance_to_dict",
    "placement_from_dict",
    "placement_to_dict",
    "read_json",
]


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file; InputError (naming the file) if it is missing, unreadable,
    malformed, or nested more deeply than Python's parser recurses.

    Example: ``read_json("instances/default.json")["maxFPGAs"]``.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read ({exc})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{p}: nested too deeply (lists or objects inside one another deeper than "
                         "Python's JSON parser handles, about 1000 levels)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(f"{p}: not valid JSON ({exc})") from None


def _reject_constant(name: str) -> float:
    # Python's json accepts NaN and Infinity; the formats do not.
    return float(name)  # kept as a float so the field check names the field


def instance_from_dict(data: Any, name: str = "instance") -> Instance:
    """Detect the instance format of parsed JSON and build the instance."""
    if native.is_native_instance(data):
        return native.instance_from_native(data, name)
    if paper.is_paper_instance(data):
        return paper.instance_from_paper(data, name)
    if isinstance(data, dict) and ("fpgas" in data or native.is_native_placement(data)):
        raise InputError("this file is a placement, not an instance")
    raise InputError(
        "unrecognised instance format (expected the paper's JSON with 'maxFPGAs' and 'nodes', "
        f"or the native JSON with \"format\": \"{native.INSTANCE_FORMAT}\")"
    )


def instance_to_dict(instance: Instance, fmt: str = "auto") -> dict:
    """``fmt``: "paper", "native" or "auto" (paper when the topology allows it)."""
    if fmt == "auto":
        fmt = "paper" if instance.topology.is_paper() else "native"
    if fmt == "paper":
        return paper.instance_to_paper(instance)
    if fmt == "native":
        return native.instance_to_native(instance)
    raise InputError(f"unknown format {fmt!r} (paper, native or auto)")


def placement_from_dict(data: Any, instance: Instance, unlimited_cpus: bool = False) -> Placement:
    """Detect the placement format, complete it by colour class, check it against the instance."""
    if native.is_native_placement(data):
        placement = native.placement_from_native(data)
    elif paper.is_paper_placement(data):
        if not instance.topology.is_paper():
            raise InputError("a paper-format placement needs an instance on the paper's topology")
        placement = paper.placement_from_paper(data)
    elif isinstance(data, dict) and (native.is_native_instance(data) or paper.is_paper_instance(data)):
        raise InputError("this file is an instance, not a placement")
    else:
        raise InputError(
            "unrecognised placement format (expected the paper's JSON with 'fpgas' and 'cpus', "
            f"or the native JSON with \"format\": \"{native.PLACEMENT_FORMAT}\")"
        )
    placement = complete_by_colour(instance, placement)
    check_placement(instance, placement, unlimited_cpus)
    return placement


def placement_to_dict(
    instance: Instance, placement: Placement, objective: float | None = None, fmt: str = "auto"
) -> dict:
    if fmt == "auto":
        fmt = "paper" if instance.topology.is_paper() else "native"
    if fmt == "paper":
        return paper.placement_to_paper(instance, placement, objective)
    if fmt == "native":
        return native.placement_to_native(placement, objective)
    raise InputError(f"unknown format {fmt!r} (paper, native or auto)")


def load_instance(path: str | os.PathLike) -> Instance:
    """Read an instance file in either format; the name is the file's stem.

    Example: ``load_instance("instances/default.json").graph.nodes[0].id``.
    """
    p = Path(path)
    try:
        return instance_from_dict(read_json(p), name=p.stem)
    except InputError as exc:
        msg = str(exc)
        raise InputError(msg if msg.startswith(str(p)) else f"{p}: {msg}") from None


def load_placement(path: str | os.PathLike, instance: Instance, unlimited_cpus: bool = False) -> Placement:
    """Read a placement file in either format and check it against ``instance``
    (``unlimited_cpus``: any CPU index is allowed, as in the latency model)."""
    p = Path(path)
    try:
        return placement_from_dict(read_json(p), instance, unlimited_cpus)
    except InputError as exc:
        msg = str(exc)
        raise InputError(msg if msg.startswith(str(p)) else f"{p}: {msg}") from None


def _write(path: str | os.PathLike, data: dict, overwrite: bool) -> None:
    write_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n", overwrite=overwrite)


def save_instance(instance: Instance, path: str | os.PathLike, fmt: str = "auto", overwrite: bool = False) -> None:
    _write(path, instance_to_dict(instance, fmt), overwrite)


def save_placement(
    instance: Instance,
    placement: Placement,
    path: str | os.PathLike,
    objective: float | None = None,
    fmt: str = "auto",
    overwrite: bool = False,
) -> None:
    _write(path, placement_to_dict(instance, placement, objective, fmt), overwrite)
