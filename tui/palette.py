"""The command palette's projdeck commands: every main screen, every
action of the screen it was opened from (the same bindings as its footer
and help), and, found by typing, a project by part of its name and a
modification by the start of its id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from store.errors import StoreError
from tui import format
from tui.bindings import own_binding
from tui.context import deck

# Projects and modifications offered for what is typed, at most.
JUMPS = 20
# Hex digits typed before modifications are looked up by their id.
ID_PREFIX = 4
# Words typed before a project's name, as the command reads ("open project bil").
PROJECT_WORDS = ("open project ", "project ", "open ")
ID_WORDS = ("review modification ", "modification ", "review ")

SCREENS = {
    "projects": "Projects",
    "templates": "Templates",
    "modifications": "Modifications",
    "audit": "Audit",
    "inbox": "Inbox",
    "activity": "Activity",
}


def highlighted(matcher: Matcher, candidate: str) -> Content:
    """``candidate`` (stored text: never markup) with what ``matcher``
    matched in it highlighted."""
    content = Content(candidate)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def _after(query: str, words: tuple[str, ...]) -> str:
    """What is typed after the command's own words, if it starts with them."""
    typed = query.strip()
    lowered = typed.casefold()
    for word in words:
        if lowered.startswith(word):
            return typed[len(word) :].strip()
    return typed


def _open_project(app: App[Any], project_id: uuid.UUID) -> None:
    from tui.screens.project_detail import ProjectDetailScreen

    app.push_screen(ProjectDetailScreen(project_id))


def _review(app: App[Any], modification_id: uuid.UUID) -> None:
    from tui.screens.review import ReviewScreen

    app.push_screen(ReviewScreen(modification_id))


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

    async def _jumps(self, query: str) -> list[tuple[str, Callable[[], object], str]]:
        """The projects whose name holds what is typed, and the
        modifications whose id starts with it (``ID_PREFIX`` hex digits or
        more), ``JUMPS`` of each at most."""
        app = self.app
        if not getattr(app, "ready", False):
            return []
        from store.services.browse import find_project_names
        from store.services.review import find_modification_ids

        database = deck(app).database
        jumps: list[tuple[str, Callable[[], object], str]] = []
        name = _after(query, PROJECT_WORDS)
        prefix = _after(query, ID_WORDS).lower().replace("-", "")
        try:
            if name:
                for project_id, project in await find_project_names(database, name, limit=JUMPS):
                    jumps.append(
                        (
                            format.plain(f"Open project {project}"),
                            partial(_open_project, app, project_id),
                            "open its page",
                        )
                    )
            if len(prefix) >= ID_PREFIX and all(char in "0123456789abcdef" for char in prefix):
                found = await find_modification_ids(database, prefix, limit=JUMPS)
                for modification_id, status, request in found:
                    lines = request.strip().splitlines()
                    jumps.append(
                        (
                            f"Review modification {str(modification_id)[:8]}…",
                            partial(_review, app, modification_id),
                            format.plain(f"{status}: {lines[0] if lines else ''}")[:80],
                        )
                    )
        except StoreError:
            return jumps
        return jumps

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands() + self._template_commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, highlighted(matcher, name), callback, text=name, help=help_text)
        for name, callback, help_text in await self._jumps(query):
            # Found by the store, not by the letters of the command: each
            # scores as a match, whatever the fuzzy matcher makes of it.
            score = max(matcher.match(name), 0.5)
            yield Hit(score, highlighted(matcher, name), callback, text=name, help=help_text)
