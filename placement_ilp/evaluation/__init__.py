"""The evaluators: the independent judges of every placement a method returns.

- :mod:`.maxload`: :func:`~.maxload.evaluate`, loads, memory, support, colocation
  and both max-load objectives;
- :mod:`.contiguity`: the contiguity level of a placement, with witnesses;
- :mod:`.latency`: :func:`~.latency.evaluate_latency`, the single-sample schedule;
- :mod:`.feasibility`: :func:`~.feasibility.explain_infeasible`, why an instance
  has no placement at all.
"""
