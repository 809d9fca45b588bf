"""The command palette's projdeck commands: every main screen, and every
action of the screen it was opened from (the same bindings as its footer
and help)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider

from store.errors import StoreError
from tui import format
from tui.bindings import own_binding
from tui.context import deck

SCREENS = {
    "projects": "Projects",
    "templates": "Templates",
    "modifications": "Modifications",
    "audit": "Audit",
    "inbox": "Inbox",
    "activity": "Activity",
}


def _open_template_form(app: App[Any], template: str) -> None:
    # The form (and jinja2 behind it) loads when a template is chosen.
    from tui.screens.template_form import open_template_form

    open_template_form(app, template)


class ProjdeckCommands(Provider):
    # Names of the templates, for "New project from template NAME" (found
    # by typing; not listed before, where they would crowd the screen's keys).
    templates: tuple[str, ...] = ()

    async def startup(self) -> None:
        if not getattr(self.app, "ready", False):
            return
        from store.services.templates import list_templates

        try:
            page = await list_templates(deck(self.app).database, limit=500)
        except StoreError:
            return
        self.templates = tuple(template.name for template in page.items)

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        commands: list[tuple[str, Callable[[], object], str]] = []
        if not getattr(app, "ready", False):
            return commands
        for mode, title in SCREENS.items():
            commands.append(
                (f"Go to {title}", partial(app.switch_mode, mode), f"open the {title} screen")
            )
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            description = binding.description
            if not description or binding.action in seen or not active.enabled:
                continue
            if binding.action.startswith(("main_screen", "command_palette")):
                continue
            if not own_binding(active.node, binding):
                continue
            seen.add(binding.action)
            key = app.get_key_display(binding)
            commands.append(
                (
                    description,
                    partial(app.run_action, binding.action, active.node),
                    f"key {key}",
                )
            )
        return commands

    def _template_commands(self) -> list[tuple[str, Callable[[], object], str]]:
        return [
            (
                format.plain(f"New project from template {name}"),
                partial(_open_template_form, self.app, name),
                "fill in its variables, preview the files, create",
            )
            for name in self.templates
        ]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands() + self._template_commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
