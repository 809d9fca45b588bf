"""The ``projdeck`` command: the group (``group``), one module per command
group (``projects``, ``modifications``, ``agents``, ...), and what they
share: ``output`` (stdout that shows hidden characters, errors; all that
``--help`` needs) and ``common`` (open the database, run a service call,
print JSON)."""

from tui.cli.group import COMMANDS, cli, main

__all__ = ["COMMANDS", "cli", "main"]
