"""Paths and files an agent (or a slip of the hand) may hand projdeck: no
command destroys the workspace, its key or a file through a link."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import crypto
from store.engine import Database
from store.repositories import AuditRepository
from store.services import projects, secrets, workspace
from store.services.audit import verify_chain
from tests.cli import Projdeck

WRITERS = {
    "backup": lambda path: ("backup", path),
    "export": lambda path: ("export", path),
    "audit export": lambda path: ("audit", "export", "--output", path),
}


def _workspace(tmp_path: Path) -> tuple[Projdeck, Path]:
    database = tmp_path / "work.db"
    cli = Projdeck(f"sqlite:///{database}")
    cli.ok("project", "create", "--name", "Billing API", "--type", "api", "--owner", "alice")
    cli.ok("secret", "set", "Billing API", "API_TOKEN", input="canary-files-1\n")
    return cli, database


def _intact(cli: Projdeck) -> None:
    assert cli.ok("secret", "get", "Billing API", "API_TOKEN") == "canary-files-1\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_no_command_writes_over_the_database_its_journals_or_the_key_file(
    tmp_path: Path, private_key_file: Path
) -> None:
    cli, database = _workspace(tmp_path)
    keys_before = private_key_file.read_bytes()
    named = {
        str(database): "is the database this command runs on",
        f"{database}-wal": "is the database's write-ahead log (-wal)",
        f"{database}-shm": "is the database's shared-memory file (-shm)",
        f"{database}-journal": "is the database's rollback journal (-journal)",
        str(private_key_file): "is the master key file",
        # The same files named another way: through the folder's "..".
        str(tmp_path / "sub" / ".." / "work.db"): "is the database this command runs on",
    }
    (tmp_path / "sub").mkdir()
    for command, args in WRITERS.items():
        for path, problem in named.items():
            error = cli.fails(*args(path), "--force")
            assert problem in error, (command, path, error)
            assert "never writes over it" in error
    assert private_key_file.read_bytes() == keys_before
    _intact(cli)


def test_a_hard_link_to_the_database_is_refused_as_the_database(tmp_path: Path) -> None:
    cli, database = _workspace(tmp_path)
    os.link(database, tmp_path / "alias.db")
    for args in WRITERS.values():
        error = cli.fails(*args(str(tmp_path / "alias.db")), "--force")
        assert "is the database this command runs on" in error
    _intact(cli)


def test_a_symbolic_link_is_not_written_through_and_force_replaces_only_the_link(
    tmp_path: Path,
) -> None:
    cli, _database = _workspace(tmp_path)
    elsewhere = tmp_path / "precious.txt"
    elsewhere.write_text("keep me\n")
    link = tmp_path / "out.jsonl"
    for command, args in WRITERS.items():
        link.unlink(missing_ok=True)
        link.symlink_to(elsewhere)
        error = cli.fails(*args(str(link)))
        assert "is a symbolic link (to" in error, command
        assert "add --force to replace the link" in error
        assert link.is_symlink()
        cli.ok(*args(str(link)), "--force")
        assert not link.is_symlink(), command
        assert link.is_file()
        assert elsewhere.read_text() == "keep me\n"


def test_a_device_or_a_pipe_is_refused_even_with_force(tmp_path: Path) -> None:
    cli, _database = _workspace(tmp_path)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    cases = {
        "/dev/null": "/dev/null is a device, not a regular file",
        str(pipe): "is a named pipe, not a regular file",
    }
    for command, args in WRITERS.items():
        for path, problem in cases.items():
            error = cli.fails(*args(path), "--force")
            assert problem in error, (command, path, error)


def test_an_existing_file_is_replaced_only_with_force(tmp_path: Path) -> None:
    cli, _database = _workspace(tmp_path)
    target = tmp_path / "out.file"
    for command, args in WRITERS.items():
        target.write_bytes(b"an older file\n")
        error = cli.fails(*args(str(target)))
        assert (
            error
            == f"error: {'output' if command == 'audit export' else 'file'}: {target} already exists; add --force to replace it\n"
        )
        assert target.read_bytes() == b"an older file\n"
        cli.ok(*args(str(target)), "--force")
        assert target.read_bytes() != b"an older file\n", command


def test_the_database_backups_exports_and_safety_copies_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    old_mask = os.umask(0o022)
    try:
        cli, database = _workspace(tmp_path)
        for command, args in WRITERS.items():
            target = tmp_path / f"{command.replace(' ', '-')}.out"
            cli.ok(*args(str(target)))
            assert _mode(target) == 0o600, command
        restored = cli.ok("restore", str(tmp_path / "backup.out"), "--yes")
    finally:
        os.umask(old_mask)
    assert _mode(database) == 0o600
    safety = Path(restored.splitlines()[-1].removeprefix("the previous workspace was saved to "))
    assert safety.parent == tmp_path
    assert _mode(safety) == 0o600
    leftovers = [path.name for path in tmp_path.iterdir() if ".partial-" in path.name]
    assert leftovers == []


def test_the_database_journals_are_created_private(tmp_path: Path) -> None:
    cli, database = _workspace(tmp_path)
    # An open reader keeps the journals in place to be looked at.
    with contextlib.closing(sqlite3.connect(database)) as reader:
        reader.execute("SELECT count(*) FROM projects").fetchone()
        cli.ok("project", "create", "--name", "Another", "--type", "cli", "--owner", "bob")
        assert _mode(Path(f"{database}-wal")) == 0o600
        assert _mode(Path(f"{database}-shm")) == 0o600


def test_an_empty_database_file_is_not_started_afresh_in_silence(tmp_path: Path) -> None:
    database = tmp_path / "work.db"
    database.write_bytes(b"")
    cli = Projdeck(f"sqlite:///{database}")
    error = cli.fails("project", "list")
    assert f"the database file {database} is empty (0 bytes)" in error
    assert f"remove it (rm '{database}') and run projdeck again" in error
    assert database.stat().st_size == 0
    database.unlink()
    assert cli.ok("project", "list") == "no projects\n"


def test_a_lost_key_file_is_not_replaced_by_a_new_key_while_secrets_need_it(
    tmp_path: Path, private_key_file: Path
) -> None:
    cli, _database = _workspace(tmp_path)
    key_id = cli.json("secret", "list", "Billing API")["items"][0]["key_id"]
    kept = tmp_path / "keys.kept"
    private_key_file.rename(kept)

    refused = cli.fails("secret", "set", "Billing API", "OTHER", input="x\n")
    assert f"no key file at {private_key_file}" in refused
    assert f"this database holds 1 secret encrypted with key {key_id}" in refused
    assert "'projdeck secret new-key'" in refused
    assert f"key {key_id}" in cli.fails("secret", "rotate-key")
    assert f"needs key {key_id}" in cli.fails("secret", "get", "Billing API", "API_TOKEN")
    assert not private_key_file.exists()

    kept.rename(private_key_file)
    _intact(cli)


def test_new_key_starts_a_key_file_only_when_asked_and_says_what_stays_unreadable(
    tmp_path: Path, private_key_file: Path
) -> None:
    cli, _database = _workspace(tmp_path)
    key_id = cli.json("secret", "list", "Billing API")["items"][0]["key_id"]
    assert "exists" in cli.fails("secret", "new-key")
    private_key_file.unlink()
    made = cli.ok("secret", "new-key")
    assert f"1 secret under key {key_id} cannot be read: set them again" in made
    assert _mode(private_key_file) == 0o600
    cli.ok("secret", "set", "Billing API", "API_TOKEN", input="set again\n")
    assert cli.ok("secret", "get", "Billing API", "API_TOKEN") == "set again\n"
    events = [row["event_type"] for row in cli.json("audit", "list")["items"]]
    assert "secret.key_created" in events


def test_a_backup_taken_before_a_key_rotation_restores_with_readable_secrets(
    tmp_path: Path,
) -> None:
    cli, _database = _workspace(tmp_path)
    old_key = cli.json("secret", "list", "Billing API")["items"][0]["key_id"]
    cli.ok("backup", str(tmp_path / "before.db"))
    rotated = cli.ok("secret", "rotate-key")
    cli.ok("restore", str(tmp_path / "before.db"), "--yes")
    assert cli.json("secret", "list", "Billing API")["items"][0]["key_id"] == old_key
    _intact(cli)
    assert f"retired key {old_key}: kept in" in rotated
    assert "under older keys (projdeck secret rotate-key moves them)" in cli.ok("doctor")


def test_doctor_reports_secrets_under_a_key_it_does_not_have(
    tmp_path: Path, private_key_file: Path
) -> None:
    cli, _database = _workspace(tmp_path)
    key_id = cli.json("secret", "list", "Billing API")["items"][0]["key_id"]
    private_key_file.unlink()
    cli.ok("secret", "new-key")
    report = cli.run("doctor")
    assert report.returncode == 1
    assert (
        f"FAIL secret keys: 1 secret encrypted with key {key_id}, which is not among the keys "
        f"in {private_key_file}: they cannot be read"
    ) in report.stdout


async def test_rotations_started_together_take_turns_without_false_alarms(
    database: Database, private_key_file: Path
) -> None:
    await projects.create_project_with_settings(
        database, projects.ProjectCreate(name="Billing API", type="api", owner_id="alice")
    )
    values = {f"TOKEN_{index}": f"canary-turns-{index}" for index in range(20)}
    for name, value in values.items():
        await secrets.set_secret(database, "Billing API", name, value)
    # What two processes starting at once both read before either writes.
    seen_by_both = crypto.load_keyring()
    first, second = await asyncio.gather(
        secrets.rotate_key(database, keyring=seen_by_both),
        secrets.rotate_key(database, keyring=seen_by_both),
    )
    assert {first.reencrypted, second.reencrypted} == {20}
    assert len({first.key_id, second.key_id, seen_by_both.current.key_id}) == 3
    for name, value in values.items():
        assert (await secrets.reveal_secret(database, "Billing API", name)).reveal() == value
    async with database.reading() as session:
        events = [entry.event_type for entry in await AuditRepository(session).list(limit=500)]
    assert "secret.decrypt_failed" not in events
    keyring = crypto.read_key_file(private_key_file)
    assert keyring.previous == ()
    assert {key.key_id for key in keyring.retired} == {
        seen_by_both.current.key_id,
        *({first.key_id, second.key_id} - {keyring.current.key_id}),
    }


def _dead_pid() -> int:
    """The id of a process that has ended (as one killed mid-backup has)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_partial_files_of_a_killed_run_are_reported_and_removed_by_the_next(
    tmp_path: Path,
) -> None:
    cli, database = _workspace(tmp_path)
    leftovers = [
        tmp_path / f".work.db.partial-{_dead_pid()}-0123abcd",
        tmp_path / f".work.db.partial-{_dead_pid()}-0123abcd-wal",
        tmp_path / f".backup.db.partial-{_dead_pid()}-89abcdef",
        tmp_path / ".old.jsonl.partial-fedcba98",
    ]
    for path in leftovers:
        path.write_bytes(b"ciphertexts and webhook URLs")
    report = cli.run("doctor")
    assert report.returncode == 1
    assert f"FAIL leftover files: 4 partial files (112 bytes) left in {tmp_path}" in report.stdout
    cli.ok("backup", str(tmp_path / "backup.db"))
    assert [path for path in leftovers if path.exists()] == []
    assert "ok   leftover files: no partial files" in cli.ok("doctor")
    assert database.exists()


async def test_a_restore_stopped_just_after_the_swap_is_in_the_audit_log(
    sqlite_database: Database, tmp_path: Path
) -> None:
    await projects.create_project_with_settings(
        sqlite_database, projects.ProjectCreate(name="Billing API", type="api", owner_id="alice")
    )
    backup = tmp_path / "backup.db"
    await workspace.backup_database(sqlite_database, backup)
    reports = 0

    def stop_during_the_swap(_done: int) -> None:
        # Called once for the staged copy, then from the swap itself: the
        # swap runs on in its thread and completes; the restore stops there.
        nonlocal reports
        reports += 1
        if reports == 2:
            restoring.cancel()

    restoring = asyncio.ensure_future(
        workspace.restore_database(sqlite_database, backup, progress=stop_during_the_swap)
    )
    with pytest.raises(asyncio.CancelledError):
        await restoring
    assert reports == 2
    async with sqlite_database.reading() as session:
        newest = (await AuditRepository(session).list(limit=1))[0]
    assert newest.event_type == "workspace.restored"
    assert (await verify_chain(sqlite_database)).ok


async def test_restores_within_one_second_keep_a_safety_copy_each(
    sqlite_database: Database, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.db"
    await workspace.backup_database(sqlite_database, backup)
    live = Path(str(sqlite_database.url.database))
    # Safety copies already taken this minute: none is replaced.
    start = datetime.now(UTC)
    taken = []
    for second in range(60):
        stamp = (start + timedelta(seconds=second)).strftime("%Y%m%dT%H%M%SZ")
        taken.append(live.with_name(f"{live.stem}.before-restore-{stamp}.db"))
        taken[-1].write_bytes(b"an earlier safety copy")
    result = await workspace.restore_database(sqlite_database, backup)
    assert result.safety_backup.name.endswith("-2.db")
    assert all(path.read_bytes() == b"an earlier safety copy" for path in taken)
