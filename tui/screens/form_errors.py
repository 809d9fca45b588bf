"""What the project forms (new or edited project, new project from a
template) share about problems: one found in the form before the service is
asked (and shown as the form is read), and where a problem the service
reports is shown."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from store.errors import ValidationError

T = TypeVar("T")


class FormError(Exception):
    """A problem with what was typed in input ``field``, found by the form."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


class ShowsProblems(Protocol):
    """A form that shows a problem under the input it is about."""

    def _clear_errors(self) -> None: ...

    def _show_error(self, field: str, problem: str) -> None: ...


def checked(form: ShowsProblems, read: Callable[[], T]) -> T | None:
    """What ``read`` finds in ``form``, its earlier problems cleared; or
    None, the FormError it raised shown under its input."""
    form._clear_errors()
    try:
        return read()
    except FormError as error:
        form._show_error(error.field, error.problem)
        return None


def where_shown(error: ValidationError, inputs: Mapping[str, str]) -> tuple[str, str]:
    """The input a service's ValidationError shows under, and what it says
    there: the problem alone under the input ``inputs`` maps its field to,
    else the whole message (naming the field) under the form ("form")."""
    target = inputs.get(error.field)
    if target is None:
        return "form", error.message
    return target, error.problem
