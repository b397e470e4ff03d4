"""The builder interface and the registry of formulations.

A builder turns an :class:`~placement_ilp.data.instance.Instance` into a solver-neutral
:class:`~placement_ilp.milp.model.Model`, and turns a solution vector back into a
:class:`~placement_ilp.data.placement.Placement`. A user's own builder subclasses
:class:`Builder` and is registered with :func:`register` (or passed as a class to
``placement_ilp.solve``); nothing in the package needs editing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable

import numpy as np

from placement_ilp.errors import InputError
from placement_ilp.data.instance import Instance
from placement_ilp.milp.model import Model
from placement_ilp.data.placement import Placement


class Builder(ABC):
    """One formulation of one instance. Subclasses set ``name`` and implement
    :meth:`build` and :meth:`decode`; :meth:`encode` (a MIP start) is optional."""

    name: str = "builder"
    #: what the objective measures: "maxload" (the max-load objectives) or "latency";
    #: the solve scores the decoded placement with the evaluator of that kind.
    kind: str = "maxload"

    def __init__(self, instance: Instance, **options) -> None:
        self.instance = instance
        self.options = options
        self.model: Model | None = None
        #: HiGHS options this formulation needs to be solved correctly (given to
        #: HiGHS by ``Problem.solve``; other backends ignore them).
        self.highs_options: dict = {}

    @abstractmethod
    def build(self) -> Model:
        """Build and return the model (also kept as ``self.model``)."""

    @abstractmethod
    def decode(self, values: np.ndarray) -> Placement:
        """The placement that a full column vector ``values`` encodes."""

    def encode(self, placement: Placement) -> np.ndarray | None:
        """A full column vector for ``placement`` (a MIP start), or None if this
        formulation cannot represent it."""
        return None


_REGISTRY: dict[str, type[Builder]] = {}


def register(name: str) -> Callable[[type[Builder]], type[Builder]]:
    """Class decorator: make a builder available as ``formulation=name``.

    Example::

        @register("my-maxload")
        class MyMaxLoad(MaxLoad): ...
    """

    def deco(cls: type[Builder]) -> type[Builder]:
        if not (isinstance(cls, type) and issubclass(cls, Builder)):
            raise TypeError(f"{cls!r} is not a Builder subclass")
        _REGISTRY[name] = cls
        cls.name = name
        return cls

    return deco


def get_builder(name: str | type[Builder]) -> type[Builder]:
    """The builder class registered as ``name`` (a Builder subclass passes through)."""
    if isinstance(name, type) and issubclass(name, Builder):
        return name
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown formulation {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def available() -> list[str]:
    """Names of the registered formulations."""
    return sorted(_REGISTRY)
