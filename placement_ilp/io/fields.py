"""Checked access to parsed JSON, shared by the file formats; errors name the field."""

from __future__ import annotations

from typing import Any

from ..errors import InputError


def json_object(value: Any, where: str) -> dict:
    """``value`` if it is a JSON object, else InputError."""
    if not isinstance(value, dict):
        raise InputError(f"{where} must be a JSON object")
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
    raise InputError(f"{what} must be a boolean or 0/1, got {value!r}")
