"""Which key bindings are projdeck's own, for the help screen and the
command palette (Textual's widgets bring bindings of their own)."""

from __future__ import annotations

from textual.binding import Binding
from textual.dom import DOMNode


def own_binding(node: DOMNode, binding: Binding) -> bool:
    """Whether projdeck declared ``binding`` (not Textual's own widgets and
    base classes: cursor keys, focus, copy)."""
    return any(
        binding in vars(cls).get("BINDINGS", [])
        for cls in type(node).__mro__
        if not cls.__module__.startswith("textual.")
    )
