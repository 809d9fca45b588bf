"""Bounded work for any input: JSON nested 100,000 levels deep, numbers of
thousands of digits, /dev/zero or an endless pipe given where a file or JSON
is read. Each is refused with an error line naming the option and the limit,
read with a cap before parsing; no RecursionError, ValueError, MemoryError
or traceback reaches the user, and no command hangs."""

from __future__ import annotations

import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from store.config import normalize_url
from store.engine import Database
from tests.cli import SCRIPT, Projdeck
from tests.pg_proxy import PostgresProxy

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_NUMBER = '{"n": ' + "7" * 5000 + "}"
# Each command runs with this much address space at most, so a read without
# a cap fails (MemoryError) instead of taking the machine's memory.
ADDRESS_SPACE = 2 * 1024 * 1024 * 1024


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


class BoundedProjdeck(Projdeck):
    """The CLI run with a memory limit."""

    preexec_fn = staticmethod(_limit_memory)


@dataclass
class Workspace:
    cli: Projdeck
    modification: str
    conversation: str
    run: str


@pytest.fixture(scope="module")
def workspace(
    migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Workspace:
    """A SQLite database with a project Demo, a modification under review,
    a conversation and a running agent run; shared by the tests of this
    file, whose commands are all refused and change nothing."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    target = tmp_path / "projdeck.db"
    shutil.copyfile(migrated_sqlite_template, target)
    cli = BoundedProjdeck(
        normalize_url(f"sqlite:///{target}"), PROJDECK_KEY_FILE=str(tmp_path / "keys.json")
    )
    source = tmp_path / "main.py"
    source.write_text("print('hello')\n", encoding="utf-8")
    cli.ok("project", "create", "--name", "Demo", "--type", "api", "--owner", "ann")
    modification = cli.ok(
        "mod", "propose", "Demo", "--request", "add main", "--file", f"main.py={source}"
    ).strip()
    conversation = cli.ok("agent", "conversation", "start", "Demo", "--title", "t").strip()
    run = cli.ok("agent", "run", "start", "Demo", "--agent", "bot", "--task", "t").strip()
    return Workspace(cli, modification, conversation, run)


# Every option that reads JSON: the command around it (VALUE is the option's
# value) and the field its errors name.
JSON_OPTIONS = {
    "project update --state": (("project", "update", "Demo", "--state", "VALUE"), "state"),
    "project update --deployment-config": (
        ("project", "update", "Demo", "--deployment-config", "VALUE"),
        "deployment_config",
    ),
    "mod propose --impact": (
        ("mod", "propose", "Demo", "--request", "r", "--impact", "VALUE"),
        "impact_analysis",
    ),
    "mod propose --tests": (
        ("mod", "propose", "Demo", "--request", "r", "--tests", "VALUE"),
        "test_results",
    ),
    "mod attach-tests --tests": (
        ("mod", "attach-tests", "MOD", "--tests", "VALUE"),
        "test_results",
    ),
    "agent message --metadata": (
        ("agent", "message", "CONV", "--role", "user", "--content", "hi", "--metadata", "VALUE"),
        "metadata",
    ),
    "agent run finish --tests": (
        ("agent", "run", "finish", "RUN", "--status", "succeeded", "--tests", "VALUE"),
        "tests",
    ),
}


def _args(workspace: Workspace, command: tuple[str, ...], value: str) -> list[str]:
    names = {
        "VALUE": value,
        "MOD": workspace.modification,
        "CONV": workspace.conversation,
        "RUN": workspace.run,
    }
    return [names.get(part, part) for part in command]


@pytest.mark.parametrize("option", list(JSON_OPTIONS))
def test_json_nested_100000_levels_deep_is_refused_naming_the_field(
    workspace: Workspace, tmp_path: Path, option: str
) -> None:
    command, field = JSON_OPTIONS[option]
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP, encoding="utf-8")

    stderr = workspace.cli.fails(*_args(workspace, command, f"@{deep}"))

    assert stderr == f"error: {field}: is nested deeper than 32 levels\n"


@pytest.mark.parametrize("option", ["project update --state", "agent message --metadata"])
def test_json_number_of_5000_digits_is_refused_naming_the_field(
    workspace: Workspace, option: str
) -> None:
    command, field = JSON_OPTIONS[option]

    stderr = workspace.cli.fails(*_args(workspace, command, HUGE_NUMBER))

    assert stderr == f"error: {field}: has a number longer than 1000 digits\n"


def test_payload_nested_100000_levels_deep_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    payload = tmp_path / "payload.json"
    payload.write_text('{"request": "r", "impact_analysis": ' + DEEP + "}", encoding="utf-8")

    stderr = workspace.cli.fails("mod", "propose", "Demo", "--payload", str(payload))

    assert stderr == "error: payload: is nested deeper than 32 levels\n"


# Every way a file is read (the JSON options all read @FILE as --state does):
# the command, the error's field, the cap and the option.
FILE_OPTIONS = {
    "project update --state": (
        JSON_OPTIONS["project update --state"][0],
        "state",
        "4 MiB",
        "--state",
    ),
    "project update --file": (
        ("project", "update", "Demo", "--file", "a.py=FILE"),
        "file",
        "1 MiB",
        "--file",
    ),
    "project create --file": (
        ("project", "create", "--name", "B", "--type", "api", "--owner", "o", "--file", "a=FILE"),
        "file",
        "1 MiB",
        "--file",
    ),
    "mod propose --file": (
        ("mod", "propose", "Demo", "--request", "r", "--file", "a.py=FILE"),
        "modified_files[a.py]",
        "1 MiB",
        "--file",
    ),
    "mod propose --payload": (
        ("mod", "propose", "Demo", "--payload", "FILE"),
        "payload",
        "51 MiB",
        "--payload",
    ),
    "agent message --content-file": (
        ("agent", "message", "CONV", "--role", "user", "--content-file", "FILE"),
        "content",
        "4 MiB",
        "--content-file",
    ),
}


def _file_args(workspace: Workspace, option: str, path: str) -> list[str]:
    command = FILE_OPTIONS[option][0]
    value = f"@{path}" if option in JSON_OPTIONS else path
    return [part.replace("FILE", path) for part in _args(workspace, command, value)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("option", list(FILE_OPTIONS))
def test_dev_zero_as_a_file_is_refused_at_the_read_limit(workspace: Workspace, option: str) -> None:
    _, field, limit, flag = FILE_OPTIONS[option]

    stderr = workspace.cli.fails(*_file_args(workspace, option, "/dev/zero"))

    assert stderr == f"error: {field}: /dev/zero is larger than {limit}, the most {flag} reads\n"


def _run_fed_by_endless_pipe(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with standard input from a writer that never stops."""
    with subprocess.Popen(["yes", "x" * 100], stdout=subprocess.PIPE) as endless:
        try:
            return subprocess.run(
                [str(SCRIPT), "--db-url", workspace.cli.url, *args],
                stdin=endless.stdout,
                capture_output=True,
                text=True,
                env=workspace.cli.env,
                timeout=60,
                check=False,
                preexec_fn=_limit_memory,
            )
        finally:
            endless.kill()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("mod", "propose", "Demo", "--payload", "-"),
            "payload: standard input is larger than 51 MiB, the most --payload reads",
        ),
        (
            ("project", "update", "Demo", "--state", "@-"),
            "state: standard input is larger than 4 MiB, the most --state reads",
        ),
        (
            ("agent", "message", "CONV", "--role", "user", "--content-file", "-"),
            "content: standard input is larger than 4 MiB, the most --content-file reads",
        ),
        (
            ("secret", "set", "Demo", "TOKEN"),
            "value: standard input is larger than 256 KiB, the most secret set reads",
        ),
    ],
)
def test_an_endless_pipe_on_standard_input_is_refused_at_the_read_limit(
    workspace: Workspace, args: tuple[str, ...], expected: str
) -> None:
    result = _run_fed_by_endless_pipe(workspace, *_args(workspace, args, ""))

    assert result.returncode == 1, result.stderr
    assert result.stderr == f"error: {expected}\n"


@pytest.mark.timeout(120)
def test_importing_dev_zero_is_refused_as_not_an_export(workspace: Workspace) -> None:
    stderr = workspace.cli.fails("import", "/dev/zero")

    assert stderr == "error: file: /dev/zero is not a projdeck export\n"


def test_an_export_line_nested_100000_levels_deep_is_refused_with_its_line(
    workspace: Workspace, tmp_path: Path
) -> None:
    dump = tmp_path / "dump.jsonl"
    workspace.cli.ok("export", str(dump))
    lines = dump.read_text(encoding="utf-8").splitlines(keepends=True)
    dump.write_text("".join([lines[0], DEEP + "\n", *lines[1:]]), encoding="utf-8")

    stderr = workspace.cli.fails("import", str(dump))

    assert stderr == "error: line 2: is nested deeper than 32 levels\n"


def test_a_template_json_nested_100000_levels_deep_is_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "deep"
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "README.md").write_text("hi\n", encoding="utf-8")
    (folder / "template.json").write_text(DEEP, encoding="utf-8")

    stderr = workspace.cli.fails("template", "import", str(folder))

    assert stderr == "error: deep/template.json: is nested deeper than 32 levels\n"


# -- driver and connection errors -------------------------------------------------


@pytest.fixture
def damaged_sqlite(migrated_sqlite_template: Path, tmp_path: Path) -> BoundedProjdeck:
    """A projdeck SQLite file with some of its pages overwritten."""
    target = tmp_path / "damaged.db"
    shutil.copyfile(migrated_sqlite_template, target)
    cli = BoundedProjdeck(
        normalize_url(f"sqlite:///{target}"), PROJDECK_KEY_FILE=str(tmp_path / "keys.json")
    )
    for name in ("one", "two", "three"):
        cli.ok("project", "create", "--name", name, "--type", "api", "--owner", "o")
    with target.open("r+b") as file:
        file.seek(3 * 4096)
        file.write(b"\xa5" * 6 * 4096)
    return cli


def test_doctor_on_a_damaged_sqlite_file_reports_the_failed_integrity_check(
    damaged_sqlite: BoundedProjdeck,
) -> None:
    result = damaged_sqlite.run("doctor")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "FAIL integrity: " in result.stdout
    assert "database disk image is malformed" in result.stdout


@pytest.mark.parametrize("command", ["export", "backup"])
def test_export_and_backup_of_a_damaged_sqlite_file_end_in_an_error_line(
    damaged_sqlite: BoundedProjdeck, tmp_path: Path, command: str
) -> None:
    stderr = damaged_sqlite.fails(command, str(tmp_path / "copy"))

    assert stderr.startswith("error: database error on sqlite+aiosqlite:///")
    assert stderr.endswith(": database disk image is malformed\n")
    assert not (tmp_path / "copy").exists()


def _chunks_used(proxy: PostgresProxy, cli: Projdeck, *args: str) -> int:
    """How many chunks the client sends the server while running a command."""
    plenty = 1_000_000
    proxy.restart()
    proxy.cut_after(plenty)
    cli.ok(*args)
    left = proxy.chunks_left()
    assert left is not None
    proxy.restart()
    return plenty - left


@pytest.mark.postgres
@pytest.mark.timeout(300)
@pytest.mark.parametrize("command", ["export", "backup", "import"])
def test_postgres_lost_during_a_workspace_command_ends_in_an_error_line(
    proxied_postgres: tuple[PostgresProxy, URL], tmp_path: Path, command: str
) -> None:
    """The server goes away at several points of the command's conversation
    with it: each run succeeds or ends in one error line, never a traceback."""
    proxy, url = proxied_postgres
    cli = Projdeck(url, PROJDECK_CONNECT_DELAYS="")
    for index in range(30):
        cli.ok("project", "create", "--name", f"p{index}", "--type", "api", "--owner", "o")
    dump = tmp_path / "dump.jsonl"
    cli.ok("export", str(dump))
    args = (command, str(dump if command == "import" else tmp_path / "out"))
    used = _chunks_used(proxy, cli, *args)
    failures = []
    for budget in sorted({used // 4, used // 2, 3 * used // 4, used - 2}):
        proxy.cut_after(budget)
        result = cli.run(*args)
        proxy.restart()
        assert "Traceback" not in result.stderr, (budget, result.stderr)
        if result.returncode:
            assert result.returncode == 1
            assert result.stderr.startswith("error: "), result.stderr
            assert result.stderr.count("\n") == 1, result.stderr
            failures.append(budget)
    assert failures


# -- PostgreSQL timeouts ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_a_frozen_postgres_server_fails_a_command_at_the_connect_timeout(
    proxied_postgres: tuple[PostgresProxy, URL],
) -> None:
    proxy, url = proxied_postgres
    cli = Projdeck(url, PROJDECK_CONNECT_DELAYS="", PROJDECK_CONNECT_TIMEOUT="1")
    proxy.freeze()

    stderr = cli.fails("project", "list")

    assert stderr.startswith("error: cannot reach the database postgresql+asyncpg://")
    assert stderr.endswith(": no answer within 1 s (PROJDECK_CONNECT_TIMEOUT)\n")


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_a_statement_waiting_past_the_statement_timeout_fails_the_command(
    proxied_postgres: tuple[PostgresProxy, URL],
) -> None:
    """A table locked by someone else: the server cancels the statement."""
    import asyncpg

    from tests.conftest import run_blocking

    _, url = proxied_postgres
    cli = Projdeck(url, PROJDECK_STATEMENT_TIMEOUT="1")
    cli.ok("project", "create", "--name", "p", "--type", "api", "--owner", "o")
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def while_locked() -> str:
        holder = await asyncpg.connect(dsn)
        try:
            async with holder.transaction():
                await holder.execute("LOCK TABLE projects IN ACCESS EXCLUSIVE MODE")
                import asyncio

                return await asyncio.to_thread(cli.fails, "project", "list")
        finally:
            await holder.close()

    stderr = run_blocking(while_locked())

    assert stderr.startswith("error: ")
    assert stderr.endswith("the statement ran longer than 1 s (PROJDECK_STATEMENT_TIMEOUT)\n"), (
        stderr
    )


@pytest.mark.postgres
@pytest.mark.timeout(120)
async def test_a_connection_frozen_mid_session_fails_the_call_in_bounded_time(
    proxied_postgres: tuple[PostgresProxy, URL], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from store.engine import open_database
    from store.errors import StoreUnavailable
    from store.services import projects

    proxy, url = proxied_postgres
    monkeypatch.setenv("PROJDECK_STATEMENT_TIMEOUT", "1")
    monkeypatch.setenv("PROJDECK_CONNECT_TIMEOUT", "1")
    db = await open_database(url, connect_delays=())
    try:
        await projects.list_projects(db)
        await asyncio.to_thread(proxy.freeze)
        with pytest.raises(StoreUnavailable, match="no answer within"):
            await projects.create_project_with_settings(
                db, projects.ProjectCreate(name="frozen", type="api", owner_id="o")
            )
    finally:
        await asyncio.wait_for(db.dispose(), 30)


# -- templates -------------------------------------------------------------------------------


def _template_folder(root: Path, content: str, variables: list[dict[str, object]]) -> Path:
    import json

    folder = root / "runaway"
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "out.txt.jinja").write_text(content, encoding="utf-8")
    metadata = {"name": "runaway", "category": "api", "variables": variables}
    (folder / "template.json").write_text(json.dumps(metadata), encoding="utf-8")
    return folder


RUNAWAY_TEMPLATES = {
    "a huge replace": (
        "{{ ('x' * 100000) | replace('x', 'x' * 100000) }}",
        "files: rendering needs more than 512 MiB of memory",
    ),
    "a huge join": (
        "{{ ','.join(['x' * 100000] * 100000) }}",
        "files: rendering needs more than 512 MiB of memory",
    ),
    "lipsum of billions of words": (
        "{{ lipsum(100000, min=99999, max=100000) }}",
        "files: rendering took longer than 10 s and was stopped",
    ),
    "nested loops with empty bodies": (
        "{% set s = 'y' * 100000 %}{% for i in range(100000) %}{% for c in s %}"
        "{% endfor %}{% endfor %}",
        "files: rendering took longer than 10 s and was stopped",
    ),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("attack", list(RUNAWAY_TEMPLATES))
async def test_a_runaway_template_is_stopped_with_a_clear_message(
    sqlite_database: Database, tmp_path: Path, attack: str
) -> None:
    from store.errors import ValidationError
    from store.services import templates

    content, message = RUNAWAY_TEMPLATES[attack]
    await templates.import_template(sqlite_database, _template_folder(tmp_path, content, []))

    with pytest.raises(ValidationError) as refused:
        await templates.preview_template(sqlite_database, "runaway", {})

    assert refused.value.message == message


@pytest.mark.timeout(120)
@pytest.mark.parametrize("pattern", [r"^(a+)+$", r"^(\w+\s?)*$", r"^(a|aa)*c$"])
async def test_importing_a_catastrophic_variable_pattern_is_refused(
    sqlite_database: Database, tmp_path: Path, pattern: str
) -> None:
    from store.errors import ValidationError
    from store.services import templates

    folder = _template_folder(tmp_path, "{{ name }}", [{"name": "name", "pattern": pattern}])

    with pytest.raises(ValidationError) as refused:
        await templates.import_template(sqlite_database, folder)

    assert refused.value.message == (
        "runaway/template.json: variable 'name' pattern takes longer than 2 s to check a "
        "value of 500 characters (nested repetition such as (a+)+?)"
    )
    assert (await templates.list_templates(sqlite_database)).total == 0
