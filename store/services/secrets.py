"""Project secrets: list their names, set, reveal, delete, and rotate the
master key. Each call is one transaction with its audit row (category
security); values are encrypted with AES-256-GCM (see ``store.crypto``).

The API the CLI and the app use::

    await list_secrets(db, ref) -> list[SecretName]          # names, never values
    await list_secret_page(db, ref, limit=50, offset=0) -> Page[SecretName]
    await set_secret(db, ref, "API_TOKEN", value) -> SecretName
    await import_secrets(db, ref, secrets_from_dotenv(text)) -> Imported  # all or none
    await export_secrets(db, ref) -> list[tuple[str, SecretValue]]     # audited as a read
    await reveal_secret(db, ref, "API_TOKEN") -> SecretValue  # audited as a read
    await reveal_webhook_url(db, ref) -> SecretValue          # with its credentials; audited
    await delete_secret(db, ref, "API_TOKEN") -> None
    await rotate_key(db) -> Rotation
    await start_key_file(db) -> NewKeyFile                    # after a key is lost

``ref`` is a project id, unique id prefix, exact name or GitHub owner/repo,
as everywhere.
Values are ``SecretValue`` (``str`` is accepted by ``set_secret``): their
``repr`` and ``str`` never show the text, ``.reveal()`` does. Errors are
``store.errors`` types plus ``crypto.DecryptionFailed`` (wrong key or
tampered ciphertext; names the project and the secret, and is audited) and
``crypto.MasterKeyError`` (key missing, malformed or readable by others).
Every function takes ``actor`` (default: the current user) and ``keyring``
(default: ``crypto.load_keyring()``, for tests and tools).
The keys' part (which key seals, rotation, a new key file) lives in
``store.services.secret_keys``; its public names are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, crypto, dotenv
from store.config import current_actor
from store.crypto import DecryptionFailed, Keyring, SecretValue
from store.engine import Database
from store.errors import NotFound, ValidationError
from store.models import AuditCategory, Project, ProjectSecret
from store.repositories import SecretRepository
from store.repositories.base import Page, clamp_limit
from store.repositories.secrets import WEBHOOK_URL_KEY, SecretName
from store.services import team
from store.services.project_reads import resolve_project, resolve_writable_project
from store.services.secret_keys import (
    NewKeyFile,
    Rotation,
    _keyring_for,
    _keys_to_encrypt,
    _label,
    _record_failure,
    _record_secret,
    _sealed,
    keys_in_use,
    rotate_key,
    seal_secret,
    start_key_file,
)
from store.types import utcnow

MAX_NAME = 100
MAX_VALUE_BYTES = 64 * 1024
# The most names one import takes (each value up to 64 KiB).
MAX_IMPORT = 1000
_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")

__all__ = [
    "DecryptionFailed",
    "Imported",
    "NewKeyFile",
    "Rotation",
    "SecretName",
    "SecretValue",
    "delete_secret",
    "export_secrets",
    "import_secrets",
    "keys_in_use",
    "list_secret_page",
    "list_secrets",
    "reveal_secret",
    "reveal_webhook_url",
    "rotate_key",
    "secret_name",
    "secret_value",
    "secrets_from_dotenv",
    "set_secret",
    "start_key_file",
]


def secret_name(value: str) -> str:
    """An environment-variable name: ``[A-Z_][A-Z0-9_]*``, at most 100 characters."""
    if not isinstance(value, str) or not value:
        raise ValidationError("key name", "must not be empty")
    if len(value) > MAX_NAME:
        raise ValidationError(
            "key name", f"is {len(value)} characters long; at most {MAX_NAME} allowed"
        )
    if not _NAME.fullmatch(value):
        hint = f" (did you mean {value.upper()!r}?)" if _NAME.fullmatch(value.upper()) else ""
        raise ValidationError(
            "key name",
            f"{value!r} is not an environment-variable name: capital letters, digits and _, "
            f"not starting with a digit{hint}",
        )
    return value


def secret_value(value: SecretValue | str) -> SecretValue:
    """A non-empty value of at most 64 KiB (UTF-8). Messages never quote it."""
    secret = value if isinstance(value, SecretValue) else SecretValue(value)
    plain = secret.reveal()
    if not plain:
        raise ValidationError("value", "must not be empty")
    try:
        size = len(plain.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValidationError("value", "is not valid Unicode text") from None
    if size > MAX_VALUE_BYTES:
        raise ValidationError("value", f"is {size} bytes; at most {MAX_VALUE_BYTES} (64 KiB)")
    return secret


def _as_name(row: ProjectSecret) -> SecretName:
    return SecretName(
        key_name=row.key_name,
        key_id=row.key_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _secret_row(session: AsyncSession, project: Project, key_name: str) -> ProjectSecret:
    row = await SecretRepository(session).get(project.id, key_name)
    if row is None:
        raise NotFound(f"project {project.name!r} has no secret named {key_name}")
    return row


async def list_secrets(db: Database, ref: str) -> list[SecretName]:
    """The names of a project's secrets with their key ids and times; never values."""
    async with db.reading() as session:
        project = await resolve_project(session, ref)
        return await SecretRepository(session).list_names(project.id)


async def list_secret_page(
    db: Database, ref: str, *, limit: int = 50, offset: int = 0
) -> Page[SecretName]:
    """A page of ``list_secrets``, by name, with how many there are in all."""
    limit, offset = clamp_limit(limit), max(offset, 0)
    async with db.reading() as session:
        project = await resolve_project(session, ref)
        secrets = SecretRepository(session)
        names = await secrets.list_names(project.id, limit=limit, offset=offset)
        total = await secrets.count_names(project.id)
    return Page(items=names, total=total, offset=offset, limit=limit)


async def set_secret(
    db: Database,
    ref: str,
    key_name: str,
    value: SecretValue | str,
    *,
    actor: str | None = None,
    keyring: Keyring | None = None,
) -> SecretName:
    """Create or replace a secret, encrypted under the current master key."""
    team.require(db, team.CHANGE_SECRETS)
    actor = actor or current_actor()
    key_name = secret_name(key_name)
    secret = secret_value(value)
    # Only the wrapped value lives on: tracebacks that show locals show no text.
    del value
    async with db.transaction() as session:
        await SecretRepository(session).lock("ROW EXCLUSIVE")
        # Read the keys under the lock, so a key being retired is never used.
        key = (await _keys_to_encrypt(session, keyring)).current
        project = await resolve_writable_project(session, ref)
        repository = SecretRepository(session)
        row = await repository.get(project.id, key_name)
        created = row is None
        row = seal_secret(
            repository, row, key, secret, project_id=project.id, key_name=key_name, now=utcnow()
        )
        await session.flush()
        await _record_secret(
            session,
            row,
            actor=actor,
            event_type="secret.created" if created else "secret.updated",
            description=f"{'created' if created else 'replaced'} {_label(project, key_name)}",
        )
        return _as_name(row)


@dataclass(frozen=True)
class Imported:
    """What ``import_secrets`` stored: the names it created and those it
    replaced, each in the order given."""

    created: tuple[str, ...]
    replaced: tuple[str, ...]
    key_id: str


def secrets_from_dotenv(text: str) -> list[dotenv.Entry]:
    """The names and values of an environment file (python-dotenv's
    parser; ``${VAR}`` is kept as written), each with its line, names and
    values checked as ``set_secret`` checks them: a bad one is named by its
    line (``line 7: key name: ...``), never quoting a value."""
    entries = dotenv.parse(text, field="dotenv", limit=MAX_IMPORT)
    for entry in entries:
        _check_entry(entry)
    return entries


def _check_entry(entry: dotenv.Entry) -> None:
    try:
        secret_name(entry.name)
        secret_value(entry.value)
    except ValidationError as error:
        raise ValidationError(f"{entry.label}: {error.field}", error.problem) from None


async def import_secrets(
    db: Database,
    ref: str,
    entries: Sequence[dotenv.Entry],
    *,
    actor: str | None = None,
    keyring: Keyring | None = None,
) -> Imported:
    """Create or replace many secrets of a project in one transaction: all
    of them, or none if one is refused. One audit row (category security)
    names them; values go nowhere but the encrypted rows."""
    team.require(db, team.CHANGE_SECRETS)
    actor = actor or current_actor()
    if not entries:
        raise ValidationError("secrets", "give at least one NAME=value")
    if len(entries) > MAX_IMPORT:
        raise ValidationError("secrets", f"{len(entries):,} at once; at most {MAX_IMPORT:,}")
    seen: set[str] = set()
    for entry in entries:
        _check_entry(entry)
        if entry.name in seen:
            raise ValidationError(entry.label, f"{entry.name} is given twice")
        seen.add(entry.name)
    async with db.transaction() as session:
        repository = SecretRepository(session)
        await repository.lock("ROW EXCLUSIVE")
        # Read the keys under the lock, so a key being retired is never used.
        key = (await _keys_to_encrypt(session, keyring)).current
        project = await resolve_writable_project(session, ref)
        existing = {row.key_name: row for row in await repository.of_project(project.id)}
        now = utcnow()
        created: list[str] = []
        replaced: list[str] = []
        for entry in entries:
            row = existing.get(entry.name)
            (created if row is None else replaced).append(entry.name)
            seal_secret(
                repository,
                row,
                key,
                entry.value,
                project_id=project.id,
                key_name=entry.name,
                now=now,
            )
        await session.flush()
        await audit.record_project(
            session,
            project,
            actor=actor,
            event_type="secret.imported",
            description=f"imported {_count(len(entries))} into project {project.name!r} "
            f"({len(created)} created, {len(replaced)} replaced)",
            category=AuditCategory.SECURITY,
            details={"created": created, "replaced": replaced, "key_id": key.key_id},
        )
    return Imported(created=tuple(created), replaced=tuple(replaced), key_id=key.key_id)


def _count(secrets: int) -> str:
    return f"{secrets} secret{'s' if secrets != 1 else ''}"


async def export_secrets(
    db: Database,
    ref: str,
    *,
    purpose: str = "dotenv",
    actor: str | None = None,
    keyring: Keyring | None = None,
) -> list[tuple[str, SecretValue]]:
    """Every secret of a project with its value, by name; the read is
    audited as ``secret.exported`` (category security, the names and
    ``purpose``: the format they are written in). A value that does not
    decrypt raises DecryptionFailed, reveals nothing, and leaves a security
    event in the audit log."""
    team.require(db, team.REVEAL_SECRETS)
    actor = actor or current_actor()
    failure: DecryptionFailed | None = None
    values: list[tuple[str, SecretValue]] = []
    async with db.transaction() as session:
        project = await resolve_project(session, ref)
        rows = await SecretRepository(session).of_project(project.id)
        if rows:
            needed = ", ".join(sorted({row.key_id for row in rows}))
            keyring = _keyring_for(
                keyring, f"the secrets of project {project.name!r} need key {needed}"
            )
        for row in rows:
            assert keyring is not None
            try:
                value = crypto.decrypt(
                    keyring,
                    project.id,
                    row.key_name,
                    _sealed(row),
                    label=_label(project, row.key_name),
                )
            except DecryptionFailed as error:
                failure = error
                await _record_failure(session, actor=actor, project=project, row=row, why="export")
                break
            values.append((row.key_name, value))
        if failure is None:
            names = [name for name, _ in values]
            await audit.record_project(
                session,
                project,
                actor=actor,
                event_type="secret.exported",
                description=f"exported {_count(len(names))} of project {project.name!r} "
                f"as {purpose}",
                category=AuditCategory.SECURITY,
                details={"names": names, "format": purpose},
            )
    if failure is not None:
        raise failure
    return values


async def reveal_secret(
    db: Database,
    ref: str,
    key_name: str,
    *,
    actor: str | None = None,
    keyring: Keyring | None = None,
    purpose: Literal["reveal", "copy"] = "reveal",
) -> SecretValue:
    """A secret's value; the read is audited (as ``secret.revealed``, or
    ``secret.copied`` when it is read to go to the clipboard). A value that
    does not decrypt raises DecryptionFailed and leaves a security event in
    the audit log."""
    team.require(db, team.REVEAL_SECRETS)
    actor = actor or current_actor()
    key_name = secret_name(key_name)
    failure: DecryptionFailed | None = None
    async with db.transaction() as session:
        project = await resolve_project(session, ref)
        row = await _secret_row(session, project, key_name)
        keyring = _keyring_for(keyring, f"{_label(project, key_name)} needs key {row.key_id}")
        try:
            value = crypto.decrypt(
                keyring, project.id, key_name, _sealed(row), label=_label(project, key_name)
            )
        except DecryptionFailed as error:
            failure = error
            await _record_failure(session, actor=actor, project=project, row=row, why="reveal")
        else:
            await _record_secret(
                session,
                row,
                actor=actor,
                event_type="secret.copied" if purpose == "copy" else "secret.revealed",
                description=f"{'copied' if purpose == 'copy' else 'revealed'} "
                f"{_label(project, key_name)}",
            )
    if failure is not None:
        raise failure
    return value


async def reveal_webhook_url(
    db: Database, ref: str, *, actor: str | None = None, keyring: Keyring | None = None
) -> SecretValue:
    """A project's webhook URL with the credentials that projects show
    masked; the read is audited (``project.webhook_revealed``, category
    security) like a secret's. NotFound when the project has no webhook."""
    team.require(db, team.REVEAL_SECRETS)
    actor = actor or current_actor()
    failure: DecryptionFailed | None = None
    async with db.transaction() as session:
        project = await resolve_project(session, ref)
        if project.webhook_url is None:
            raise NotFound(f"project {project.name!r} has no webhook URL")
        row = await SecretRepository(session).get(project.id, WEBHOOK_URL_KEY)
        label = f"the webhook URL of project {project.name!r}"
        if row is None:
            # No credentials (or stored before URLs were sealed): the URL is whole.
            value = SecretValue(project.webhook_url)
        else:
            keyring = keyring or crypto.load_keyring(create=False)
            try:
                value = crypto.decrypt(
                    keyring, project.id, WEBHOOK_URL_KEY, _sealed(row), label=label
                )
            except DecryptionFailed as error:
                failure = error
                await _record_failure(session, actor=actor, project=project, row=row, why="reveal")
        if failure is None:
            await audit.record_project(
                session,
                project,
                actor=actor,
                event_type="project.webhook_revealed",
                description=f"revealed {label}",
                category=AuditCategory.SECURITY,
                details={"sealed": row is not None, "key_id": row.key_id if row else None},
            )
    if failure is not None:
        raise failure
    return value


async def delete_secret(db: Database, ref: str, key_name: str, *, actor: str | None = None) -> None:
    team.require(db, team.CHANGE_SECRETS)
    actor = actor or current_actor()
    key_name = secret_name(key_name)
    async with db.transaction() as session:
        project = await resolve_writable_project(session, ref)
        row = await _secret_row(session, project, key_name)
        # Out of the session before its row goes; what it held stays readable.
        session.expunge(row)
        await SecretRepository(session).delete(row.id)
        await _record_secret(
            session,
            row,
            actor=actor,
            event_type="secret.deleted",
            description=f"deleted {_label(project, key_name)}",
        )
