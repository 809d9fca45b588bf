"""Secrets at rest: encryption bound to its row, clear errors for wrong keys
and tampering, the key file's safety, and restartable key rotation."""

from __future__ import annotations

import json
import os
import pickle
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from store import crypto
from store.crypto import DecryptionFailed, MasterKeyError, SecretValue
from store.engine import Database
from store.errors import NotFound, ValidationError
from store.models import AuditCategory, Severity
from store.services import projects, secrets
from store.services.audit import verify_chain
from tests.store_support import audit_rows, execute


async def _project(database: Database, name: str = "Billing") -> str:
    config = await projects.create_project_with_settings(
        database, projects.ProjectCreate(name=name, type="api", owner_id="alice")
    )
    return str(config.project.id)


def test_secret_values_never_show_in_repr_str_or_format() -> None:
    value = SecretValue("canary-repr-0001")
    shown = [
        repr(value),
        str(value),
        f"{value}",
        f"{value!r}",
        str([value]),
        str({"v": value}),
    ]
    assert all("canary" not in item for item in shown)
    assert value.reveal() == "canary-repr-0001"
    with pytest.raises(TypeError):
        pickle.dumps(value)


async def test_set_list_reveal_round_trip_and_audit(database: Database) -> None:
    project_id = await _project(database)
    stored = await secrets.set_secret(database, "Billing", "API_TOKEN", "canary-rt-1")
    await secrets.set_secret(database, project_id, "DB_URL", SecretValue("canary-rt-2"))

    names = await secrets.list_secrets(database, "Billing")
    assert [name.key_name for name in names] == ["API_TOKEN", "DB_URL"]
    assert names[0].key_id == stored.key_id == crypto.load_keyring().current.key_id
    assert (await secrets.reveal_secret(database, "Billing", "API_TOKEN")).reveal() == "canary-rt-1"
    config = await projects.get_project_full_config(database, "Billing")
    assert [secret.key_name for secret in config.secrets] == ["API_TOKEN", "DB_URL"]

    events = [(row.event_type, row.category) for row in await audit_rows(database)]
    assert events[:3] == [
        ("secret.revealed", AuditCategory.SECURITY),
        ("secret.created", AuditCategory.SECURITY),
        ("secret.created", AuditCategory.SECURITY),
    ]


async def test_each_write_uses_a_fresh_nonce_and_replacing_keeps_one_row(
    database: Database,
) -> None:
    await _project(database)
    await secrets.set_secret(database, "Billing", "TOKEN", "same-value")
    async with database.reading() as session:
        first = (await session.execute(text("SELECT nonce, ciphertext FROM project_secrets"))).one()
    await secrets.set_secret(database, "Billing", "TOKEN", "same-value")
    async with database.reading() as session:
        rows = (await session.execute(text("SELECT nonce, ciphertext FROM project_secrets"))).all()
    assert len(rows) == 1
    assert bytes(rows[0][0]) != bytes(first[0])
    assert bytes(rows[0][1]) != bytes(first[1])
    assert len(bytes(rows[0][0])) == 12
    assert (await audit_rows(database))[0].event_type == "secret.updated"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("api_token", "did you mean 'API_TOKEN'"),
        ("1TOKEN", "not an environment-variable name"),
        ("MY-TOKEN", "not an environment-variable name"),
        ("A" * 101, "at most 100"),
        ("", "must not be empty"),
    ],
)
def test_bad_secret_names_are_refused_naming_the_problem(name: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        secrets.secret_name(name)
    assert caught.value.field == "key name"
    assert problem in caught.value.problem


async def test_empty_and_oversized_values_are_refused_without_quoting_them(
    database: Database,
) -> None:
    await _project(database)
    with pytest.raises(ValidationError, match="must not be empty"):
        await secrets.set_secret(database, "Billing", "TOKEN", "")
    big = "canary-big-" + "x" * (64 * 1024)
    with pytest.raises(ValidationError, match="at most 65536") as caught:
        await secrets.set_secret(database, "Billing", "TOKEN", big)
    assert "canary" not in str(caught.value)
    await secrets.set_secret(database, "Billing", "TOKEN", "é" * (32 * 1024))
    assert await secrets.list_secrets(database, "Billing")


async def test_wrong_key_gives_a_clear_audited_error(database: Database) -> None:
    await _project(database)
    await secrets.set_secret(database, "Billing", "TOKEN", "canary-wrong-key")
    stranger = crypto.Keyring(keys=(crypto.new_key(),))
    with pytest.raises(DecryptionFailed) as caught:
        await secrets.reveal_secret(database, "Billing", "TOKEN", keyring=stranger)
    message = str(caught.value)
    assert "TOKEN" in message and "'Billing'" in message and "not among the keys" in message
    failure = (await audit_rows(database))[0]
    assert failure.event_type == "secret.decrypt_failed"
    assert failure.category == AuditCategory.SECURITY
    assert failure.severity == Severity.ERROR
    assert (await verify_chain(database)).ok


async def test_corrupted_ciphertext_fails_clearly_and_other_secrets_stay_readable(
    database: Database,
) -> None:
    await _project(database)
    await secrets.set_secret(database, "Billing", "BROKEN", "canary-corrupt-1")
    await secrets.set_secret(database, "Billing", "FINE", "canary-corrupt-2")
    async with database.reading() as session:
        raw = (
            await session.execute(
                text("SELECT ciphertext FROM project_secrets WHERE key_name = 'BROKEN'")
            )
        ).scalar_one()
    flipped = bytearray(bytes(raw))
    flipped[0] ^= 0x01
    await execute(
        database,
        "UPDATE project_secrets SET ciphertext = :c WHERE key_name = 'BROKEN'",
        c=bytes(flipped),
    )
    with pytest.raises(DecryptionFailed, match=r"secret BROKEN of project 'Billing'.*altered"):
        await secrets.reveal_secret(database, "Billing", "BROKEN")
    assert (await secrets.reveal_secret(database, "Billing", "FINE")).reveal() == "canary-corrupt-2"
    assert "secret.decrypt_failed" in [row.event_type for row in await audit_rows(database)]


@pytest.mark.parametrize(
    "tampered",
    [
        # What a hand edit in the sqlite3 shell makes: TEXT, not valid UTF-8.
        "x'00' || substr(ciphertext, 2)",
        "CAST(x'ff00' AS TEXT)",
        # TEXT that is valid UTF-8.
        "'not a ciphertext'",
    ],
)
async def test_ciphertext_turned_into_text_fails_like_any_tampering(
    sqlite_database: Database, tampered: str
) -> None:
    database = sqlite_database
    await _project(database)
    await secrets.set_secret(database, "Billing", "BROKEN", "canary-text-1")
    await secrets.set_secret(database, "Billing", "FINE", "canary-text-2")
    await execute(
        database,
        f"UPDATE project_secrets SET ciphertext = {tampered} WHERE key_name = 'BROKEN'",
    )
    async with database.reading() as session:
        kind = (
            await session.execute(
                text("SELECT typeof(ciphertext) FROM project_secrets WHERE key_name = 'BROKEN'")
            )
        ).scalar_one()
    assert kind == "text"
    with pytest.raises(DecryptionFailed, match=r"secret BROKEN of project 'Billing'.*altered"):
        await secrets.reveal_secret(database, "Billing", "BROKEN")
    assert (await secrets.reveal_secret(database, "Billing", "FINE")).reveal() == "canary-text-2"
    names = [s.key_name for s in await secrets.list_secrets(database, "Billing")]
    assert names == ["BROKEN", "FINE"]
    failures = [r for r in await audit_rows(database) if r.event_type == "secret.decrypt_failed"]
    assert [(r.details["name"], r.category) for r in failures] == [
        ("BROKEN", AuditCategory.SECURITY)
    ]


async def test_ciphertext_moved_to_another_row_or_project_does_not_decrypt(
    database: Database,
) -> None:
    await _project(database, "Billing")
    await _project(database, "Search")
    await secrets.set_secret(database, "Billing", "ONE", "canary-swap-1")
    await secrets.set_secret(database, "Billing", "TWO", "canary-swap-2")
    await secrets.set_secret(database, "Search", "ONE", "canary-swap-3")
    async with database.reading() as session:
        rows = {
            (str(project), name): (bytes(nonce), bytes(ciphertext))
            for project, name, nonce, ciphertext in await session.execute(
                text(
                    "SELECT p.name, s.key_name, s.nonce, s.ciphertext "
                    "FROM project_secrets s JOIN projects p ON p.id = s.project_id"
                )
            )
        }
    # TWO gets ONE's ciphertext (same project); Search's ONE gets Billing's ONE.
    for (project, name), source in [
        (("Billing", "TWO"), ("Billing", "ONE")),
        (("Search", "ONE"), ("Billing", "ONE")),
    ]:
        nonce, ciphertext = rows[source]
        await execute(
            database,
            "UPDATE project_secrets SET nonce = :n, ciphertext = :c WHERE key_name = :k "
            "AND project_id = (SELECT id FROM projects WHERE name = :p)",
            n=nonce,
            c=ciphertext,
            k=name,
            p=project,
        )
    with pytest.raises(DecryptionFailed, match="secret TWO of project 'Billing'"):
        await secrets.reveal_secret(database, "Billing", "TWO")
    with pytest.raises(DecryptionFailed, match="secret ONE of project 'Search'"):
        await secrets.reveal_secret(database, "Search", "ONE")
    assert (await secrets.reveal_secret(database, "Billing", "ONE")).reveal() == "canary-swap-1"


def test_key_file_is_created_private(private_key_file: Path) -> None:
    keyring = crypto.load_keyring()
    assert keyring.path == private_key_file
    assert stat.S_IMODE(private_key_file.stat().st_mode) == 0o600
    assert crypto.load_keyring().current == keyring.current
    assert repr(keyring.current) == f"MasterKey(key_id={keyring.current.key_id!r})"


def test_key_file_readable_by_others_is_refused_with_the_fix(private_key_file: Path) -> None:
    crypto.load_keyring()
    os.chmod(private_key_file, 0o644)
    with pytest.raises(MasterKeyError) as caught:
        crypto.load_keyring()
    assert "mode 0644" in str(caught.value)
    assert f"chmod 600 '{private_key_file}'" in str(caught.value)


def test_malformed_key_file_and_environment_key_are_refused(
    private_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private_key_file.parent.mkdir(parents=True, exist_ok=True)
    private_key_file.write_text("not json")
    private_key_file.chmod(0o600)
    with pytest.raises(MasterKeyError, match="not a projdeck key file"):
        crypto.load_keyring()
    monkeypatch.setenv(crypto.SECRET_KEY_ENV, "c2hvcnQ=")
    with pytest.raises(MasterKeyError, match="must be 32 bytes"):
        crypto.load_keyring()


async def test_environment_key_is_used_instead_of_the_file(
    database: Database, private_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = crypto.new_key()
    monkeypatch.setenv(crypto.SECRET_KEY_ENV, crypto.encode_key(key.material))
    await _project(database)
    stored = await secrets.set_secret(database, "Billing", "TOKEN", "canary-env")
    assert stored.key_id == key.key_id
    assert not private_key_file.exists()
    monkeypatch.delenv(crypto.SECRET_KEY_ENV)
    with pytest.raises(DecryptionFailed, match="not among the keys"):
        await secrets.reveal_secret(database, "Billing", "TOKEN", keyring=crypto.load_keyring())


async def _many_secrets(database: Database) -> dict[tuple[str, str], str]:
    await _project(database, "Billing")
    await _project(database, "Search")
    values = {
        (project, f"KEY_{index}"): f"canary-rotate-{project}-{index}"
        for project in ("Billing", "Search")
        for index in range(3)
    }
    for (project, name), value in values.items():
        await secrets.set_secret(database, project, name, value)
    return values


async def _assert_all_readable(database: Database, values: dict[tuple[str, str], str]) -> None:
    for (project, name), value in values.items():
        assert (await secrets.reveal_secret(database, project, name)).reveal() == value


async def _key_ids_in_use(database: Database) -> set[str]:
    async with database.reading() as session:
        return set((await session.execute(text("SELECT key_id FROM project_secrets"))).scalars())


async def test_rotation_reencrypts_everything_and_retires_the_old_key(
    database: Database, private_key_file: Path
) -> None:
    values = await _many_secrets(database)
    old = crypto.load_keyring().current
    done = await secrets.rotate_key(database)
    assert done.reencrypted == 6 and done.retired == (old.key_id,) and not done.resumed
    keyring = crypto.read_key_file(private_key_file)
    assert keyring.current.key_id == done.key_id != old.key_id
    assert keyring.previous == () and keyring.retired == (replace(old, retired=True),)
    assert await _key_ids_in_use(database) == {done.key_id}
    await _assert_all_readable(database, values)
    assert stat.S_IMODE(private_key_file.stat().st_mode) == 0o600
    assert "secret.key_rotated" in [row.event_type for row in await audit_rows(database)]


class _Killed(Exception):
    pass


async def test_interrupted_rotation_keeps_every_secret_readable_and_a_rerun_finishes(
    database: Database, private_key_file: Path
) -> None:
    values = await _many_secrets(database)
    old = crypto.load_keyring().current

    def die_after_two(done: int, _total: int) -> None:
        if done == 2:
            raise _Killed

    with pytest.raises(_Killed):
        await secrets.rotate_key(database, progress=die_after_two)
    on_disk = json.loads(private_key_file.read_text())
    assert len(on_disk["keys"]) == 2
    new_id = on_disk["keys"][0]["id"]
    assert await _key_ids_in_use(database) == {old.key_id}
    await _assert_all_readable(database, values)

    # Meanwhile a secret is written: it goes under the new key.
    await secrets.set_secret(database, "Billing", "LATE", "canary-late")
    values[("Billing", "LATE")] = "canary-late"
    assert await _key_ids_in_use(database) == {old.key_id, new_id}
    await _assert_all_readable(database, values)

    finished = await secrets.rotate_key(database)
    assert finished.resumed and finished.key_id == new_id
    assert finished.reencrypted == 6 and finished.retired == (old.key_id,)
    assert await _key_ids_in_use(database) == {new_id}
    on_disk = json.loads(private_key_file.read_text())
    assert [(key["id"], key.get("retired")) for key in on_disk["keys"]] == [
        (new_id, None),
        (old.key_id, True),
    ]
    await _assert_all_readable(database, values)
    assert (await verify_chain(database)).ok


async def test_rotation_stops_on_an_undecryptable_secret_and_changes_nothing(
    database: Database, private_key_file: Path
) -> None:
    values = await _many_secrets(database)
    await execute(
        database, "UPDATE project_secrets SET ciphertext = :c WHERE key_name = 'KEY_1'", c=b"x" * 40
    )
    with pytest.raises(DecryptionFailed, match="rotation stopped"):
        await secrets.rotate_key(database)
    assert len(crypto.read_key_file(private_key_file).keys) == 2
    for (project, name), value in values.items():
        if name != "KEY_1":
            assert (await secrets.reveal_secret(database, project, name)).reveal() == value
    await secrets.delete_secret(database, "Billing", "KEY_1")
    await secrets.delete_secret(database, "Search", "KEY_1")
    assert (await secrets.rotate_key(database)).reencrypted == 4


async def test_rotation_with_environment_keys_moves_secrets_to_the_current_one(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = crypto.new_key(), crypto.new_key()
    monkeypatch.setenv(crypto.SECRET_KEY_ENV, crypto.encode_key(old.material))
    values = await _many_secrets(database)
    monkeypatch.setenv(crypto.SECRET_KEY_ENV, crypto.encode_key(new.material))
    monkeypatch.setenv(crypto.PREVIOUS_KEYS_ENV, crypto.encode_key(old.material))
    done = await secrets.rotate_key(database)
    assert done.key_id == new.key_id and done.reencrypted == 6 and done.kept == (old.key_id,)
    monkeypatch.delenv(crypto.PREVIOUS_KEYS_ENV)
    await _assert_all_readable(database, values)


async def test_delete_secret(database: Database) -> None:
    await _project(database)
    await secrets.set_secret(database, "Billing", "TOKEN", "canary-delete")
    await secrets.delete_secret(database, "Billing", "TOKEN")
    assert await secrets.list_secrets(database, "Billing") == []
    with pytest.raises(NotFound, match="has no secret named TOKEN"):
        await secrets.delete_secret(database, "Billing", "TOKEN")
    with pytest.raises(NotFound):
        await secrets.reveal_secret(database, "Billing", "TOKEN")
    assert (await audit_rows(database))[0].event_type == "secret.deleted"
