"""Who wrote or committed a change, as git records it: a name, an email
address and a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pygit2

from store.errors import ValidationError
from store.validation import has_control

_MAX = 255


@dataclass(frozen=True)
class Identity:
    """A person (or an agent) and when they acted (None: now)."""

    name: str
    email: str
    time: datetime | None = None

    def when(self) -> datetime:
        """The time, aware (a naive time is taken as UTC)."""
        if self.time is None:
            return datetime.now(UTC)
        if self.time.tzinfo is None:
            return self.time.replace(tzinfo=UTC)
        return self.time


# "Name <address>", as git writes who made a commit.
_NAME_AND_EMAIL = re.compile(r"^(?P<name>[^<>]*?)\s*<(?P<email>[^<>\s]+)>$")


def named(who: str, *, email: str | None = None) -> Identity:
    """Who, as git records them: "Name <address>" as given, else the name
    with ``email`` or an address that says it is none (``.invalid``)."""
    match = _NAME_AND_EMAIL.match(who.strip())
    if match is not None and match.group("name"):
        return Identity(match.group("name"), match.group("email"))
    name = " ".join(who.replace("<", " ").replace(">", " ").split()) or "unknown"
    local = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.").lower() or "unknown"
    return Identity(name, email or f"{local}@projdeck.invalid")


def checked_identity(identity: object, field: str) -> Identity:
    """``identity`` if git can record it: a name and an email address of one
    line each, without the angle brackets git puts around the address."""
    if not isinstance(identity, Identity):
        raise ValidationError(field, "must be an Identity (name, email)")
    for part, value in (("name", identity.name), ("email", identity.email)):
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(field, f"the {part} must not be empty")
        if len(value) > _MAX:
            raise ValidationError(field, f"the {part} is longer than {_MAX} characters")
        if has_control(value) or "<" in value or ">" in value:
            raise ValidationError(
                field, f"the {part} {value!r} holds a control character or an angle bracket"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(field, f"the {part} is not valid Unicode text") from None
    if any(char.isspace() for char in identity.email):
        raise ValidationError(field, f"the email {identity.email!r} holds white space")
    if identity.time is not None and not isinstance(identity.time, datetime):
        raise ValidationError(field, "the time must be a datetime")
    return identity


def signature(identity: Identity) -> pygit2.Signature:
    when = identity.when()
    offset = when.utcoffset()
    minutes = 0 if offset is None else int(offset.total_seconds() // 60)
    return pygit2.Signature(
        identity.name.strip(), identity.email.strip(), int(when.timestamp()), minutes
    )
