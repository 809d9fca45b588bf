"""Thin query objects, one per table: get, list (filters, sort, page), count.

No business rules, no audit, no commits: the service owns the transaction
and hands its session in.
"""

from store.repositories.audit import AuditRepository
from store.repositories.links import LinkRepository
from store.repositories.modifications import ModificationRepository
from store.repositories.projects import ProjectFilter, ProjectRepository
from store.repositories.reviews import ReviewRepository
from store.repositories.secrets import SecretRepository
from store.repositories.settings import SettingsRepository
from store.repositories.templates import TemplateRepository

__all__ = [
    "AuditRepository",
    "LinkRepository",
    "ModificationRepository",
    "ProjectFilter",
    "ProjectRepository",
    "ReviewRepository",
    "SecretRepository",
    "SettingsRepository",
    "TemplateRepository",
]
