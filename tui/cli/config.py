"""``projdeck config ...``: where the config file is, what each setting
resolves to and from where, and changing it (``set``, or ``edit`` in the
person's editor) with every value checked."""

from __future__ import annotations

import click

from store import config as settings
from store.errors import ValidationError
from tui.cli.common import example, json_option, print_json
from tui.cli.output import CliState, echo_error, fail


@click.group()
def config() -> None:
    """Show and change the config file (config.toml): database URL, actor,
    theme, diff style, editor, pager, live refresh, keymap."""


@config.command()
def path() -> None:
    """Print the config file's path ($PROJDECK_CONFIG, else config.toml in
    the user config dir); it may not exist yet."""
    click.echo(str(settings.config_path()))


@config.command(epilog=example("projdeck config show", "projdeck config show --json"))
@json_option()
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Every setting: its value and where it came from (option, env, file,
    default), then the keymap. A command-line option wins over an
    environment variable, which wins over the file."""
    from store.redaction import mask_url

    state: CliState = ctx.find_object(CliState) or CliState(None)
    loaded = settings.load()
    rows: dict[str, dict[str, object]] = {}
    for key, setting in settings.SETTINGS.items():
        option = state.db_url_option if key == "database_url" else None
        try:
            resolved = loaded.resolve(key, option)
        except ValidationError as error:
            fail(error.message)
        value = resolved.value
        if key == "database_url" and isinstance(value, str):
            value = mask_url(value)
        rows[key] = {"value": value, "source": resolved.source, "env": setting.env}
    keymap = {
        binding_id: {"keys": keys, "problem": problem}
        for binding_id, keys, problem in _keymap_rows(loaded)
    }
    if as_json:
        print_json(
            {
                "path": str(loaded.path),
                "exists": loaded.path.exists(),
                "settings": rows,
                "keymap": keymap,
                "warnings": loaded.warnings,
            }
        )
        return
    exists = "" if loaded.path.exists() else " (absent: every setting at its default)"
    click.echo(f"config file: {loaded.path}{exists}")
    width = max(len(key) for key in [*rows, *(f"keymap.{id_}" for id_ in keymap)])
    for key, row in rows.items():
        value = row["value"]
        shown = "(none)" if value is None else str(value)
        click.echo(f"{key:<{width}}  {shown}  [{row['source']}]")
    for binding_id, entry in keymap.items():
        problem = f"  ({entry['problem']})" if entry["problem"] else ""
        click.echo(f"{'keymap.' + binding_id:<{width}}  {entry['keys']}  [file]{problem}")


@config.command(
    name="set",
    epilog=example(
        "projdeck config set theme nord",
        "projdeck config set live_refresh_seconds 2",
        "projdeck config set keymap.app.help f1",
    ),
)
@click.argument("key")
@click.argument("value")
def set_command(key: str, value: str) -> None:
    """Set KEY to VALUE in the config file (made if missing), keeping its
    comments. KEY is a setting (projdeck config show lists them) or
    keymap.BINDING_ID (the app's help, ?, lists the ids); VALUE is checked
    first and refused if wrong."""
    try:
        checked = settings.check_value(key, value)
    except ValidationError as error:
        raise click.BadParameter(error.message, param_hint="KEY VALUE") from None
    problem = _app_problem(key, str(checked))
    if problem:
        raise click.BadParameter(f"{key}: {problem}", param_hint="KEY VALUE")
    path = settings.config_path()
    try:
        settings.set_value(path, key, checked)
    except ValidationError as error:
        fail(error.message)
    except OSError as error:
        fail(f"{path}: {(error.strerror or type(error).__name__).lower()}")
    click.echo(f"{key} = {checked} in {path}")


@config.command()
def edit() -> None:
    """Open the config file in your editor (the config's editor, else
    $VISUAL, else $EDITOR, else vi), made with every setting commented out
    if missing; checked when the editor closes (exit status 1 if wrong)."""
    from tui.editor import editor_setting

    path = settings.config_path()
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(settings.commented_defaults(), encoding="utf-8")
        except OSError as error:
            fail(f"{path}: {(error.strerror or type(error).__name__).lower()}")
    try:
        editor = settings.load(path).resolve("editor").value
    except ValidationError as error:
        fail(error.message)
    try:
        click.edit(filename=str(path), editor=editor_setting(editor))
    except click.ClickException as error:
        fail(error.message)
    # Read again, whatever the file's time stamp says.
    loaded = settings.parse(path.read_text(encoding="utf-8", errors="replace"), path)
    problems = loaded.warnings + [
        f"{loaded.where(f'keymap.{binding_id}')}: keymap.{binding_id}: {problem}"
        for binding_id, _, problem in _keymap_rows(loaded)
        if problem
    ]
    for problem in problems:
        echo_error(f"warning: {problem}")
    if problems:
        fail(f"{path} has {len(problems)} problem(s); those settings keep their defaults")
    click.echo(f"{path} is fine")


def _keymap_rows(loaded: settings.UserConfig) -> list[tuple[str, str, str | None]]:
    """Each keymap entry with what is wrong with it, as the app would say."""
    if not loaded.keymap:
        return []
    from tui.bindings import binding_ids, keymap_problems

    problems = keymap_problems(loaded.keymap, binding_ids())
    return [
        (binding_id, keys, problems.get(binding_id)) for binding_id, keys in loaded.keymap.items()
    ]


def _app_problem(key: str, value: str) -> str | None:
    """What the app would refuse in a checked value: a theme it does not
    have, a binding id none has, keys Textual cannot read."""
    if key == "theme":
        from textual.theme import BUILTIN_THEMES

        if value not in BUILTIN_THEMES:
            return f"no theme is named {value!r} (themes: {', '.join(sorted(BUILTIN_THEMES))})"
        return None
    prefix = f"{settings.KEYMAP}."
    if key.startswith(prefix):
        from tui.bindings import binding_ids, keymap_problems

        binding_id = key[len(prefix) :]
        return keymap_problems({binding_id: value}, binding_ids()).get(binding_id)
    return None
