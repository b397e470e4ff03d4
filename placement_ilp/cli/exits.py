"""The command line's exit codes (see :mod:`placement_ilp.cli`): 0 success; 1 no
placement (infeasible, or none found in time) or a placement that breaks a
constraint; 2 invalid input or usage. 130, a second interrupt, is
:data:`placement_ilp.stopping.EXIT_INTERRUPTED`."""

EXIT_OK, EXIT_NO_PLACEMENT, EXIT_BAD_INPUT = 0, 1, 2
