"""Lower bounds on the optimum, each valid at every contiguity level it names and
tested never to exceed the optimum (tests/test_bounds.py).

- :mod:`~placement_ilp.bounds.combinatorial`: :func:`pigeonhole_floor` (groups
  counted into devices) and :func:`work_bound` (an LP over device classes).
- :mod:`~placement_ilp.bounds.configuration`: :func:`configuration_bound`, the
  set-partitioning LP over device sets charged their boundary communication,
  solved by column generation (tests/test_configuration.py).
"""

from .combinatorial import pigeonhole_floor, work_bound
from .configuration import ConfigurationBound, configuration_bound

__all__ = ["ConfigurationBound", "configuration_bound", "pigeonhole_floor", "work_bound"]
