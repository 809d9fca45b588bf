"""Which key bindings are projdeck's own, for the help screen and the
command palette (Textual's widgets bring bindings of their own), and the
keymap: every binding of ours has an id, ``<module>.<action>[.<argument>]``,
that the config file's ``[keymap]`` table can give other keys; and the keys
several screens share."""

from __future__ import annotations

import importlib
import pkgutil
import unicodedata
from collections.abc import Mapping

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import KEY_ALIASES, KEY_NAME_REPLACEMENTS, KEY_TO_UNICODE_NAME, Keys

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# Where projdeck's bindings are declared (the app, its screens, its widgets).
BINDING_PACKAGES = ("tui.screens", "tui.widgets")
_KEY_NAMES = frozenset(key.value for key in Keys) | {
    *(f"f{number}" for number in range(1, 25)),
    "enter",
    "tab",
    "space",
    "backspace",
    *KEY_NAME_REPLACEMENTS.values(),
    *KEY_TO_UNICODE_NAME,
    *KEY_ALIASES,
}


# Keys several screens declare alike: each screen's binding keeps an id of
# its own (``<module>.<action>``, the keymap can move it on one screen only).


def back_key(screen: str) -> Binding:
    """escape: back to the screen this one was opened from."""
    return Binding("escape", "back", "Back", id=f"{screen}.back")


def cancel_key(screen: str) -> Binding:
    """escape: a form or dialog closed, nothing done."""
    return Binding("escape", "cancel", "Cancel", id=f"{screen}.cancel")


def clear_filter_key(screen: str) -> Binding:
    """escape: a list's filter emptied."""
    return Binding(
        "escape", "clear_filter", "Clear filter", show=False, id=f"{screen}.clear_filter"
    )


def copy_id_key(screen: str) -> Binding:
    """y: the selected row's id copied."""
    return Binding("y", "copy_id", "Copy id", show=False, id=f"{screen}.copy_id")


def filter_key(screen: str, action: str = "filter") -> Binding:
    """/: a list's filter, typed into (``action``: the screen's name for it)."""
    return Binding("slash", action, "Filter", id=f"{screen}.{action}")


def reload_key(screen: str) -> Binding:
    """ctrl+r: what the screen shows read again."""
    return Binding("ctrl+r", "reload", "Reload", id=f"{screen}.reload")


def own_binding(node: DOMNode, binding: Binding) -> bool:
    """Whether projdeck declared ``binding`` (not Textual's own widgets and
    base classes: cursor keys, focus, copy). A binding the keymap gave
    other keys is known by its id."""
    for cls in type(node).__mro__:
        if cls.__module__.startswith("textual."):
            continue
        declared = vars(cls).get("BINDINGS", [])
        if binding in declared:
            return True
        if binding.id and any(
            isinstance(each, Binding) and each.id == binding.id for each in declared
        ):
            return True
    return False


def binding_ids() -> dict[str, Binding]:
    """Every binding of projdeck's by its id (imports every screen: for
    checking a keymap, not for start-up)."""
    modules = ["tui.app"]
    for package_name in BINDING_PACKAGES:
        package = importlib.import_module(package_name)
        modules += [
            f"{package_name}.{info.name}" for info in pkgutil.iter_modules(package.__path__)
        ]
    found: dict[str, Binding] = {}
    for name in modules:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if not isinstance(value, type) or value.__module__ != name:
                continue
            for binding in vars(value).get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id:
                    found.setdefault(binding.id, binding)
    return found


def key_problem(keys: str) -> str | None:
    """What is wrong with ``keys`` (``"f1"``, ``"ctrl+h,?"``) as Textual
    reads a binding's keys, or None."""
    for key in keys.split(","):
        key = key.strip()
        if not key:
            return f"{keys!r} has an empty key"
        *modifiers, name = key.split("+")
        unknown = [modifier for modifier in modifiers if modifier not in MODIFIERS]
        if unknown:
            return f"{unknown[0]!r} is not a modifier (ctrl, shift, alt, meta, super, hyper)"
        if not _known_key(name):
            return f"{name!r} is not a key Textual knows (f1, ctrl+h, escape, a, ?)"
    return None


def _known_key(name: str) -> bool:
    if len(name) == 1:
        return name.isprintable()
    if name in _KEY_NAMES:
        return True
    # Textual names punctuation by its Unicode name: question_mark, slash.
    try:
        unicodedata.lookup(name.replace("_", " "))
    except KeyError:
        return False
    return True


def keymap_problems(keymap: Mapping[str, str], known: Mapping[str, Binding]) -> dict[str, str]:
    """The keymap's entries that cannot be applied, by binding id: an id
    no binding has, or keys Textual cannot read."""
    problems: dict[str, str] = {}
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            problems[binding_id] = "no binding has this id (the help screen, ?, lists them)"
        elif problem := key_problem(keys):
            problems[binding_id] = problem
    return problems
