"""What agents cost: totals per project and per model as bars, and a
sparkline of the cost per day, for one period."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from store.money import format_amount
from store.services.agent_stats import CostReport, CostRow
from tui import format

BAR_WIDTH = 16


def cost_bar(cost: Decimal, largest: Decimal, width: int = BAR_WIDTH) -> Text:
    """``cost`` as a bar of up to ``width`` cells, scaled to ``largest``."""
    filled = 0 if largest <= 0 else round(cost / largest * width)
    bar = format.safe("█" * filled, style="cyan")
    bar.append("░" * (width - filled), style="dim")
    return bar


def cost_table(report: CostReport, heading: str, column: str) -> Table:
    """One row per group, largest cost first: ``column`` (its label), bar,
    cost, tokens, messages and runs."""
    table = Table(title=heading, title_justify="left", title_style="bold", box=None, expand=False)
    table.add_column(column, no_wrap=True, max_width=28)
    table.add_column("", no_wrap=True)
    table.add_column("Cost", justify="right", no_wrap=True)
    table.add_column("Tokens in/out", justify="right", no_wrap=True)
    table.add_column("Msgs", justify="right")
    table.add_column("Runs", justify="right")
    rows = sorted(report.rows, key=lambda row: (-row.cost, row.label))
    largest = rows[0].cost if rows else Decimal(0)
    for row in rows:
        table.add_row(
            # Text, not str: names are drawn as typed, never read as markup.
            format.safe(row.label, overflow="ellipsis"),
            cost_bar(row.cost, largest),
            format_amount(row.cost, 2),
            f"{row.prompt_tokens:,}/{row.completion_tokens:,}",
            str(row.messages),
            str(row.runs),
        )
    if not rows:
        table.add_row(format.safe("nothing spent in this period", style="dim"), "", "", "", "", "")
    return table


def daily_costs(rows: list[CostRow], first: date, last: date) -> list[float]:
    """The cost of every day from ``first`` to ``last`` (0 on quiet days).
    Floats for drawing only: the totals shown are the exact Decimals."""
    by_day = {row.key: row.cost for row in rows if isinstance(row.key, date)}
    days = (last - first).days + 1
    return [float(by_day.get(first + timedelta(days=n), Decimal(0))) for n in range(days)]


class CostsView(Vertical):
    """The costs of a period: a headline, the per-day sparkline, and the
    per-project and per-model tables."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="costs-total")
        with Horizontal(classes="costs-trend"):
            yield Static("", classes="costs-trend-label")
            yield Sparkline([], summary_function=max, classes="costs-sparkline")
        with Horizontal(classes="costs-tables"):
            yield Static("", classes="costs-by-project")
            yield Static("", classes="costs-by-model")

    def show(
        self,
        *,
        period: str,
        by_project: CostReport,
        by_model: CostReport,
        by_day: CostReport,
        first: date,
        last: date,
    ) -> None:
        total = format.safe(f"{period}: ", style="bold")
        total.append(format_amount(by_project.total, 2), style="bold cyan")
        total.append(
            f"  ·  {by_project.messages:,} messages · {by_project.runs:,} runs · "
            f"{by_project.prompt_tokens:,} tokens in, {by_project.completion_tokens:,} out"
        )
        self.query_one(".costs-total", Static).update(total)
        series = daily_costs(by_day.rows, first, last)
        busiest = max(by_day.rows, key=lambda row: row.cost, default=None)
        label = format.safe(f"per day, {first:%b %d} to {last:%b %d}\n", style="bold")
        if busiest is not None:
            label.append(f"busiest {busiest.label}: {format_amount(busiest.cost, 2)}", style="dim")
        self.query_one(".costs-trend-label", Static).update(format.sealed(label))
        self.query_one(Sparkline).data = series
        self.query_one(".costs-by-project", Static).update(
            cost_table(by_project, "By project", "Project")
        )
        self.query_one(".costs-by-model", Static).update(cost_table(by_model, "By model", "Model"))
