"""The one door into the store: one async function per user action, each
one transaction that also writes its audit row.

The row, filter and page types the services take and give are named here,
so that the app and the CLI import them from the services, never from the
repositories behind them (an import-linter contract holds them to it)."""

from store.repositories.agents import ConversationRow, RunRow
from store.repositories.base import Page
from store.repositories.modifications import ModificationRow
from store.repositories.projects import ProjectFilter, ProjectSort
from store.repositories.secrets import SecretName
from store.repositories.templates import TemplateFilter

__all__ = [
    "ConversationRow",
    "ModificationRow",
    "Page",
    "ProjectFilter",
    "ProjectSort",
    "RunRow",
    "SecretName",
    "TemplateFilter",
]
