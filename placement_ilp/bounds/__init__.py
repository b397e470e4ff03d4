"""Lower bounds on the optimum, each valid at every contiguity level it names and
tested never to exceed the optimum (tests/test_bounds.py).

- :mod:`~placement_ilp.bounds.combinatorial`: :func:`pigeonhole_floor` (groups
  counted into devices) and :func:`work_bound` (an LP over device classes).
"""

from .combinatorial import pigeonhole_floor, work_bound

__all__ = ["pigeonhole_floor", "work_bound"]
