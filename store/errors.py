"""The few errors a user of projdeck can meet.

Every driver error is translated into one of these at the service boundary,
so the CLI and the app only ever show a message, never a traceback.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""

    @property
    def message(self) -> str:
        return str(self)


class NotFound(StoreError):
    """The thing asked for does not exist."""


class Conflict(StoreError):
    """The write collides with existing data: a duplicate or a stale version."""


class ValidationError(StoreError):
    """An input is not acceptable; names the field and the problem."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class InvalidTransition(StoreError):
    """A state change that is not allowed from the current state."""

    def __init__(self, entity: str, current: str, wanted: str) -> None:
        self.current = current
        self.wanted = wanted
        super().__init__(f"cannot {wanted} a {entity} that is {current}")


class ProjectReadOnly(InvalidTransition):
    """A write to an archived or deleted project, or to its settings,
    secrets or modifications: refused until it is unarchived or restored."""

    _WAY_BACK = {"archived": "unarchive", "deleted": "restore"}

    def __init__(self, name: str, status: str) -> None:
        self.current = status
        self.wanted = "change"
        StoreError.__init__(
            self,
            f"project {name!r} is {status}; {self._WAY_BACK.get(status, 'reactivate')} it first",
        )


class StoreUnavailable(StoreError):
    """The database cannot be reached or used (names the masked URL)."""


class SchemaOutOfDate(StoreUnavailable):
    """The database schema is behind the code and must be upgraded first."""


class NotPermitted(StoreError):
    """What the acting person or role may not do: approve their own
    proposal, or (on a team database) anything the connected role's
    projdeck role does not allow. Says who, in which role, may not do what."""
