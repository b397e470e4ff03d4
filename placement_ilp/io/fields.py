"""Checked access to parsed JSON, shared by the file formats; errors name the field."""

from __future__ import annotations

from typing import Any

from ..data.checks import described, shown
from ..errors import InputError


def json_object(value: Any, where: str) -> dict:
    """``value`` if it is a JSON object, else InputError."""
    if not isinstance(value, dict):
        raise InputError(f"{where} must be a JSON object, got {described(value)}")
    return value


def required(obj: Any, key: str, where: str) -> Any:
    """``obj[key]``; InputError if ``obj`` is not an object or lacks ``key``."""
    if key not in json_object(obj, where):
        raise InputError(f"{where}: missing field {key!r}")
    return obj[key]


def flag(value: Any, what: str) -> bool:
    """A boolean given as true/false or 0/1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise InputError(f"{what} must be a boolean or 0/1, got {shown(value)}")


def label(value: Any, what: str) -> str | int | None:
    """A colour class or layer id: a string, a 64-bit integer or null (booleans refused).

    Example: ``label(3, "node 1: colorClass") == 3``; a list or an object raises InputError.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63:
        return value
    raise InputError(f"{what} must be a string, a 64-bit integer or null, got {described(value)}")


def text(value: Any, what: str) -> str | None:
    """A name: a string or null. Example: ``text("conv1", "node 1: name") == "conv1"``."""
    if value is None or isinstance(value, str):
        return value
    raise InputError(f"{what} must be a string or null, got {described(value)}")


def json_list(value: Any, where: str) -> list:
    """``value`` if it is a JSON list, else InputError. Example: ``json_list([], "edges") == []``."""
    if not isinstance(value, list):
        raise InputError(f"{where} must be a list, got {described(value)}")
    return value
