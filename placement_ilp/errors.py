"""The exceptions of the toolkit: :class:`InputError`, the one that means "the user's
input is wrong"; :class:`FormulationError`, a solver answer the evaluator refutes; and
the DP's three (:class:`DPNotApplicable` and :class:`DPTooLarge`, input errors of the
method, and :class:`DPTimeLimit`, which the solve turns into a status).

Everything that reads or checks user input raises :class:`InputError` with a
message that names the offending item (a node id, an edge, a field, a file).
The command-line interface turns it into one line ``error: ...`` and exit code 2.
"""

from __future__ import annotations

import os


class InputError(ValueError):
    """Invalid instance, placement, option or file; the message names the culprit."""


class FormulationError(RuntimeError):
    """The solver's answer and the evaluator disagree: a bug in a formulation (or in
    the solver), never the user's fault."""


class DPNotApplicable(InputError):
    """The DP does not solve this variant (contiguity, objective, topology)."""


class DPTooLarge(InputError):
    """The DP's ideals would not fit in its memory budget."""


class DPTimeLimit(Exception):
    """The DP did not finish within its time limit (a status of the run, not bad input)."""


def refuse_overwrite(*paths: str | os.PathLike | None, force: bool = False) -> None:
    """Raise :class:`InputError` for the first of ``paths`` (None entries skipped)
    that exists, unless ``force``: nothing the user has is overwritten without asking.
    O(len(paths)) file-system checks.

    Example: ``refuse_overwrite(args.output, args.csv, force=args.force)``.
    """
    if force:
        return
    for path in paths:
        if path is not None and os.path.exists(path):
            raise InputError(f"{os.fspath(path)} exists; refusing to overwrite it (use --force)")
