"""Experiments on top of the solve path: :mod:`.compare` (methods side by side on
many instances), :mod:`.bench` and :mod:`.bench_milp` (the benchmark tables of
docs/benchmarks.md) and :mod:`.plot` (figures of a placement)."""
