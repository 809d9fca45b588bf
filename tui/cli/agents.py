"""``projdeck agent ...``: how agents record what they do (conversations,
messages with model, tokens and cost, runs with test results, webhook
deliveries) and how people read it back (runs, a run, costs)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from store.errors import ValidationError
from store.ids import short_id
from store.money import format_amount, from_micros
from store.services import agent_stats, shapes
from store.services import agents as service
from store.services import webhooks as webhook_service
from tui.cli.common import (
    call_service,
    example,
    json_input,
    json_option,
    paged_list,
    print_json,
    print_page,
    print_record,
    project_option,
    read_input,
    run_with_database,
    when_option,
)
from tui.cli.completion import complete_project
from tui.cli.output import fail
from tui.cli.pager import paged
from tui.cli.tables import Column, echo_table, first_line

if TYPE_CHECKING:
    from store.engine import Database
    from store.models import AgentRun, Message
    from store.services import Page

BAR_WIDTH = 24
# Bigger than the largest message content (1,000,000 characters of UTF-8).
_MAX_CONTENT_BYTES = 4 * 1024 * 1024
# A batch of messages (--jsonl): at most 10,000 lines, read with this cap.
_MAX_JSONL_BYTES = 64 * 1024 * 1024


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def _bar(value: Decimal, largest: Decimal) -> str:
    if largest <= 0:
        return ""
    filled = int((value / largest * BAR_WIDTH).to_integral_value())
    return "█" * filled + "░" * (BAR_WIDTH - filled)


@click.group("agent")
def agent() -> None:
    """Record and read what AI agents did: conversations, messages, runs,
    webhook deliveries and their costs.

    REF is a project's id, id prefix, exact name or GitHub owner/repo;
    conversation and run ids may be given as a unique prefix of at least 6
    characters. Amounts are decimal dollars (0.0123), stored exactly.
    """


# -- conversations ------------------------------------------------------------------------


@agent.group("conversation")
def conversation() -> None:
    """Start, close, list and show conversations with an agent."""


@conversation.command("list")
@project_option("Only this project's conversations.")
@click.option(
    "--without-run",
    is_flag=True,
    help="Only those no agent run belongs to (which `agent runs` does not reach).",
)
@paged_list
def conversation_list(
    ctx: click.Context,
    project_ref: str | None,
    without_run: bool,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List conversations, most recently active first."""
    page = call_service(
        ctx,
        service.list_conversations,
        project_ref=project_ref,
        without_run=without_run,
        limit=limit,
        offset=offset,
    )
    print_page(
        page,
        shapes.conversation_row_as_dict,
        as_json=as_json,
        noun="conversations",
        columns=(
            Column("ID"),
            Column("PROJECT", most=18),
            Column("STATUS"),
            Column("STARTED BY", most=12),
            Column("UPDATED"),
            Column("TITLE"),
        ),
        cells=lambda row: (
            short_id(row.id),
            row.project_name or "—",
            str(row.status),
            row.started_by,
            f"{row.updated_at:%Y-%m-%d %H:%M}",
            first_line(row.title),
        ),
    )


@conversation.command("start")
@click.argument("ref", shell_complete=complete_project)
@click.option("--title", required=True, help="What the conversation is about.")
@click.option("--intent", help="A short label: feature, bugfix, question...")
@json_option("Print the conversation as JSON.")
@click.pass_context
def conversation_start(
    ctx: click.Context, ref: str, title: str, intent: str | None, as_json: bool
) -> None:
    """Start a conversation about project REF. Prints its id."""

    async def work(database: Database) -> service.ConversationDetail:
        created = await service.start_conversation(database, ref, title=title, intent=intent)
        return await service.get_conversation(database, str(created.id))

    detail = run_with_database(ctx, work)
    print_record(detail, shapes.conversation_as_dict, str(detail.conversation.id), as_json=as_json)


@conversation.command("close")
@click.argument("conversation_id", metavar="ID")
@click.pass_context
def conversation_close(ctx: click.Context, conversation_id: str) -> None:
    """Close a conversation: it takes no more messages."""
    closed = call_service(ctx, service.close_conversation, conversation_id)
    click.echo(f"closed conversation {short_id(closed.id)}")


@conversation.command("show")
@click.argument("conversation_id", metavar="ID")
@click.option("--limit", default=100, show_default=True, help="Messages to show (at most 500).")
@click.option("--offset", default=0, help="Skip this many messages first.")
@click.option("--search", metavar="TEXT", help="Only messages whose text or model contains TEXT.")
@json_option()
@click.pass_context
@paged
def conversation_show(
    ctx: click.Context,
    conversation_id: str,
    limit: int,
    offset: int,
    search: str | None,
    as_json: bool,
) -> None:
    """Show a conversation and its messages in order."""

    async def work(database: Database) -> tuple[service.ConversationDetail, Page[Message]]:
        detail = await service.get_conversation(database, conversation_id)
        page = await service.list_messages(
            database, str(detail.conversation.id), search=search, limit=limit, offset=offset
        )
        return detail, page

    detail, page = run_with_database(ctx, work)
    if as_json:
        data = shapes.conversation_as_dict(detail)
        data["messages_page"] = {"offset": page.offset, "limit": page.limit, "total": page.total}
        data["message_list"] = [shapes.message_as_dict(m) for m in page.items]
        print_json(data)
        return
    c = detail.conversation
    click.echo(f"{c.title}  ({c.status}, {detail.project_name or 'no project'})")
    click.echo(
        f"id {c.id}  started by {c.started_by}  {c.created_at:%Y-%m-%d %H:%M %Z}"
        + (f"  intent {c.intent}" if c.intent else "")
    )
    click.echo(
        f"{detail.messages} messages  {detail.prompt_tokens:,} tokens in  "
        f"{detail.completion_tokens:,} tokens out  {format_amount(detail.cost)}"
    )
    for message in page.items:
        model = f" {message.model_used}" if message.model_used else ""
        tokens = (
            f" {message.prompt_tokens:,}/{message.completion_tokens:,} tokens"
            if message.prompt_tokens or message.completion_tokens
            else ""
        )
        cost = f" {format_amount(from_micros(message.cost_micros))}" if message.cost_micros else ""
        click.echo(f"\n[{message.created_at:%H:%M:%S}] {message.role}{model}{tokens}{cost}")
        for line in message.content.splitlines() or [""]:
            click.echo(f"  {line}")
    if page.has_more:
        click.echo(f"\nshowing {len(page.items)} of {page.total}; see more with --offset")


# -- messages --------------------------------------------------------------------------------


@agent.command("message")
@click.argument("conversation_id", metavar="CONV_ID")
@click.option("--role", help="user, assistant, system or tool.")
@click.option("--model", help="The model that produced or read it.")
@click.option("--tokens-in", type=int, help="Prompt tokens.")
@click.option("--tokens-out", type=int, help="Completion tokens.")
@click.option("--cost", help="What it cost, in dollars (e.g. 0.0123).")
@click.option("--intent", help="A short label for the message.")
@click.option("--metadata", metavar="JSON|@FILE", help="Extra details, a JSON object.")
@click.option("--content", help="The message text.")
@click.option("--content-file", metavar="FILE|-", help="Read the message text from FILE or stdin.")
@click.option(
    "--jsonl",
    metavar="FILE|-",
    help="Record many messages at once, one JSON object a line with the options above "
    "as fields (role, content, model, tokens_in, tokens_out, cost, intent, metadata): "
    "all or none.",
)
@json_option("Print the message(s) as JSON.")
@click.pass_context
def message(
    ctx: click.Context,
    conversation_id: str,
    role: str | None,
    model: str | None,
    tokens_in: int | None,
    tokens_out: int | None,
    cost: str | None,
    intent: str | None,
    metadata: str | None,
    content: str | None,
    content_file: str | None,
    jsonl: str | None,
    as_json: bool,
) -> None:
    """Record a message of conversation CONV_ID. Prints its id.

    With --jsonl, records every message of FILE (or standard input) in one
    transaction, or none if a line is bad (it is named by its number), and
    prints their ids, one a line."""
    if jsonl is not None:
        given = [
            option
            for option, value in (
                ("--role", role),
                ("--model", model),
                ("--tokens-in", tokens_in),
                ("--tokens-out", tokens_out),
                ("--cost", cost),
                ("--intent", intent),
                ("--metadata", metadata),
                ("--content", content),
                ("--content-file", content_file),
            )
            if value is not None
        ]
        if given:
            raise click.UsageError(
                f"{given[0]} cannot be used with --jsonl: each line gives its own fields"
            )
        try:
            items, labels = service.messages_from_jsonl(
                read_input("jsonl", "--jsonl", jsonl, limit=_MAX_JSONL_BYTES)
            )
        except ValidationError as error:
            fail(error.message)
    else:
        labels = None
        if role is None:
            raise click.UsageError("give the message's --role (or many messages with --jsonl)")
        if (content is None) == (content_file is None):
            raise click.UsageError("give the text with exactly one of --content or --content-file")
        try:
            text = (
                content
                if content is not None
                else read_input(
                    "content", "--content-file", content_file or "-", limit=_MAX_CONTENT_BYTES
                )
            )
            items = [
                service.MessageInput(
                    role=role,
                    content=text,
                    model_used=model,
                    prompt_tokens=tokens_in or 0,
                    completion_tokens=tokens_out or 0,
                    cost=cost or "0",
                    intent=intent,
                    metadata=json_input("metadata", "--metadata", metadata) if metadata else {},
                )
            ]
        except ValidationError as error:
            fail(error.message)

    added = call_service(ctx, service.add_messages, conversation_id, items, labels=labels)
    if jsonl is None:
        if as_json:
            print_json(shapes.message_as_dict(added[0]))
        else:
            click.echo(str(added[0].id))
    elif as_json:
        print_json([shapes.message_as_dict(item) for item in added])
    else:
        click.echo("\n".join(str(item.id) for item in added))


# -- runs ----------------------------------------------------------------------------------------


@agent.group("run")
def run() -> None:
    """Start, finish and show agent runs."""


@run.command(
    "start",
    epilog=example(
        'RUN=$(projdeck agent run start billing-api --agent codex --task "Fix the retry")',
    ),
)
@click.argument("ref", shell_complete=complete_project)
@click.option("--agent", "agent_name", required=True, metavar="NAME", help="The agent's name.")
@click.option("--task", required=True, help="What the run is asked to do.")
@click.option("--conversation", "conversation_id", metavar="ID", help="Its conversation.")
@click.option("--queued", is_flag=True, help="Record it as waiting to start (see run begin).")
@json_option("Print the run as JSON.")
@click.pass_context
def run_start(
    ctx: click.Context,
    ref: str,
    agent_name: str,
    task: str,
    conversation_id: str | None,
    queued: bool,
    as_json: bool,
) -> None:
    """Start (or queue) a run of an agent on project REF. Prints its id."""
    started = call_service(
        ctx,
        service.start_run,
        ref,
        agent=agent_name,
        task=task,
        conversation_ref=conversation_id,
        queued=queued,
    )
    print_record(started, shapes.run_as_dict, str(started.id), as_json=as_json)


@run.command(
    "begin",
    epilog=example(
        'projdeck agent run begin "$RUN"',
    ),
)
@click.argument("run_id", metavar="RUN_ID")
@json_option("Print the run as JSON.")
@click.pass_context
def run_begin(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """A queued run starts running."""
    _print_moved(call_service(ctx, service.begin_run, run_id), as_json)


@run.command(
    "finish",
    epilog=example(
        'projdeck agent run finish "$RUN" --status succeeded --cost 0.42 \\',
        '  --tests \'{"passed": 12, "failed": 0, "skipped": 1}\'',
    ),
)
@click.argument("run_id", metavar="RUN_ID")
@click.option("--status", required=True, help="succeeded, failed or cancelled.")
@click.option(
    "--tests",
    metavar="JSON|@FILE",
    help='Test results: {"passed": N, "failed": N, "skipped": N, "failing": [names]}.',
)
@click.option("--error", help="What went wrong (failed or cancelled runs).")
@click.option("--cost", help="The run's own cost in dollars, beyond its messages.")
@json_option("Print the run as JSON.")
@click.pass_context
def run_finish(
    ctx: click.Context,
    run_id: str,
    status: str,
    tests: str | None,
    error: str | None,
    cost: str | None,
    as_json: bool,
) -> None:
    """Finish a queued or running run with its status, test results, error and cost."""
    try:
        results = json_input("tests", "--tests", tests) if tests is not None else None
    except ValidationError as problem:
        fail(problem.message)

    finished = call_service(
        ctx, service.finish_run, run_id, status=status, test_results=results, error=error, cost=cost
    )
    _print_moved(finished, as_json)


def _print_moved(moved: AgentRun, as_json: bool) -> None:
    """A run that began or finished: its new status, or the run as JSON."""
    line = f"run {short_id(moved.id)} {moved.status}"
    print_record(moved, shapes.run_as_dict, line, as_json=as_json)


@run.command(
    "show",
    epilog=example(
        'projdeck agent run show "$RUN" --json',
    ),
)
@click.argument("run_id", metavar="RUN_ID")
@json_option()
@click.pass_context
@paged
def run_show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Show a run: task, duration, tests, cost and the modifications it proposed."""
    detail = call_service(ctx, service.get_run, run_id)
    if as_json:
        print_json(shapes.run_detail_as_dict(detail))
        return
    r = detail.run
    lines = [
        ("id", str(r.id)),
        ("project", detail.project_name),
        ("agent", r.agent),
        ("status", str(r.status)),
        ("started", f"{r.started_at:%Y-%m-%d %H:%M:%S %Z}" if r.started_at else "—"),
        ("duration", _duration(detail.duration)),
        ("cost", format_amount(detail.cost)),
    ]
    if detail.conversation_title:
        lines.append(("conversation", f"{detail.conversation_title} ({r.conversation_id})"))
    if r.test_results:
        t = r.test_results
        lines.append(
            ("tests", f"{t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped")
        )
    if r.error:
        lines.append(("error", r.error))
    for label, value in lines:
        click.echo(f"{label:<13} {value}")
    click.echo(f"{'task':<13} {r.task}")
    for name in r.test_results.get("failing", []):
        click.echo(f"  failing: {name}")
    if detail.modifications:
        click.echo("modifications:")
        echo_table(
            (Column("ID"), Column("STATUS"), Column("REQUEST")),
            [
                (short_id(mod.id), str(mod.status), first_line(mod.request))
                for mod in detail.modifications
            ],
            header=False,
            indent=2,
        )


@agent.command(
    "runs",
    epilog=example(
        "projdeck agent runs --project billing-api --status failed --limit 10",
    ),
)
@project_option("Only this project's runs.")
@click.option("--agent", "agent_name", metavar="NAME", help="Only this agent's runs.")
@click.option("--status", "statuses", multiple=True, help="Only these statuses (repeatable).")
@paged_list
def runs(
    ctx: click.Context,
    project_ref: str | None,
    agent_name: str | None,
    statuses: tuple[str, ...],
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List runs across projects, newest first."""
    page = call_service(
        ctx,
        service.list_runs,
        project_ref=project_ref,
        agent=agent_name,
        statuses=statuses,
        limit=limit,
        offset=offset,
    )
    print_page(
        page,
        shapes.run_row_as_dict,
        as_json=as_json,
        noun="runs",
        columns=(
            Column("ID"),
            Column("PROJECT", most=18),
            Column("AGENT", most=12),
            Column("STATUS"),
            Column("STARTED"),
            Column("TOOK", numeric=True),
            Column("COST", numeric=True),
            Column("TASK"),
        ),
        cells=lambda row: (
            short_id(row.id),
            row.project_name,
            row.agent,
            str(row.status),
            f"{row.started_at:%Y-%m-%d %H:%M}" if row.started_at else "—",
            _duration(row.duration),
            format_amount(row.cost),
            first_line(row.task),
        ),
    )


# -- webhooks ------------------------------------------------------------------------------------


@agent.command("webhook")
@click.argument("ref", shell_complete=complete_project)
@click.option("--event", required=True, help="What the webhook told about (push, run.finished...).")
@click.option("--url", required=True, help="Where it was sent (credentials are masked).")
@click.option("--status-code", type=int, help="The HTTP status received, if any.")
@click.option("--attempt", type=int, default=1, show_default=True, help="Which attempt this was.")
@click.option("--response", help="The response body (kept up to 2,000 characters).")
@json_option("Print the delivery as JSON.")
@click.pass_context
def webhook(
    ctx: click.Context,
    ref: str,
    event: str,
    url: str,
    status_code: int | None,
    attempt: int,
    response: str | None,
    as_json: bool,
) -> None:
    """Record an attempt to deliver a webhook of project REF."""
    item = webhook_service.WebhookInput(
        event=event, url=url, status_code=status_code, attempt=attempt, response=response
    )

    delivery = call_service(ctx, webhook_service.record_webhook_delivery, ref, item)
    state = "delivered" if delivery.delivered_at else "not delivered"
    line = f"{delivery.id} {state} ({delivery.url})"
    print_record(delivery, shapes.delivery_as_dict, line, as_json=as_json)


@agent.command("webhooks")
@click.argument("ref", shell_complete=complete_project)
@paged_list
def webhooks(ctx: click.Context, ref: str, limit: int, offset: int, as_json: bool) -> None:
    """List the webhook deliveries of project REF, newest first."""
    page = call_service(
        ctx, webhook_service.list_webhook_deliveries, ref, limit=limit, offset=offset
    )
    print_page(
        page,
        shapes.delivery_as_dict,
        as_json=as_json,
        noun="webhook deliveries",
        columns=(
            Column("WHEN"),
            Column("EVENT", most=22),
            Column("STATUS", numeric=True),
            Column("TRY", numeric=True),
            Column("DELIVERED"),
            Column("URL"),
        ),
        cells=lambda item: (
            f"{item.created_at:%Y-%m-%d %H:%M}",
            item.event,
            str(item.status_code) if item.status_code is not None else "—",
            str(item.attempt),
            "yes" if item.delivered_at else "no",
            item.url,
        ),
    )


@agent.command("stats")
@project_option("Only this project.")
@click.option("--since", metavar="WHEN", help="ISO date/time, or an age: 12h, 7d, 2w.")
@click.option("--until", metavar="WHEN", help="ISO date/time (exclusive), or an age.")
@json_option()
@click.pass_context
@paged
def stats(
    ctx: click.Context,
    project_ref: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """Runs per status, and the pass rate of their tests per UTC day."""
    try:
        start, end = when_option("since", since), when_option("until", until)
    except ValidationError as error:
        fail(error.message)

    async def work(
        database: Database,
    ) -> tuple[dict[Any, int], list[agent_stats.PassRateDay]]:
        counts = await agent_stats.runs_per_status(
            database, project_ref=project_ref, since=start, until=end
        )
        days = await agent_stats.pass_rate_per_day(
            database, project_ref=project_ref, since=start, until=end
        )
        return counts, days

    counts, days = run_with_database(ctx, work)
    if as_json:
        print_json(
            {
                "runs_per_status": {str(status): count for status, count in counts.items()},
                "tests_per_day": [
                    {
                        "day": day.day.isoformat(),
                        "runs": day.runs,
                        "passed": day.passed,
                        "failed": day.failed,
                        "skipped": day.skipped,
                        "pass_rate": day.pass_rate,
                    }
                    for day in days
                ],
            }
        )
        return
    click.echo("runs: " + ", ".join(f"{count} {status}" for status, count in counts.items()))
    if not days:
        click.echo("no test results in this period")
        return
    echo_table(
        (
            Column("DAY"),
            Column("RUNS", numeric=True),
            Column("PASSED", numeric=True),
            Column("FAILED", numeric=True),
            Column("SKIPPED", numeric=True),
            Column("PASS RATE", numeric=True),
        ),
        [
            (
                f"{day.day:%Y-%m-%d}",
                f"{day.runs:,}",
                f"{day.passed:,}",
                f"{day.failed:,}",
                f"{day.skipped:,}",
                f"{day.pass_rate:.0%}" if day.pass_rate is not None else "—",
            )
            for day in days
        ],
    )


# -- costs ---------------------------------------------------------------------------------------


@agent.command("costs")
@project_option("Only this project.")
@click.option("--since", metavar="WHEN", help="ISO date/time, or an age: 12h, 7d, 2w.")
@click.option("--until", metavar="WHEN", help="ISO date/time (exclusive), or an age.")
@click.option("--by", "by", default="project", show_default=True, help="project, model or day.")
@json_option("Print JSON (amounts as exact text).")
@click.pass_context
@paged
def costs(
    ctx: click.Context,
    project_ref: str | None,
    since: str | None,
    until: str | None,
    by: str,
    as_json: bool,
) -> None:
    """Messages, tokens and cost per project, model or UTC day.

    Cost is the messages' cost plus the runs' own cost; every grouping adds
    up to the same total.
    """
    try:
        start, end = when_option("since", since), when_option("until", until)
    except ValidationError as error:
        fail(error.message)

    report = call_service(
        ctx, agent_stats.cost_report, by=by, project_ref=project_ref, since=start, until=end
    )
    if as_json:
        print_json(shapes.cost_report_as_dict(report))
        return
    if not report.rows:
        click.echo("no costs recorded in this period")
        return
    largest = max(row.cost for row in report.rows)
    rows = [
        (
            row.label,
            f"{row.messages:,}",
            f"{row.runs:,}",
            f"{row.prompt_tokens:,}",
            f"{row.completion_tokens:,}",
            format_amount(row.cost),
            _bar(row.cost, largest),
        )
        for row in report.rows
    ]
    total = (
        "TOTAL",
        f"{report.messages:,}",
        f"{report.runs:,}",
        f"{report.prompt_tokens:,}",
        f"{report.completion_tokens:,}",
        format_amount(report.total),
        "",
    )
    echo_table(
        (
            Column(str(report.by).upper(), most=24),
            Column("MESSAGES", numeric=True),
            Column("RUNS", numeric=True),
            Column("TOKENS IN", numeric=True),
            Column("TOKENS OUT", numeric=True),
            Column("COST", numeric=True),
            Column(""),
        ),
        [*rows, total],
    )
