"""Checks of input values, and the limits the rest of the toolkit relies on.

Every loader, data-model constructor and public entry point validates its input
through these few functions, so bad input always ends in one
:class:`~placement_ilp.errors.InputError` whose message names the field or the
argument and shows the value (shortened), never in a traceback from deep inside.

Limits:

- :data:`MAX_VALUE` (1e13): the largest absolute value of any number of an
  instance (times, memory sizes and capacities, communication costs, bytes,
  bandwidths, latencies), and of each total over the graph that a model uses as
  one coefficient or bound (:meth:`placement_ilp.data.instance.Instance.check_totals`:
  the times on a class, the memory, the transfer times). HiGHS refuses a model
  with a coefficient of 1e15 or more (its ``large_matrix_value``), a colour
  group's coefficient is the sum over its nodes, and big-M values reach the sum
  of all times; a double keeps about 16 digits, so beyond 1e13 the solvers'
  absolute tolerances (1e-6 to 1e-9) are below the rounding of the data.
  Scale the units instead (milliseconds for seconds, MB for bytes); the
  paper's workloads stay below 2e10.
- :data:`MAX_DEVICES` (4096): the most devices of one class, and of a whole
  topology. Every method enumerates devices (one column per node and device in
  the MILP, a device-count state in the DPs); the paper's workloads use 22 at most.

Example::

    >>> check_number(2.5, "node 3: size")
    2.5
    >>> check_int(3.0, "maxFPGAs", maximum=MAX_DEVICES)
    3
"""

from __future__ import annotations

import math
from ..errors import InputError

#: The largest absolute value of a number in an instance, and of the totals over
#: its graph (see the module docstring).
MAX_VALUE = 1e13

#: The most devices of one class, and in one topology (see the module docstring).
MAX_DEVICES = 4096

_SHOWN_CHARACTERS = 60


def shown(value: object) -> str:
    """``repr(value)`` cut to about 60 characters, for error messages (a hostile
    file may hold a huge list where a number belongs). O(len(repr)).

    Example: ``shown("x" * 100)`` ends with ``'...'``.
    """
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # deeply nested, or an int too long to print
        text = f"<{type(value).__name__}>"
    if len(text) > _SHOWN_CHARACTERS:
        text = text[: _SHOWN_CHARACTERS - 3] + "..."
    return text


def described(value: object) -> str:
    """The type name and the shortened value, e.g. ``str 'path.json'``."""
    return f"{type(value).__name__} {shown(value)}"


def check_number(
    value: object,
    argument: str,
    *,
    minimum: float | None = 0.0,
    greater_than: float | None = None,
    maximum: float | None = MAX_VALUE,
    allow_none: bool = False,
) -> float | None:
    """``value`` as a float, or InputError naming ``argument``.

    Refused: booleans, anything that is not an int or a float (strings too), NaN,
    infinities, values below ``minimum`` (None: no minimum), values not above
    ``greater_than`` (None: no such bound), and values whose absolute value
    exceeds ``maximum`` (:data:`MAX_VALUE` by default; None: no maximum). None is
    returned as None when ``allow_none``. O(1).

    Example::

        >>> check_number(1e17, "node 3: size")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        placement_ilp.errors.InputError: node 3: size = 1e+17 is larger than 1e+13, the largest number ...
        >>> check_number(None, "time_limit", greater_than=0, maximum=None, allow_none=True) is None
        True
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{argument} must be a number, got {described(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond the range of floats
        raise InputError(f"{argument} = {shown(value)} is beyond the range of floating-point numbers; "
                         "scale the units") from None
    if math.isnan(number):
        raise InputError(f"{argument} is NaN; it must be a finite number")
    if math.isinf(number):
        raise InputError(f"{argument} is infinite; it must be a finite number")
    if minimum is not None and number < minimum:
        if minimum == 0:
            raise InputError(f"{argument} is negative ({shown(value)}); it must be >= 0")
        raise InputError(f"{argument} = {shown(value)} is below the minimum {minimum:g}")
    if greater_than is not None and number <= greater_than:
        if greater_than == 0:
            raise InputError(f"{argument} must be positive, got {shown(value)}")
        raise InputError(f"{argument} must be greater than {greater_than:g}, got {shown(value)}")
    if maximum is not None and abs(number) > maximum:
        beyond = f"larger than {maximum:g}" if number > 0 else f"below {-maximum:g}"
        raise InputError(f"{argument} = {number:g} is {beyond}, the largest number the solvers represent "
                         "exactly enough; scale the units")
    return number


def check_int(
    value: object,
    argument: str,
    *,
    minimum: int | None = 0,
    maximum: int | None = None,
    why_maximum: str = "",
    allow_none: bool = False,
) -> int | None:
    """``value`` as an int, or InputError naming ``argument``.

    Accepted: ints and floats with a whole value (JSON writes ``3.0`` for 3).
    Refused: booleans, strings and other types, NaN, infinities, fractions, values
    below ``minimum`` or above ``maximum`` (None: unbounded; ``why_maximum`` ends
    the message then). None is returned as None when ``allow_none``. O(1).

    Example::

        >>> check_int(1e9, "maxFPGAs", maximum=MAX_DEVICES, why_maximum="the most devices of a class")
        Traceback (most recent call last):
        ...
        placement_ilp.errors.InputError: maxFPGAs = 1000000000.0 is larger than 4096, the most devices of a class
    """
    if value is None and allow_none:
        return None
    whole = None
    if isinstance(value, int) and not isinstance(value, bool):
        whole = value
    elif isinstance(value, float) and value.is_integer():
        whole = int(value)
    lowest = "" if minimum is None else f" >= {minimum}"
    if whole is None:
        raise InputError(f"{argument} must be a whole number{lowest}, got {described(value)}")
    if minimum is not None and whole < minimum:
        raise InputError(f"{argument} must be a whole number{lowest}, got {shown(value)}")
    if maximum is not None and whole > maximum:
        tail = f", {why_maximum}" if why_maximum else ""
        raise InputError(f"{argument} = {shown(value)} is larger than {maximum}{tail}")
    return whole


def check_bool(value: object, argument: str) -> bool:
    """``value`` if it is True or False, else InputError naming ``argument``. O(1).

    Example: ``check_bool(True, "overlap")`` is True; ``check_bool("yes", "overlap")`` raises.
    """
    if not isinstance(value, bool):
        raise InputError(f"{argument} must be True or False, got {described(value)}")
    return value
