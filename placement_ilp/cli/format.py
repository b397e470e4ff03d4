"""Numbers as the command line prints them."""

from __future__ import annotations


def num(x: float | None) -> str:
    """``x`` in 6 significant digits, "-" for None. Example: ``num(1/3) == "0.333333"``."""
    return "-" if x is None else f"{x:.6g}"
