"""The ``placement-ilp`` command line: ``parser`` (the options), ``commands`` (one
handler a command), ``progress`` (the MILP's live line on stderr); this module runs
them.

Exit codes: 0 success; 1 the problem has no placement (infeasible, or none found
in time) or the evaluated placement breaks a constraint; 2 invalid input or usage,
reported as one line ``error: ...``; 130 a second interrupt (the first one stops the
solve and reports the best placement so far, see :mod:`placement_ilp.stopping`).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, Sequence

from ..errors import InputError
from ..stopping import EXIT_INTERRUPTED, catch_signals
from .exits import EXIT_BAD_INPUT, EXIT_NO_PLACEMENT, EXIT_OK

__all__ = ["main", "entry_point", "build_parser", "Parser", "LiveProgress",
           "EXIT_OK", "EXIT_NO_PLACEMENT", "EXIT_BAD_INPUT"]

#: The names this package gives from its modules, loaded on first use (see main).
_LAZY = {"build_parser": "parser", "Parser": "parser", "LiveProgress": "progress"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code.

    The command modules (numpy, networkx, pandas, HiGHS: about two seconds) are
    imported here, inside the guard, so that Ctrl-C while they load is the one line
    ``error: interrupted`` and exit code 130, not a traceback.
    """
    try:
        from .parser import build_parser

        args = build_parser().parse_args(argv)
        with catch_signals() as signals:
            args.signals = signals
            return args.run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def entry_point() -> None:
    code = main()
    if "placement_ilp.milp.backends.highs" in sys.modules:
        from ..milp.backends.highs import runs_left_running  # loaded only if a solve ran

        if runs_left_running():  # a solve that did not stop when asked: its outputs are written, leave now
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    sys.exit(code)
