"""The exact dynamic programs for the pipeline level of the max-load objective.

:mod:`~placement_ilp.dp.ideal` is the paper's DP over the ideals (down-closed node
sets) of the group graph; :mod:`~placement_ilp.dp.chain` its variant for chains
when device-pair links make costs depend on the partner device;
:func:`~placement_ilp.dp.run.run_dp` picks between them and decodes the placement.
"""

from ..errors import DPNotApplicable, DPTimeLimit, DPTooLarge
from .ideal import (
    DEFAULT_MEMORY_BUDGET,
    DPGraph,
    DPResult,
    Ideals,
    build_dp_graph,
    check_applicable,
    decode,
    enumerate_ideals,
    max_ideals_for,
    solve_dp,
)
from .run import DPAnswer, run_dp

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "DPAnswer",
    "DPGraph",
    "DPNotApplicable",
    "DPResult",
    "DPTimeLimit",
    "DPTooLarge",
    "Ideals",
    "build_dp_graph",
    "check_applicable",
    "decode",
    "enumerate_ideals",
    "max_ideals_for",
    "run_dp",
    "solve_dp",
]
