"""What the CLI shows: a live progress line while runs execute, then a summary table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from orchestra.models.run_states import RunStatus
from orchestra.runs.schemas import RunOut, SuiteRunOut

STYLE = {
    RunStatus.PASSED: "green",
    RunStatus.FAILED: "red",
    RunStatus.ERROR: "magenta",
    RunStatus.TIMED_OUT: "magenta",
    RunStatus.CANCELLED: "yellow",
}
MARK = {
    RunStatus.PASSED: "✓",
    RunStatus.FAILED: "✗",
    RunStatus.ERROR: "!",
    RunStatus.TIMED_OUT: "⏱",
    RunStatus.CANCELLED: "-",
}


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def finished_line(run: RunOut) -> str:
    style = STYLE.get(run.status, "white")
    reason = f" — {run.status_reason}" if run.status_reason and run.status != RunStatus.PASSED else ""
    mark = MARK.get(run.status, "?")
    return f"[{style}]{mark} {run.status.value:<9}[/] {run.name} [dim]({_ms(run.duration_ms)})[/]{reason}"


def summary_table(suite_runs: Sequence[SuiteRunOut]) -> Table:
    several = len(suite_runs) > 1
    title = "Orchestra results" + ("" if several else f": {suite_runs[0].name}" if suite_runs else "")
    table = Table(title=title, show_lines=False, expand=False)
    if several:
        table.add_column("Suite", no_wrap=True)
    table.add_column("Test", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    table.add_column("Reason", overflow="fold", max_width=100)
    for suite_run in suite_runs:
        for run in suite_run.runs:
            cells = [
                run.name,
                f"[{STYLE.get(run.status, 'white')}]{run.status.value}[/]",
                _ms(run.duration_ms),
                "" if run.status == RunStatus.PASSED else run.status_reason or "",
            ]
            table.add_row(*([suite_run.name, *cells] if several else cells))
    return table


def totals_line(suite_runs: Sequence[SuiteRunOut]) -> str:
    counts: dict[str, int] = {}
    for suite_run in suite_runs:
        for status, count in suite_run.counts.items():
            counts[status] = counts.get(status, 0) + count
    total = sum(counts.values())
    parts = [
        f"{counts.get(status.value, 0)} {status.value.lower()}" for status in MARK if counts.get(status.value)
    ]
    return f"{total} tests: " + ", ".join(parts)


def print_summary(console: Console, suite_runs: Sequence[SuiteRunOut]) -> None:
    console.print(summary_table(suite_runs))
    console.print(totals_line(suite_runs))
