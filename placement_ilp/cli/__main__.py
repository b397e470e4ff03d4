"""``python3 -m placement_ilp.cli``: the same as the ``placement-ilp`` command."""

from . import entry_point

entry_point()
