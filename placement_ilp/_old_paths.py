"""The module paths of release 0.1.0, answered for one more release.

The package was flat until the layers (docs/architecture.md) moved its modules into
subpackages: ``placement_ilp.solve`` became ``placement_ilp.solving``,
``placement_ilp.evaluate`` ``placement_ilp.evaluation.maxload``, and so on (the
table :data:`OLD_PATHS`). So that code written against the old paths keeps
working, :func:`install` registers a stand-in module under each old name; a name
looked up on it comes from the new modules, in the order listed, with a
DeprecationWarning naming the new path. A stand-in holds no state of its own:
patching it (``monkeypatch.setattr``) does not reach the new module.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from typing import Any

#: old module -> the modules (relative to the package) that now hold its names.
OLD_PATHS: dict[str, tuple[str, ...]] = {
    "checks": ("data.checks",),
    "graph": ("data.graph",),
    "topology": ("data.topology",),
    "instance": ("data.instance",),
    "placement": ("data.placement",),
    "preprocess": ("data.preprocess",),
    "structure": ("data.structure",),
    "examples": ("workloads.examples",),
    "generators": ("workloads.generators",),
    "evaluate": ("evaluation.maxload",),
    "contiguity": ("evaluation.contiguity",),
    "feasibility": ("evaluation.feasibility",),
    "latency": ("evaluation.latency", "baselines.latency", "solving.run", "solving.starts", "solving.result"),
    "model": ("milp.model",),
    "result": ("milp.result",),
    "backends": ("milp.backends",),
    "backends.highs": ("milp.backends.highs",),
    "backends.pulp_backend": ("milp.backends.pulp_backend",),
    "chain_dp": ("dp.chain",),
    "methods": ("solving.methods",),
    "solve": ("solving.run", "solving.problem", "solving.starts", "solving.direct", "solving.result", "errors"),
    "latency_solve": ("solving.run", "solving.starts", "solving.result"),
    "compare": ("experiments.compare",),
    "bench": ("experiments.bench",),
    "bench_milp": ("experiments.bench_milp",),
    "plot": ("experiments.plot",),
}

#: names that changed as well as moved: (old module, old name) -> (new module, new name).
RENAMED: dict[tuple[str, str], tuple[str, str]] = {
    ("latency", "LatencyResult"): ("solving.result", "Result"),
    ("latency_solve", "LatencyResult"): ("solving.result", "Result"),
    ("latency", "_check_latency_instance"): ("evaluation.latency", "check_latency_instance"),
}


class _OldPath(types.ModuleType):
    """A stand-in for a moved module: every name comes from the new modules."""

    def __init__(self, package: str, old: str) -> None:
        super().__init__(f"{package}.{old}", f"Moved: see {', '.join(OLD_PATHS[old])} of {package}.")
        self._package, self._old = package, old

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        module, new_name = RENAMED.get((self._old, name), (None, name))
        for where in (module,) if module else OLD_PATHS[self._old]:
            target = importlib.import_module(f"{self._package}.{where}")
            if hasattr(target, new_name):
                warnings.warn(f"{self.__name__}.{name} moved to {self._package}.{where}.{new_name}; the old path "
                              f"goes in the next release", DeprecationWarning, stacklevel=2)
                return getattr(target, new_name)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")


def install(package: str) -> None:
    """Register the stand-ins in ``sys.modules`` (cheap: nothing is imported until a
    name is looked up). O(len(OLD_PATHS))."""
    for old in OLD_PATHS:
        sys.modules.setdefault(f"{package}.{old}", _OldPath(package, old))
