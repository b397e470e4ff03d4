"""MILPs, solver-neutral: :mod:`.model` (:class:`~.model.Model`, built from arrays),
:mod:`.result` (:class:`~.result.SolveResult` and the statuses of one solve) and
:mod:`.backends` (HiGHS and PuLP/CBC). It knows nothing of placements: the builders
of :mod:`formulations` translate."""
