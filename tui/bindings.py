"""Which key bindings are projdeck's own, for the help screen and the
command palette (Textual's widgets bring bindings of their own), and the
keymap: every binding of ours has an id, ``<module>.<action>[.<argument>]``,
that the config file's ``[keymap]`` table can give other keys."""

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
