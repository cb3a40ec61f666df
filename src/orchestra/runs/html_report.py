"""A self-contained HTML report of suite runs: a summary, every test, every step's request and response, its
checks and timings. One file that opens offline: inline CSS and script only, and a Content-Security-Policy
that lets the page load nothing else. Everything from a run (names, bodies, headers, messages) is escaped
text, never markup.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from orchestra.runs.reports import check_text, check_verdict
from orchestra.runs.schemas import RunOut, StepResultOut, SuiteRunOut

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;padding:1.5rem;color:#1e293b;background:#f8fafc}
h1{font-size:1.4rem;margin:0 0 .5rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse}td,th{padding:.25rem .6rem;text-align:left;border-bottom:1px solid #e2e8f0}
.verdict{display:inline-block;min-width:5.5rem;font-weight:600;font-family:ui-monospace,monospace}
.passed{color:#15803d}.failed{color:#b91c1c}.flaky,.retried{color:#b45309}.error,.timed_out{color:#a21caf}
.cancelled,.skipped{color:#a16207}
details.test{background:#fff;border:1px solid #e2e8f0;border-radius:6px;margin:.4rem 0;padding:.3rem .7rem}
details.step{border-left:3px solid #e2e8f0;margin:.3rem 0 .3rem .5rem;padding-left:.6rem}
summary{cursor:pointer}pre{white-space:pre-wrap;word-break:break-all;background:#f1f5f9;padding:.5rem;
margin:.2rem 0;max-height:24rem;overflow:auto}.muted{color:#64748b}.checks li{margin:.1rem 0}
nav button{margin-right:.3rem}
"""
# Only toggles what is shown; it reads nothing from the runs.
_SCRIPT = """
document.querySelectorAll('nav button').forEach(function (button) {
  button.addEventListener('click', function () {
    var onlyFailed = button.dataset.show === 'failed';
    document.querySelectorAll('details.test').forEach(function (test) {
      test.hidden = onlyFailed && test.dataset.verdict === 'passed';
    });
  });
});
"""


def _text(value: Any) -> str:
    return escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2))


def _verdict(status: str) -> str:
    css = status.lower()
    return f'<span class="verdict {escape(css)}">{escape(status.upper())}</span>'


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _exchange(title: str, exchange: dict[str, Any] | None) -> str:
    if not exchange:
        return f'<p class="muted">{title}: none</p>'
    first = (
        f"{exchange.get('method', '')} {exchange.get('url', '')}"
        if title == "Request"
        else f"HTTP {exchange.get('status', '')} {exchange.get('reason') or ''} "
        f"in {exchange.get('elapsed_ms')} ms"
    )
    headers = exchange.get("headers") or {}
    header_text = (
        "\n".join(f"{name}: {value}" for name, value in headers.items()) if isinstance(headers, dict) else ""
    )
    body = exchange.get("body")
    parts = [f"<h4>{title}</h4><pre>{_text(first)}</pre>"]
    if header_text:
        parts.append(f"<pre>{_text(header_text)}</pre>")
    if body not in (None, ""):
        parts.append(f"<pre>{_text(body)}</pre>")
    return "".join(parts)


def _checks(checks: list[dict[str, Any]]) -> str:
    if not checks:
        return '<p class="muted">no checks</p>'
    items = "".join(
        f"<li>{_verdict(check_verdict(check))} {_text(check_text(check))}{_reason(check)}</li>"
        for check in checks
    )
    return f'<ul class="checks">{items}</ul>'


def _reason(check: dict[str, Any]) -> str:
    """Why a skipped check was not evaluated, unless its message says it already."""
    reason = check.get("reason")
    if check_verdict(check) != "skipped" or not reason or str(reason) in str(check.get("message")):
        return ""
    return f' <span class="muted">({_text(str(reason))})</span>'


def _step(step: StepResultOut) -> str:
    attempts = f", {step.attempts} attempts" if step.attempts > 1 else ""
    opened = " open" if step.status in ("failed", "error") else ""
    if step.status == "skipped":
        error = f"<p class='skipped'>skipped: {_text(step.skipped_reason or '')}</p>"
    else:
        error = f"<pre class='error'>{_text(step.error)}</pre>" if step.error else ""
    return (
        f'<details class="step"{opened}><summary>{_verdict(step.status)} '
        f"{_text(step.phase)} #{step.seq}: {_text(step.name)} "
        f'<span class="muted">({_ms(step.duration_ms)}{attempts})</span></summary>'
        f"{error}{_checks(step.assertions)}"
        f"{_exchange('Request', step.request)}{_exchange('Response', step.response)}</details>"
    )


def _run(run: RunOut) -> str:
    verdict = "passed" if run.status.value == "PASSED" else "muted" if run.muted else run.status.value.lower()
    if run.retried_by is not None:  # its retry stands for the test: shown, not counted
        verdict = "retried"
    reason = f"<p>{_text(run.status_reason)}</p>" if run.status_reason and verdict != "passed" else ""
    if run.muted and run.mute is not None:
        reason = f"<p>Muted: {_text(run.mute.reason)}</p>{reason}"
    if run.retried_by is not None:
        reason = f"<p>Retried: run {run.retried_by}.</p>{reason}"
    if run.flaky:
        reason = f"<p>Flaky: passed on retry (run {run.retry_of} failed).</p>{reason}"
    steps = "".join(_step(step) for step in run.steps or []) or '<p class="muted">no step was recorded</p>'
    variables = f"<pre>{_text(run.variables)}</pre>" if run.variables else ""
    return (
        f'<details class="test" data-verdict="{escape(verdict)}"><summary>{_verdict(run.status.value)} '
        f"{_verdict('muted') if run.muted else ''}"
        f"{_verdict('flaky') if run.flaky else _verdict('retried') if run.retried_by else ''}"
        f'{_text(run.name)} <span class="muted">({_ms(run.duration_ms)})</span></summary>'
        f"{reason}{variables}{steps}</details>"
    )


def _summary(suite_runs: Sequence[SuiteRunOut]) -> str:
    counts = Counter(
        "muted" if run.muted else "flaky" if run.flaky else run.status.value
        for suite_run in suite_runs
        for run in suite_run.runs
        if run.retried_by is None  # a retried run's retry is the test
    )
    cells = "".join(
        f"<tr><td>{_verdict(status)}</td><td>{count}</td></tr>" for status, count in sorted(counts.items())
    )
    total = sum(counts.values())
    return (
        f'<table class="summary"><tr><th>Verdict</th><th>Tests</th></tr>{cells}'
        f"<tr><th>Total</th><th>{total}</th></tr></table>"
    )


def html_report(suite_runs: Sequence[SuiteRunOut], title: str = "Orchestra report") -> bytes:
    """The page of ``suite_runs`` (with their steps)."""
    created = datetime.now(UTC).isoformat(timespec="seconds")
    sections = []
    for suite_run in suite_runs:
        runs = "".join(_run(run) for run in suite_run.runs)
        sections.append(
            f"<section><h2>{_verdict(suite_run.status.value)} {_text(suite_run.name)} "
            f'<span class="muted">{_text(suite_run.environment)} · {_ms(suite_run.duration_ms)}</span></h2>'
            f"{runs}</section>"
        )
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{_text(title)}</h1><p class="muted">written {created}</p>{_summary(suite_runs)}'
        '<nav><button type="button" data-show="all">All tests</button>'
        '<button type="button" data-show="failed">Not passed</button></nav>'
        f"{''.join(sections)}<script>{_SCRIPT}</script></body></html>\n"
    )
    return page.encode("utf-8", "replace")
