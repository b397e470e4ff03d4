"""placement-ilp: exact device placement of DNN operator graphs.

The data flows one way: instance -> build -> solve -> decode -> evaluate -> report.

>>> from placement_ilp import load_instance, solve
>>> result = solve(load_instance("instances/default.json"), contiguity="pipeline", time_limit=60)
>>> result.status, result.objective                                    # doctest: +SKIP
"""

from .errors import InputError
from .evaluate import Evaluation, evaluate
from .graph import OpEdge, OpGraph, OpNode
from .instance import Instance
from .io import load_instance, load_placement, save_instance, save_placement
from .placement import Placement
from .feasibility import explain_infeasible
from .solve import Problem, Result, Start, build, find_start, prepare, solve
from .stopping import Budget
from .topology import Device, DeviceClass, Link, Topology, paper_topology

__all__ = [
    "Budget",
    "explain_infeasible",
    "Device",
    "DeviceClass",
    "Evaluation",
    "InputError",
    "Instance",
    "Link",
    "OpEdge",
    "OpGraph",
    "OpNode",
    "Placement",
    "Problem",
    "Result",
    "Start",
    "Topology",
    "build",
    "evaluate",
    "find_start",
    "load_instance",
    "load_placement",
    "paper_topology",
    "prepare",
    "save_instance",
    "save_placement",
    "solve",
]
__version__ = "0.1.0"
