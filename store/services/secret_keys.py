"""The keys that seal project secrets: which key a write uses, the key a read
needs (named when its file is missing), rotating every secret to a new key,
starting a new key file after one is lost, and the audit row left when a
value does not decrypt. ``store.services.secrets`` is the door the app and
the CLI use; it re-exports what is public here."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, crypto
from store.config import current_actor
from store.crypto import DecryptionFailed, Keyring, MasterKeyError
from store.engine import Database
from store.errors import Conflict, ValidationError
from store.models import AuditCategory, Project, ProjectSecret, Severity
from store.repositories import SecretRepository
from store.services import team
from store.services.project_reads import resolve_project


def _label(project: Project, key_name: str) -> str:
    return f"secret {key_name} of project {project.name!r}"


def _sealed(row: ProjectSecret) -> crypto.Sealed:
    return crypto.Sealed(nonce=row.nonce, ciphertext=row.ciphertext, key_id=row.key_id)


def seal_secret(
    repository: SecretRepository,
    row: ProjectSecret | None,
    key: crypto.MasterKey,
    value: crypto.SecretValue,
    *,
    project_id: uuid.UUID,
    key_name: str,
    now: datetime,
) -> ProjectSecret:
    """``value`` sealed under ``key`` in the project's ``row`` of that name,
    or in a new row (added to ``repository``) where there is none yet."""
    if row is None:
        row = ProjectSecret(
            project_id=project_id,
            key_name=key_name,
            nonce=b"",
            ciphertext=b"",
            key_id=key.key_id,
            created_at=now,
        )
        repository.add(row)
    sealed = crypto.encrypt(key, project_id, key_name, value)
    row.nonce, row.ciphertext, row.key_id = sealed.nonce, sealed.ciphertext, sealed.key_id
    row.updated_at = now
    return row


async def _keys_to_encrypt(session: AsyncSession, keyring: Keyring | None) -> Keyring:
    """``keyring``, else the configured keys. A key file is made only while
    the database holds no secret: a new key beside secrets that need a lost
    one would hide that loss, so that is refused naming the key needed."""
    if keyring is not None:
        return keyring
    try:
        return crypto.load_keyring(create=False)
    except crypto.KeyFileMissing as missing:
        needed = await SecretRepository(session).count_by_key()
        if needed:
            raise MasterKeyError(
                f"{missing}, but this database holds {_needing(needed)}. Put that key file "
                f"back (or set {crypto.SECRET_KEY_ENV}); if the key is lost for good, "
                "'projdeck secret new-key' starts a new key file (those secrets stay "
                "unreadable until they are set again)"
            ) from None
        return crypto.load_keyring()


def _keyring_for(keyring: Keyring | None, needs: str) -> Keyring:
    """``keyring``, else the configured keys; a missing key file is refused
    naming what ``needs`` the key ("secret X of project 'p' needs key K")."""
    if keyring is not None:
        return keyring
    try:
        return crypto.load_keyring(create=False)
    except crypto.KeyFileMissing as missing:
        raise MasterKeyError(
            f"{missing}: {needs}; put back the key file that holds it "
            f"(or set {crypto.SECRET_KEY_ENV})"
        ) from None


def _needing(counts: dict[str, int]) -> str:
    """'3 secrets encrypted with key K' for each key, in words."""
    parts = [
        f"{count} secret{'s' if count != 1 else ''} encrypted with key {key_id}"
        for key_id, count in sorted(counts.items())
    ]
    return ", ".join(parts)


async def _record_secret(
    session: AsyncSession,
    row: ProjectSecret,
    *,
    actor: str,
    event_type: str,
    description: str,
    severity: Severity = Severity.INFO,
    **details: str,
) -> None:
    """The audit row of something done to one secret (category security):
    its name and key, never its value."""
    await audit.record(
        session,
        project_id=row.project_id,
        entity_type="secret",
        entity_id=row.id,
        category=AuditCategory.SECURITY,
        details={"name": row.key_name, "key_id": row.key_id, **details},
        actor=actor,
        event_type=event_type,
        description=description,
        severity=severity,
    )


async def _record_failure(
    session: AsyncSession, *, actor: str, project: Project, row: ProjectSecret, why: str
) -> None:
    await _record_secret(
        session,
        row,
        actor=actor,
        event_type="secret.decrypt_failed",
        description=f"failed to decrypt {_label(project, row.key_name)} ({why})",
        severity=Severity.ERROR,
        during=why,
    )


class _RotationStopped(Exception):
    def __init__(self, error: DecryptionFailed, secret_id: uuid.UUID) -> None:
        super().__init__(str(error))
        self.error = error
        self.secret_id = secret_id


@dataclass(frozen=True)
class Rotation:
    """What ``rotate_key`` did."""

    key_id: str
    reencrypted: int
    retired: tuple[str, ...]
    # Older keys still needed (some secret was written with one meanwhile,
    # or the keys come from the environment, which projdeck cannot edit).
    kept: tuple[str, ...]
    resumed: bool
    source: str


async def rotate_key(
    db: Database,
    *,
    actor: str | None = None,
    keyring: Keyring | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Rotation:
    """Make a new master key, re-encrypt every secret with it in one
    transaction, then retire the old key: kept in the key file, marked
    retired, to decrypt what a backup or export taken before holds.

    Restartable: the key file holds the new key first and the old ones after
    it until the end, so an interruption at any point leaves every secret
    readable, and a re-run (which sees a key not yet retired and does not
    make another) finishes the job. Rotations take turns (a lock beside the
    key file): one started while another runs waits, then rotates from the
    keys the other left, reading the key file again (also when ``keyring``
    came from it). With ``PROJDECK_SECRET_KEY`` no key is made: secrets move
    to that key, and older ones named in ``PROJDECK_SECRET_KEY_PREVIOUS`` can
    then be dropped from the environment. ``progress(done, total)`` is
    called after each re-encrypted secret.
    """
    team.require(db, team.CHANGE_SECRETS)
    actor = actor or current_actor()
    if keyring is not None:
        key_file = keyring.path
    elif os.environ.get(crypto.SECRET_KEY_ENV, "").strip():
        key_file = None
    else:
        key_file = crypto.default_key_file()
    async with crypto.rotation_turn(key_file):
        if keyring is None:
            async with db.reading() as session:
                keyring = await _keys_to_encrypt(session, None)
        elif keyring.path is not None:
            keyring = crypto.read_key_file(keyring.path)
        return await _rotate(db, actor, keyring, progress)


async def _rotate(
    db: Database,
    actor: str,
    keyring: Keyring,
    progress: Callable[[int, int], None] | None,
) -> Rotation:
    resumed = bool(keyring.previous)
    if keyring.path is not None and not resumed:
        keyring = crypto.write_key_file(keyring.path, [crypto.new_key(), *keyring.keys])
    current = keyring.current

    reencrypted = 0
    try:
        async with db.transaction() as session:
            repository = SecretRepository(session)
            await repository.lock("EXCLUSIVE")
            pending = await repository.ids_not_under(current.key_id)
            for secret_id in pending:
                row = await repository.get_by_id(secret_id)
                assert row is not None
                project = await resolve_project(session, str(row.project_id))
                label = _label(project, row.key_name)
                try:
                    value = crypto.decrypt(
                        keyring, row.project_id, row.key_name, _sealed(row), label=label
                    )
                except DecryptionFailed as error:
                    raise _RotationStopped(error, secret_id) from None
                sealed = crypto.encrypt(current, row.project_id, row.key_name, value)
                row.nonce, row.ciphertext, row.key_id = (
                    sealed.nonce,
                    sealed.ciphertext,
                    sealed.key_id,
                )
                await session.flush()
                reencrypted += 1
                if progress is not None:
                    progress(reencrypted, len(pending))
            await audit.record(
                session,
                actor=actor,
                event_type="secret.key_rotated",
                description=f"re-encrypted {reencrypted} secrets under key {current.key_id}",
                entity_type="master_key",
                entity_id=current.key_id,
                category=AuditCategory.SECURITY,
                details={
                    "key_id": current.key_id,
                    "reencrypted": reencrypted,
                    "resumed": resumed,
                    "key_source": "file" if keyring.path is not None else "environment",
                },
            )
    except _RotationStopped as stopped:
        # The transaction rolled back: nothing is re-encrypted. Log why on its own.
        await _audit_rotation_failure(db, actor, stopped.secret_id)
        raise DecryptionFailed(
            f"{stopped.error}; the rotation stopped and re-encrypted nothing. Remove or replace "
            "that secret (projdeck secret rm / set), then run projdeck secret rotate-key again"
        ) from None

    retired: tuple[str, ...] = ()
    kept = tuple(key.key_id for key in keyring.previous)
    if keyring.path is not None and keyring.previous:
        async with db.transaction() as session:
            await SecretRepository(session).lock("EXCLUSIVE")
            if await SecretRepository(session).count_not_under(current.key_id) == 0:
                # Written while the secrets are locked, so none lands under an old key now.
                crypto.write_key_file(
                    keyring.path,
                    [
                        current,
                        *(dataclasses.replace(key, retired=True) for key in keyring.previous),
                        *keyring.retired,
                    ],
                )
                retired, kept = kept, ()
    return Rotation(
        key_id=current.key_id,
        reencrypted=reencrypted,
        retired=retired,
        kept=kept,
        resumed=resumed,
        source=keyring.source,
    )


@dataclass(frozen=True)
class KeyUsage:
    """Secrets per key id, and whether the configured keys can read them."""

    counts: dict[str, int]
    source: str = ""
    older: dict[str, int] = field(default_factory=dict)  # readable, not under the current key
    problem: str | None = None  # secrets no configured key can read, in words


async def keys_in_use(db: Database) -> KeyUsage:
    """For ``doctor``: which keys the secrets need, and any the keyring lacks."""
    async with db.reading() as session:
        counts = await SecretRepository(session).count_by_key()
    if not counts:
        return KeyUsage(counts)
    try:
        keyring = crypto.load_keyring(create=False)
    except MasterKeyError as error:
        return KeyUsage(counts, problem=f"{error.message}; the database holds {_needing(counts)}")
    unknown = {key_id: n for key_id, n in counts.items() if keyring.get(key_id) is None}
    if unknown:
        return KeyUsage(
            counts,
            keyring.source,
            problem=f"{_needing(unknown)}, which is not among the keys in {keyring.source}: "
            "they cannot be read (wrong key file, or the key was lost)",
        )
    older = {key_id: n for key_id, n in counts.items() if key_id != keyring.current.key_id}
    return KeyUsage(counts, keyring.source, older)


@dataclass(frozen=True)
class NewKeyFile:
    """What ``start_key_file`` made, and the secrets it cannot read."""

    key_id: str
    path: str
    unreadable: dict[str, int]


async def start_key_file(db: Database, *, actor: str | None = None) -> NewKeyFile:
    """Make a key file where none is, even though the database holds secrets
    under a key that is gone: they stay unreadable until set again. The
    explicit way past the refusal ``set_secret`` and ``rotate_key`` give. On
    a team database, an admin's (like changing secrets)."""
    team.require(db, team.CHANGE_SECRETS)
    actor = actor or current_actor()
    if os.environ.get(crypto.SECRET_KEY_ENV, "").strip():
        raise ValidationError(
            crypto.SECRET_KEY_ENV, "is set, so projdeck uses that key and no key file"
        )
    path = crypto.default_key_file()
    if path.exists():
        raise Conflict(
            f"the key file {path} exists; to move secrets to a new key run "
            "'projdeck secret rotate-key'"
        )
    async with db.transaction() as session:
        await SecretRepository(session).lock("EXCLUSIVE")
        unreadable = await SecretRepository(session).count_by_key()
        keyring = crypto.load_keyring()
        await audit.record(
            session,
            actor=actor,
            event_type="secret.key_created",
            description=f"started a new key file with key {keyring.current.key_id}"
            + (f"; {_needing(unreadable)} cannot be read" if unreadable else ""),
            entity_type="master_key",
            entity_id=keyring.current.key_id,
            category=AuditCategory.SECURITY,
            severity=Severity.WARNING if unreadable else Severity.INFO,
            details={"key_id": keyring.current.key_id, "unreadable": unreadable},
        )
    return NewKeyFile(key_id=keyring.current.key_id, path=str(path), unreadable=unreadable)


async def _audit_rotation_failure(db: Database, actor: str, secret_id: uuid.UUID) -> None:
    async with db.transaction() as session:
        row = await SecretRepository(session).get_by_id(secret_id)
        if row is None:
            return
        project = await resolve_project(session, str(row.project_id))
        await _record_failure(session, actor=actor, project=project, row=row, why="key rotation")
