"""``projdeck mod ...``: propose, list, show, review, apply, reopen and
revert modifications, for agents and scripts."""

from __future__ import annotations

import json
from typing import Any

import click

from store import validation
from store.errors import ValidationError
from store.ids import short_id
from store.models import Modification, ModificationStatus
from store.services import modifications as service
from store.services import review, shapes
from tui.cli import review as review_cli
from tui.cli.common import (
    call_service,
    echo_fields,
    example,
    json_input,
    json_option,
    paged_list,
    print_json,
    print_page,
    print_record,
    project_option,
    read_input,
    when_option,
)
from tui.cli.completion import complete_modification, complete_project
from tui.cli.group import LazyGroup
from tui.cli.output import echo_exact, fail
from tui.cli.pager import paged
from tui.cli.tables import Column, first_line

_STATUSES = click.Choice([member.value for member in ModificationStatus])
_AGAINST = {
    "codebase": "the current codebase",
    "base commit": "the commit it was made against",
    "before apply": "what they held before the apply",
}
# Options that describe a proposal one by one; --payload gives them all at once.
_PROPOSAL_OPTIONS = {
    "request": "--request",
    "requested_by": "--requested-by",
    "files": "--file",
    "deletes": "--delete",
    "impact": "--impact",
    "tests": "--tests",
}


# The whole proposal: its files and the JSON around them.
_MAX_PAYLOAD_BYTES = validation.MAX_JSON_BYTES + validation.MAX_CODEBASE_BYTES


def _local_files(items: tuple[str, ...]) -> dict[str, str | None]:
    """``--file PATH=LOCALFILE``: the codebase path and the file to read."""
    files: dict[str, str | None] = {}
    for item in items:
        path, sep, local = item.partition("=")
        if not sep or not path or not local:
            raise ValidationError("file", f"{item!r} is not PATH=LOCALFILE")
        clean = validation.codebase_path(path, "file")
        files[clean] = read_input(
            f"modified_files[{clean}]", "--file", local, limit=validation.MAX_FILE_BYTES
        )
    return files


def _proposal(
    *,
    payload: str | None,
    options: dict[str, Any],
) -> service.ModificationProposal:
    if payload is not None:
        given = [flag for name, flag in _PROPOSAL_OPTIONS.items() if options[name]]
        if given:
            raise click.UsageError(f"--payload gives the whole proposal; drop {', '.join(given)}")
        text = read_input("payload", "--payload", payload, limit=_MAX_PAYLOAD_BYTES)
        return service.proposal_from_payload(validation.parse_json("payload", text))
    if not options["request"]:
        raise click.UsageError("give --request TEXT (or the whole proposal with --payload)")
    files = _local_files(options["files"])
    for path in options["deletes"]:
        clean = validation.codebase_path(path, "delete")
        if clean in files:
            raise ValidationError("delete", f"{path!r} is also given with --file")
        files[clean] = None
    return service.ModificationProposal(
        request=options["request"],
        requested_by=options["requested_by"],
        modified_files=files,
        impact_analysis=json_input("impact_analysis", "--impact", options["impact"])
        if options["impact"]
        else {},
        test_results=json_input("test_results", "--tests", options["tests"])
        if options["tests"]
        else {},
    )


def _propose_from_git(ctx: click.Context, ref: str, options: dict[str, Any]) -> Modification:
    from store.services import git

    patch, rev, worktree = options["patch"], options["rev"], options["worktree"]
    given = (("--patch", patch), ("--from-git", rev), ("--from-worktree", worktree))
    sources = [flag for flag, value in given if value is not None]
    if len(sources) > 1:
        raise click.UsageError(f"give one of {', '.join(sources)}")
    files_given = [
        flag for name, flag in _PROPOSAL_OPTIONS.items() if name in _FILE_OPTIONS and options[name]
    ]
    if options["payload"] is not None:
        files_given.append("--payload")
    if files_given:
        raise click.UsageError(f"{sources[0]} gives the files; drop {', '.join(files_given)}")
    try:
        source = git.GitSource(
            patch=None
            if patch is None
            else read_input("patch", "--patch", patch, limit=_MAX_PATCH_READ_BYTES),
            rev=rev,
            worktree=worktree,
        )
        impact = (
            json_input("impact_analysis", "--impact", options["impact"])
            if options["impact"]
            else None
        )
        tests = (
            json_input("test_results", "--tests", options["tests"]) if options["tests"] else None
        )
    except ValidationError as error:
        fail(error.message)
    return call_service(
        ctx,
        git.propose_from_git,
        ref,
        source,
        request=options["request"],
        requested_by=options["requested_by"],
        impact_analysis=impact,
        test_results=tests,
        **_lineage(options),
    )


def _lineage(options: dict[str, Any]) -> dict[str, Any]:
    """What a proposal passes on however its change is given: the run that
    proposes it and the modification it revises."""
    return {"run_ref": options["run_id"], "revises": options["revises"]}


_FILE_OPTIONS = {"files", "deletes"}
_MAX_PATCH_READ_BYTES = 50 * 1024 * 1024


# ``mod test`` brings the test runner and git with it (pygit2): imported
# when it runs, so that every other ``mod`` command starts without them.
LAZY_COMMANDS = {
    "test": (
        "tui.cli.testing:test",
        "Run the project's setup and test commands on a proposed change.",
    ),
}


@click.group("mod", cls=LazyGroup, lazy=LAZY_COMMANDS)
def mod() -> None:
    """Propose, review, apply and revert modifications of a project's codebase.

    ID is a modification's full id or a unique prefix of at least 6
    characters; REF is a project's id, id prefix, exact name or GitHub
    owner/repo.
    """


@mod.command(
    "propose",
    epilog=example(
        'projdeck mod propose billing-api --request "Retry failed charges" \\',
        "  --file src/charge.py=./charge.py --delete src/old_retry.py",
    ),
)
@click.argument("ref", shell_complete=complete_project)
@click.option("--request", help="What the change is for (required unless --payload).")
@click.option("--requested-by", metavar="NAME", help="Who asks (default: $PROJDECK_ACTOR or you).")
@click.option(
    "--file",
    "files",
    multiple=True,
    metavar="PATH=LOCALFILE",
    help="New content of PATH, read from LOCALFILE (repeatable).",
)
@click.option(
    "--delete", "deletes", multiple=True, metavar="PATH", help="Delete PATH (repeatable)."
)
@click.option("--impact", metavar="JSON|@FILE", help="Impact analysis, a JSON object.")
@click.option("--tests", metavar="JSON|@FILE", help="Test results, a JSON object.")
@click.option(
    "--payload",
    metavar="FILE|-",
    help="The whole proposal as one JSON document (request, requested_by, modified_files, "
    "affected_files, impact_analysis, test_results); - reads standard input.",
)
@click.option(
    "--patch",
    metavar="FILE|-",
    help="The change as a unified diff (git diff, git format-patch); - reads standard input. "
    "Applied to the tip of the linked branch, or to the stored codebase of an unlinked project.",
)
@click.option(
    "--from-git",
    "rev",
    metavar="REV",
    help="The change of a branch or commit of the linked repository since it left the "
    "project's branch, or of a range A..B.",
)
@click.option(
    "--from-worktree",
    "worktree",
    metavar="PATH",
    type=click.Path(file_okay=False, path_type=str),
    help="The uncommitted work of a working tree of the linked repository (git worktree).",
)
@click.option(
    "--run",
    "run_id",
    metavar="RUN_ID",
    help="The agent run (of the same project) that proposes it.",
)
@click.option(
    "--revises",
    metavar="ID",
    shell_complete=complete_modification,
    help="A rejected or partly approved modification this one is the next revision of.",
)
@json_option("Print the new modification as JSON.")
@click.pass_context
def propose(ctx: click.Context, /, ref: str, as_json: bool, **options: Any) -> None:
    """Propose a change to project REF's codebase. Prints the new id.

    The change is given as files (--file, --delete), as one JSON document
    (--payload), or from git (--patch, --from-git, --from-worktree), which
    records the commit it was made against; the request and who asks then
    default to the commit's message and author."""
    if any(options[name] is not None for name in ("patch", "rev", "worktree")):
        created = _propose_from_git(ctx, ref, options)
    else:
        try:
            proposal = _proposal(payload=options["payload"], options=options)
        except ValidationError as error:
            fail(error.message)
        created = call_service(
            ctx,
            service.propose_modification,
            ref,
            proposal,
            **_lineage(options),
        )
    print_record(created, shapes.modification_as_dict, str(created.id), as_json=as_json)


@mod.command(
    "list",
    epilog=example(
        "projdeck mod list --status pending --requested-by codex --since 3d --newest",
    ),
)
@project_option("Only this project's.")
@click.option(
    "--status", "statuses", multiple=True, type=_STATUSES, help="Only these statuses (repeatable)."
)
@click.option("--requested-by", metavar="NAME", help="Only those NAME asked for.")
@click.option(
    "--since", metavar="WHEN", help="Requested at or after WHEN: ISO date/time, or an age: 2h, 3d."
)
@click.option("--until", metavar="WHEN", help="Requested before WHEN (exclusive), or an age.")
@click.option("--search", metavar="TEXT", help="Only those with TEXT in the request or requester.")
@click.option("--newest", is_flag=True, help="Newest first (default: oldest first).")
@paged_list
def list_modifications(
    ctx: click.Context,
    project_ref: str | None,
    statuses: tuple[str, ...],
    requested_by: str | None,
    since: str | None,
    until: str | None,
    search: str | None,
    newest: bool,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List modifications in the order they were requested, oldest first. The
    filters combine: each narrows the list."""
    wanted = [ModificationStatus(status) for status in statuses]
    try:
        start, end = when_option("since", since), when_option("until", until)
    except ValidationError as error:
        fail(error.message)

    page = call_service(
        ctx,
        review.list_modifications,
        project_ref=project_ref,
        statuses=wanted,
        requested_by=requested_by,
        since=start,
        until=end,
        search=search,
        oldest_first=not newest,
        limit=limit,
        offset=offset,
    )
    print_page(
        page,
        shapes.modification_row_as_dict,
        as_json=as_json,
        noun="modifications",
        columns=(
            Column("ID"),
            Column("PROJECT", most=20),
            Column("STATUS"),
            Column("FILES", numeric=True),
            Column("BY", most=14),
            Column("REQUESTED"),
            Column("REQUEST"),
        ),
        cells=lambda row: (
            short_id(row.id),
            row.project_name,
            str(row.status),
            str(len(row.affected_files)),
            row.requested_by,
            f"{row.requested_at:%Y-%m-%d %H:%M}",
            first_line(row.request),
        ),
    )


@mod.command("show")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.option("--diff", "with_diff", is_flag=True, help="Include the unified diff of each file.")
@click.option(
    "--patch",
    "as_patch",
    is_flag=True,
    help="Print only the change, as a patch git apply accepts.",
)
@json_option()
@click.pass_context
@paged
def show(
    ctx: click.Context, modification_id: str, with_diff: bool, as_patch: bool, as_json: bool
) -> None:
    """Show a modification and its files (diffed against the commit it was
    made against on a linked project, else the current codebase; once
    applied, against what they held before)."""
    if as_patch:
        from store.services import git

        if as_json or with_diff:
            raise click.UsageError("--patch prints the patch alone; drop --json and --diff")
        echo_exact(call_service(ctx, git.modification_patch, modification_id).rstrip("\n"))
        return

    detail = call_service(ctx, review.get_modification, modification_id)
    if as_json:
        print_json(shapes.modification_detail_as_dict(detail, with_diff=with_diff))
        return
    m = detail.modification
    lines = [
        ("id", str(m.id)),
        ("project", detail.project_name),
        ("status", str(m.status)),
        ("requested by", m.requested_by),
        ("requested", f"{m.requested_at:%Y-%m-%d %H:%M:%S %Z}"),
    ]
    if m.reviewed_by:
        reviewed = f"{m.reviewed_by}"
        if m.reviewed_at:
            reviewed += f" at {m.reviewed_at:%Y-%m-%d %H:%M:%S %Z}"
        lines.append(("reviewed by", reviewed))
    if m.review_comment:
        lines.append(("comment", m.review_comment))
    if m.base_commit:
        lines.append(("base commit", m.base_commit))
    if m.applied_at:
        lines.append(("applied", f"{m.applied_at:%Y-%m-%d %H:%M:%S %Z}"))
    if m.applied_commit:
        lines.append(("commit", m.applied_commit))
    if m.failure_reason:
        lines.append(("failed", m.failure_reason))
    if m.reverts_id:
        lines.append(("reverts", str(m.reverts_id)))
    if m.revises_id:
        lines.append(("revision", f"{m.revision}, revising {m.revises_id}"))
    if m.proposed_files is not None:
        lines.append(("approved", "in part (mod feedback lists the hunks taken and left)"))
    echo_fields(lines)
    click.echo(f"\nrequest:\n{m.request}")
    if m.impact_analysis:
        click.echo("\nimpact analysis:")
        for key, value in m.impact_analysis.items():
            click.echo(f"  {key}: {_plain(value)}")
    if m.test_results:
        click.echo("\ntest results:")
        for key, value in m.test_results.items():
            click.echo(f"  {key}: {_plain(value)}")
    against = _AGAINST.get(detail.against, detail.against)
    click.echo(f"\nfiles (compared with {against}):")
    for change in detail.files:
        click.echo(f"  {change.kind:<8}  +{change.added} -{change.removed}  {change.path}")
    if detail.unchanged:
        click.echo("\naffected, not changed:")
        for file in detail.unchanged:
            where = "" if file.content is not None else "  (not in the codebase)"
            click.echo(f"  {file.path}{where}")
    if with_diff:
        for change in detail.files:
            click.echo("")
            click.echo(change.diff.rstrip("\n") or f"(no change in {change.path})")


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@mod.command("export")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.option(
    "--mbox",
    is_flag=True,
    required=True,
    help="As an email git am accepts (author, date, subject, body, trailers).",
)
@click.pass_context
def export(ctx: click.Context, modification_id: str, mbox: bool) -> None:
    """Print a modification as a patch email, for git am (a change to files
    with CRLF line ends needs git am --keep-cr, as git's own patches do)."""
    from store.services import git

    echo_exact(call_service(ctx, git.modification_patch, modification_id, mbox=mbox).rstrip("\n"))


@mod.command("approve")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.option("--comment", help="A note for the record.")
@click.option(
    "--hunks",
    "numbers",
    callback=review_cli.hunk_numbers,
    metavar="N,N-M",
    help="Approve in part: only these hunks (numbers as mod hunks lists them); the rest are "
    "recorded as rejected.",
)
@click.option(
    "--accepted",
    is_flag=True,
    help="Approve in part: only the hunks accepted so far (mod decide, or the review screen).",
)
@click.option(
    "--allow-self-approval",
    is_flag=True,
    help="Approve a modification you requested yourself (a person working alone; also the "
    "allow_self_approval setting). Never on a team database.",
)
@click.pass_context
def approve(
    ctx: click.Context,
    modification_id: str,
    comment: str | None,
    numbers: list[int] | None,
    accepted: bool,
    allow_self_approval: bool,
) -> None:
    """Approve a pending modification (on a project with auto-merge on,
    this applies it too). With --hunks or --accepted, only part of it:
    what those hunks make is what gets applied. Someone other than its
    requester approves it, unless --allow-self-approval."""
    if numbers is not None and accepted:
        raise click.UsageError("--hunks names the hunks; drop --accepted")
    # Without the flag, the allow_self_approval setting decides.
    allowed = True if allow_self_approval else None
    if numbers is not None or accepted:
        from store.services import hunk_review

        approved = call_service(
            ctx,
            hunk_review.approve_in_part,
            modification_id,
            numbers=numbers,
            comment=comment,
            allow_self_approval=allowed,
        )
    else:
        approved = call_service(
            ctx,
            service.approve_modification,
            modification_id,
            comment=comment,
            allow_self_approval=allowed,
        )
    if approved.status == ModificationStatus.APPROVED:
        part = " in part (mod feedback lists what was taken)" if approved.proposed_files else ""
        click.echo(f"{approved.id} is now approved{part}")
        return
    # Its project merges automatically: approving applied it too.
    _applied(approved)


def _applied(result: Modification) -> None:
    if result.status == ModificationStatus.FAILED:
        fail(f"{result.id} failed and was not applied: {result.failure_reason}")
    if result.applied_commit:
        click.echo(f"{result.id} is now applied as commit {result.applied_commit}")
    else:
        click.echo(f"{result.id} is now applied")


@mod.command("reject")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.option("--comment", required=True, help="Why it is rejected (required).")
@click.pass_context
def reject(ctx: click.Context, modification_id: str, comment: str) -> None:
    """Reject a pending modification, saying why."""

    rejected = call_service(ctx, service.reject_modification, modification_id, comment=comment)
    click.echo(f"{rejected.id} is now rejected")


@mod.command("apply")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.pass_context
def apply(ctx: click.Context, modification_id: str) -> None:
    """Write an approved modification into its project's codebase.

    If a file it touches changed since the proposal, nothing is written, the
    modification becomes failed, and the command exits 1 naming the files.

    On a project linked to a git repository it is committed on the
    project's branch (merged three ways if the branch moved since its base;
    conflicting files and lines fail it, the branch untouched), and a
    working tree with the branch checked out follows; uncommitted edits to
    the files it touches there refuse it. Prints the commit id.
    """

    _applied(call_service(ctx, service.apply_modification, modification_id))


@mod.command("reopen")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.pass_context
def reopen(ctx: click.Context, modification_id: str) -> None:
    """Put a failed modification back to pending, against the codebase as it is now."""

    reopened = call_service(ctx, service.reopen_modification, modification_id)
    click.echo(f"{reopened.id} is now pending")


@mod.command("revert")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.pass_context
def revert(ctx: click.Context, modification_id: str) -> None:
    """Propose a modification that undoes an applied one. Prints the new id."""

    created = call_service(ctx, service.revert_modification, modification_id)
    click.echo(str(created.id))


@mod.command("attach-tests")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.option("--tests", required=True, metavar="JSON|@FILE", help="Test results, a JSON object.")
@click.pass_context
def attach_tests(ctx: click.Context, modification_id: str, tests: str) -> None:
    """Attach (replace) the test results of a modification under review."""
    try:
        results = json_input("test_results", "--tests", tests)
    except ValidationError as error:
        fail(error.message)

    updated = call_service(ctx, service.attach_test_results, modification_id, results)
    click.echo(f"{updated.id}: test results attached")


for _command in review_cli.COMMANDS:
    mod.add_command(_command)
