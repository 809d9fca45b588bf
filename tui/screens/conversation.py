"""One conversation of an agent: its messages in order with role, model,
tokens and cost; long contents folded; searchable."""

from __future__ import annotations

import uuid

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.widgets import Collapsible, Header, Input, Static

from store.models import Message
from store.money import format_amount, from_micros
from store.services.agents import ConversationDetail, get_conversation, list_messages
from tui import format
from tui.bindings import back_key, reload_key
from tui.context import attempt, deck
from tui.screens.filtered import FilteredScreen
from tui.widgets.footer import DeckFooter

# Enough for any one sitting; the status line says when there are more.
LIMIT = 500
# Contents longer than this (lines or characters) start folded.
FOLD_LINES = 3
FOLD_CHARS = 240


def is_long(content: str) -> bool:
    return content.count("\n") >= FOLD_LINES or len(content) > FOLD_CHARS


def message_title(message: Message) -> str:
    """``assistant · claude-sonnet · 1,200 in / 300 out · $0.0081 · 14:02``
    and, when folded, the start of the content."""
    parts = [str(message.role)]
    if message.model_used:
        parts.append(message.model_used)
    if message.prompt_tokens or message.completion_tokens:
        parts.append(f"{message.prompt_tokens:,} in / {message.completion_tokens:,} out")
    if message.cost_micros:
        parts.append(format_amount(from_micros(message.cost_micros)))
    parts.append(message.created_at.strftime("%Y-%m-%d %H:%M"))
    title = " · ".join(parts)
    if is_long(message.content):
        first = message.content.strip().splitlines()[0] if message.content.strip() else ""
        more = len(message.content.splitlines()) - 1
        title += f"  — {first[:48]}{'…' if len(first) > 48 else ''}"
        if more > 0:
            title += f" (+{more} line{'s' if more != 1 else ''})"
    # The title is read as markup: a model or content is drawn as typed.
    return escape(format.plain(title))


class ConversationScreen(FilteredScreen):
    TITLE = "Conversation"
    CSS_PATH = "activity.tcss"
    BINDINGS = [
        back_key("conversation"),
        Binding("slash", "search", "Search", id="conversation.search"),
        Binding("x", "fold_all(False)", "Unfold all", id="conversation.fold_all.False"),
        Binding("z", "fold_all(True)", "Fold long", id="conversation.fold_all.True"),
        reload_key("conversation"),
    ]

    def __init__(self, conversation_id: uuid.UUID) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.detail: ConversationDetail | None = None
        self.shown = 0
        self.total = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="conversation-summary")
        yield Input(
            placeholder="/ search the messages (text or model)",
            id="conversation-search",
            classes="as-you-type",
        )
        yield VerticalScroll(id="conversation-messages")
        yield Static("", id="conversation-status", classes="status-line")
        yield DeckFooter()

    def on_mount(self) -> None:
        self.query_one("#conversation-messages").focus()
        self.reload()

    def reload(self) -> None:
        self.load(self.query_one("#conversation-search", Input).value.strip())

    @work(exclusive=True, group="conversation-load")
    async def load(self, search: str) -> None:
        db = deck(self).database
        ref = str(self.conversation_id)
        detail = await attempt(self, get_conversation(db, ref))
        page = await attempt(self, list_messages(db, ref, search=search or None, limit=LIMIT))
        if detail is None or page is None:
            return
        self.detail = detail
        self._show_summary(detail)
        box = self.query_one("#conversation-messages", VerticalScroll)
        await box.remove_children()
        await box.mount_all(
            Collapsible(
                Static(format.safe(message.content, multiline=True), classes="message-content"),
                title=message_title(message),
                collapsed=is_long(message.content),
                classes=f"message role-{message.role}"
                + (" long" if is_long(message.content) else ""),
            )
            for message in page.items
        )
        self.shown, self.total = len(page.items), page.total
        status = f"{page.total} message{'s' if page.total != 1 else ''}"
        if search:
            status += f" matching {search!r}"
        if page.total > len(page.items):
            status += f" · first {len(page.items)} shown"
        self.query_one("#conversation-status", Static).update(format.safe(status))

    def _show_summary(self, detail: ConversationDetail) -> None:
        conversation = detail.conversation
        self.sub_title = format.plain(conversation.title)
        summary = format.safe(conversation.title, style="bold")
        summary.append(f"  {conversation.status}", style="dim")
        summary.append(
            f"\n{detail.project_name or 'no project'} · started by {conversation.started_by} · "
            f"{format.stamp(conversation.created_at)} · {detail.messages} messages · "
            f"{detail.prompt_tokens:,} tokens in, {detail.completion_tokens:,} out · "
        )
        summary.append(format_amount(detail.cost), style="bold cyan")
        self.query_one("#conversation-summary", Static).update(format.sealed(summary))

    @on(Input.Submitted, "#conversation-search")
    def _search_submitted(self) -> None:
        self.reload()
        self.query_one("#conversation-messages").focus()

    def action_search(self) -> None:
        self.query_one("#conversation-search").focus()

    def action_fold_all(self, fold: bool) -> None:
        """Unfold every message, or fold the long ones again."""
        for collapsible in self.query(Collapsible):
            collapsible.collapsed = fold and collapsible.has_class("long")

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        search = self.query_one("#conversation-search", Input)
        if search.has_focus and search.value:
            search.value = ""
            self.query_one("#conversation-messages").focus()
            return
        self.dismiss()
