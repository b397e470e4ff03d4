"""The one exception type that means "the user's input is wrong".

Everything that reads or checks user input raises :class:`InputError` with a
message that names the offending item (a node id, an edge, a field, a file).
The command-line interface turns it into one line ``error: ...`` and exit code 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """Invalid instance, placement, option or file; the message names the culprit."""
