"""Builder classes: each turns an instance into a solver-neutral MILP and decodes solutions.

``get_builder(name)`` finds a registered builder; ``register(name)`` adds a user's own.
"""

from formulations.base import Builder, available, get_builder, register
from formulations.latency import LatencyMILP
from formulations.maxload import CONTIGUITY_LEVELS, OBJECTIVES, MaxLoad
from formulations.strong import StrongMaxLoad, SymmetricMaxLoad

__all__ = ["Builder", "LatencyMILP", "MaxLoad", "StrongMaxLoad", "SymmetricMaxLoad", "available", "get_builder", "register", "CONTIGUITY_LEVELS", "OBJECTIVES"]
