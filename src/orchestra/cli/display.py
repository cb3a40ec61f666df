"""What the CLI shows: a live progress line while runs execute, then a summary table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestra.models.run_states import RunStatus
from orchestra.runs.reports import check_text, check_verdict, skipped_checks
from orchestra.runs.schemas import RunOut, SuitePhaseOut, SuiteRunOut

STYLE: dict[str, str] = {
    RunStatus.PASSED: "green",
    RunStatus.FAILED: "red",
    RunStatus.ERROR: "magenta",
    RunStatus.TIMED_OUT: "magenta",
    RunStatus.CANCELLED: "yellow",
    "SKIPPED": "yellow",
}
MARK: dict[str, str] = {
    RunStatus.PASSED: "✓",
    RunStatus.FAILED: "✗",
    RunStatus.ERROR: "!",
    RunStatus.TIMED_OUT: "⏱",
    RunStatus.CANCELLED: "-",
    "SKIPPED": "»",
}


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def finished_line(run: RunOut) -> str:
    style = STYLE.get(run.status, "white")
    reason = f" — {escape(run.status_reason)}" if run.status_reason and run.status != RunStatus.PASSED else ""
    mark = MARK.get(run.status, "?")
    duration = f"[dim]({_ms(run.duration_ms)})[/]"
    muted = f" [dim]muted: {escape(run.mute.reason)}[/]" if run.muted and run.mute else ""
    return (
        f"[{style}]{mark} {run.status.value:<9}[/] {escape(run.name)} {duration}{muted}{_retry(run)}{reason}"
    )


def _retry(run: RunOut) -> str:
    if run.flaky:
        return " [yellow](flaky: passed on retry)[/]"
    return " [yellow](retrying)[/]" if run.retried_by else ""


def phase_line(phase: SuitePhaseOut) -> str:
    """A suite's setup or teardown that has ended."""
    style = STYLE.get(phase.status, "white")
    reason = f" — {phase.status_reason}" if phase.status_reason and phase.status != RunStatus.PASSED else ""
    return f"[{style}]{MARK.get(phase.status, '?')} {phase.status.value:<9}[/] (suite {phase.phase}){reason}"


def summary_table(suite_runs: Sequence[SuiteRunOut]) -> Table:
    several = len(suite_runs) > 1
    title = "Orchestra results" + ("" if several else f": {escape(suite_runs[0].name)}" if suite_runs else "")
    table = Table(title=title, show_lines=False, expand=False)
    if several:
        table.add_column("Suite", no_wrap=True)
    table.add_column("Test", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    table.add_column("Reason", overflow="fold", max_width=100)
    for suite_run in suite_runs:
        for run in tests_of(suite_run):
            cells = [
                escape(run.name),
                f"[{STYLE.get(run.status, 'white')}]{run.status.value}[/]"
                + (" [dim](muted)[/]" if run.muted else "")
                + (" [yellow](flaky)[/]" if run.flaky else ""),
                _ms(run.duration_ms),
                "" if run.status == RunStatus.PASSED else escape(_reason(run)),
            ]
            table.add_row(*([escape(suite_run.name), *cells] if several else cells))
    return table


def tests_of(suite_run: SuiteRunOut) -> list[RunOut]:
    """Its runs that stand for a test: all but those that were retried (their retry stands for them)."""
    return [run for run in suite_run.runs if run.retried_by is None]


def _reason(run: RunOut) -> str:
    muted = f"muted: {run.mute.reason}" if run.muted and run.mute else ""
    return " — ".join(part for part in (muted, run.status_reason or "") if part)


def totals_line(suite_runs: Sequence[SuiteRunOut]) -> str:
    counts: dict[str, int] = {}
    for suite_run in suite_runs:
        for status, count in suite_run.counts.items():
            counts[status] = counts.get(status, 0) + count
    total = sum(counts.values())
    parts = [f"{counts.get(status, 0)} {status.lower()}" for status in MARK if counts.get(status)]
    muted = sum(suite_run.muted for suite_run in suite_runs)
    flaky = sum(suite_run.flaky for suite_run in suite_runs)
    notes = [f"{muted} muted"] * bool(muted) + [f"{flaky} flaky: passed on retry"] * bool(flaky)
    return f"{total} tests: " + ", ".join(parts) + (f" ({'; '.join(notes)})" if notes else "")


def failure_table(suite_runs: Sequence[SuiteRunOut]) -> Table | None:
    """The tests that did not pass, step by step (the runs with their steps): which step, which check,
    expected and actual; None when every test passed."""
    table = Table(title="Failed steps", show_lines=True, expand=False)
    table.add_column("Test", overflow="fold", max_width=40)
    table.add_column("Step", overflow="fold", max_width=30)
    table.add_column("Check", overflow="fold", max_width=50)
    table.add_column("Expected", overflow="fold", max_width=30)
    table.add_column("Actual", overflow="fold", max_width=30)
    for suite_run in suite_runs:
        for run in tests_of(suite_run):
            if run.status == RunStatus.PASSED:
                continue
            test = escape(run.name) + (" [dim](muted)[/]" if run.muted else "")
            shown = False
            for step in run.steps or []:
                if step.status not in ("failed", "error"):
                    continue
                place = escape(f"{step.phase} #{step.seq}: {step.name}")
                failed = [check for check in step.assertions if check_verdict(check) == "failed"]
                for check in failed:
                    cells = (
                        escape(check_text(check)),
                        _value(check.get("expected")),
                        _value(check.get("actual")),
                    )
                    table.add_row(test, place, *cells)
                if step.error or not failed:
                    table.add_row(test, place, f"[magenta]{escape(step.error or step.status)}[/]", "", "")
                shown = True
            if not shown:
                table.add_row(test, "-", escape(run.status_reason or run.status.value), "", "")
    return table if table.row_count else None


STOPPED = "the run stopped: "


def skipped_table(suite_runs: Sequence[SuiteRunOut]) -> Table | None:
    """Every step and check that was skipped, with why (the runs with their steps): a step whose condition
    was false or whose loop had no items, a check whose condition was false or that the status check gated;
    the steps skipped after a run stopped, as one row per run. None when nothing was skipped."""
    table = Table(title="Skipped", show_lines=False, expand=False)
    table.add_column("Test", overflow="fold", max_width=40)
    table.add_column("Step", overflow="fold", max_width=40)
    table.add_column("Check", overflow="fold", max_width=40)
    table.add_column("Reason", overflow="fold", max_width=60)
    for suite_run in suite_runs:
        for run in suite_run.runs:
            stopped = [step for step in run.steps or [] if (step.skipped_reason or "").startswith(STOPPED)]
            for step in run.steps or []:
                place = escape(f"{step.phase} #{step.seq}: {step.name}")
                if step.status == "skipped" and step not in stopped:
                    table.add_row(escape(run.name), place, "-", escape(step.skipped_reason or ""))
                for check in skipped_checks(step):
                    subject = check.get("name") or check.get("check") or "check"
                    table.add_row(
                        escape(run.name), place, escape(str(subject)), escape(str(check.get("reason")))
                    )
            if stopped:
                count = f"{len(stopped)} step{'s' if len(stopped) > 1 else ''} after it"
                table.add_row(escape(run.name), count, "-", escape(stopped[0].skipped_reason or ""))
    return table if table.row_count else None


def _value(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return escape(text if len(text) <= 300 else text[:299] + "…")


def print_summary(console: Console, suite_runs: Sequence[SuiteRunOut]) -> None:
    console.print(summary_table(suite_runs))
    console.print(totals_line(suite_runs))


def print_failures(console: Console, suite_runs: Sequence[SuiteRunOut]) -> None:
    table = failure_table(suite_runs)
    if table is not None:
        console.print(table)


def print_skipped(console: Console, suite_runs: Sequence[SuiteRunOut]) -> None:
    table = skipped_table(suite_runs)
    if table is not None:
        console.print(table)
