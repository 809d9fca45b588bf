"""``projdeck mod hunks|decide|comment|feedback``: review a modification hunk
by hunk from a script, and give its agent the reviewer's feedback. (The
approval in part is ``mod approve ID --hunks 1,3``.) Registered on the
``mod`` group by ``tui.cli.modifications``."""

from __future__ import annotations

import click

from store.models import CommentSide, HunkVerdict
from store.services import hunk_review
from tui.cli.common import call_service, json_option, print_json
from tui.cli.completion import complete_modification
from tui.cli.pager import paged


def hunk_numbers(
    _ctx: click.Context, param: click.Parameter, value: str | None
) -> list[int] | None:
    """``--hunks`` as hunk numbers: ``1,3,4``, ranges as ``2-5``."""
    if value is None:
        return None
    numbers: list[int] = []
    for part in value.split(","):
        first, _, last = part.strip().partition("-")
        try:
            start = int(first)
            stop = int(last) if last else start
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a list of hunk numbers (such as 1,3,4 or 2-5)", param=param
            ) from None
        if stop < start:
            raise click.BadParameter(
                f"{part.strip()!r} is a range that ends before it starts", param=param
            )
        numbers.extend(range(start, stop + 1))
    return numbers


def _hunk_as_dict(item: hunk_review.NumberedHunk) -> dict[str, object]:
    decision = item.decision
    return {
        "number": item.number,
        "file": item.path,
        "header": item.hunk.header,
        "added": item.hunk.added,
        "removed": item.hunk.removed,
        "decision": str(item.verdict) if item.verdict else "undecided",
        "reason": decision.reason if decision else None,
        "decided_by": decision.decided_by if decision else None,
        "outdated": item.outdated,
        "lines": list(item.hunk.lines),
    }


def _print_hunks(review: hunk_review.HunkReview, *, with_lines: bool) -> None:
    click.echo(f"modification {review.modification.id} (compared with the {review.against})")
    for file in review.files:
        click.echo(f"\n{file.path}  ({review.file_state(file.path)})")
        for item in review.of_file(file.path):
            decision = str(item.verdict) if item.verdict else "undecided"
            if item.decision is not None:
                decision += f" by {item.decision.decided_by}"
                if item.decision.reason:
                    decision += f": {item.decision.reason}"
            elif item.outdated:
                decision += " (decided on an earlier form of this hunk)"
            click.echo(
                f"  #{item.number:<3} {item.hunk.header}  +{item.hunk.added} "
                f"-{item.hunk.removed}  {decision}"
            )
            if with_lines:
                for line in item.hunk.lines:
                    click.echo(f"       {line.rstrip(chr(10))}")


@click.command("hunks")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.option("--diff", "with_lines", is_flag=True, help="Show each hunk's lines too.")
@json_option("Print JSON (lines included).")
@click.pass_context
@paged
def hunks(ctx: click.Context, modification_id: str, with_lines: bool, as_json: bool) -> None:
    """List a modification's hunks with their numbers and the decisions on
    them. Hunks are numbered from 1 across its files, in path order; the
    numbers are those --hunks takes."""
    review = call_service(ctx, hunk_review.modification_hunks, modification_id)
    if as_json:
        print_json(
            {
                "modification": str(review.modification.id),
                "against": review.against,
                "files": {file.path: review.file_state(file.path) for file in review.files},
                "hunks": [_hunk_as_dict(item) for item in review.hunks],
            }
        )
        return
    _print_hunks(review, with_lines=with_lines)


@click.command("decide")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.option(
    "--hunks", "numbers", callback=hunk_numbers, metavar="N,N-M", help="Hunk numbers: 1,3,4 or 2-5."
)
@click.option("--file", "paths", multiple=True, metavar="PATH", help="Every hunk of this file.")
@click.option("--accept", "verdict", flag_value="accepted", help="Accept them.")
@click.option("--reject", "verdict", flag_value="rejected", help="Reject them.")
@click.option("--undecide", "verdict", flag_value="undecided", help="Take the decision back.")
@click.option("--reason", help="Why they are rejected (with --reject).")
@click.pass_context
def decide(
    ctx: click.Context,
    modification_id: str,
    numbers: list[int] | None,
    paths: tuple[str, ...],
    verdict: str | None,
    reason: str | None,
) -> None:
    """Accept or reject hunks of a pending modification, by number (--hunks)
    or whole files (--file), before the verdict (mod approve --hunks, or mod
    approve/reject for all of it)."""
    if verdict is None:
        raise click.UsageError("say --accept, --reject or --undecide")
    chosen = None if verdict == "undecided" else HunkVerdict(verdict)
    review = call_service(
        ctx,
        hunk_review.decide_hunks,
        modification_id,
        verdict=chosen,
        numbers=numbers or [],
        paths=list(paths),
        reason=reason,
    )
    _print_hunks(review, with_lines=False)


@click.command("comment")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@click.option("--file", "path", required=True, metavar="PATH", help="The file commented on.")
@click.option(
    "--line",
    type=click.IntRange(1),
    required=True,
    help="Its line, from 1, in the proposed version.",
)
@click.option(
    "--old", is_flag=True, help="The line number is in the version before (a removed line)."
)
@click.option("--text", required=True, help="The comment.")
@click.pass_context
def comment(
    ctx: click.Context, modification_id: str, path: str, line: int, old: bool, text: str
) -> None:
    """Comment on one line of a modification's file."""
    side = CommentSide.OLD if old else CommentSide.NEW
    call_service(
        ctx, hunk_review.add_comment, modification_id, path=path, line=line, text=text, side=side
    )
    click.echo(f"commented on {path} line {line}")


@click.command("feedback")
@click.argument("modification_id", metavar="ID", shell_complete=complete_modification)
@json_option("Print JSON (for an agent).")
@click.pass_context
@paged
def feedback(ctx: click.Context, modification_id: str, as_json: bool) -> None:
    """What the reviewer said of a modification, for the agent that made it:
    the verdict, every hunk's decision with its file, header and reason, and
    every comment with its file and line."""
    given = call_service(ctx, hunk_review.feedback, modification_id)
    if as_json:
        print_json(given.as_dict())
        return
    click.echo(hunk_review.feedback_text(given))


COMMANDS = (hunks, decide, comment, feedback)
