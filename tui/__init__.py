"""The terminal side of projdeck: the Textual app and the ``projdeck`` CLI.

Nothing here builds SQL: screens and commands call ``store.services``.
"""

__version__ = "0.1.0"
