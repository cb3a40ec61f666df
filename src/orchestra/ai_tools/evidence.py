"""The evidence of a failed run, as numbered items (E1, E2, …) an explanation can cite.

Pure assembly from what the run recorded: its failing step and the expectations that failed, excerpts of
the request and response of that step and of the step before it, the differences from the last passing
run of the same test case in the same environment, and similar past failures. Every excerpt is bounded,
so the evidence of any run fits in a model's context; bodies were already masked when they were stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from orchestra.steps.outcome import is_failed_check

BODY_LIMIT = 1024
EXCERPT_LIMIT = 2048
MAX_DIFF_FIELDS = 20
MAX_DIFF_STEPS = 20
MAX_EXPECTATIONS = 10
_VALUE_LIMIT = 120
_CUT_MARK = "…"


@dataclass(frozen=True, slots=True)
class EvidenceStep:
    """One recorded step, as the evidence sees it."""

    seq: int
    phase: str
    name: str
    status: str
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    assertions: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SimilarFailure:
    run_id: str
    score: float
    summary: str


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    id: str
    kind: str  # failure | expectation | request | response | diff | similar | step
    title: str
    excerpt: str
    ref: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "excerpt": self.excerpt,
            "ref": self.ref,
        }


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _CUT_MARK


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else _as_json(value)
    return cut(text, _VALUE_LIMIT)


def _as_json(value: Any) -> str:
    """JSON as written, so 1 and "1" stay apart in a diff."""
    return cut(json.dumps(value, ensure_ascii=False, default=str), _VALUE_LIMIT)


def failing_step(steps: list[EvidenceStep]) -> EvidenceStep | None:
    """The first step that did not pass (teardown failures only when nothing before them failed)."""
    failed = [step for step in steps if step.status in ("failed", "error")]
    main = [step for step in failed if step.phase != "teardown"]
    chosen = main or failed
    return chosen[0] if chosen else None


def failed_expectations(step: EvidenceStep) -> list[dict[str, Any]]:
    return [item for item in step.assertions if isinstance(item, dict) and is_failed_check(item)]


def request_excerpt(request: dict[str, Any]) -> str:
    head = f"{request.get('method', '?')} {request.get('url', '?')}"
    body = request.get("body")
    return head if not body else f"{head}\n\n{cut(str(body), BODY_LIMIT)}"


def response_excerpt(response: dict[str, Any]) -> str:
    head = f"HTTP {response.get('status', '?')} {response.get('reason', '')}".rstrip()
    body = response.get("body")
    return head if not body else f"{head}\n\n{cut(str(body), BODY_LIMIT)}"


def _parsed_body(response: dict[str, Any] | None) -> Any:
    if not response or response.get("body_truncated"):
        return None  # a cut body would show differences that are not there
    body = response.get("body")
    if not isinstance(body, str):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def json_differences(before: Any, after: Any, path: str = "$", limit: int = MAX_DIFF_FIELDS) -> list[str]:
    """The JSON paths whose values differ, as "path: before → after" (at most ``limit``)."""
    out: list[str] = []
    _walk(before, after, path, out, limit)
    return out


def _walk(before: Any, after: Any, path: str, out: list[str], limit: int) -> None:
    if len(out) >= limit:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}"
            if key not in before:
                out.append(f"{where}: (absent) → {_as_json(after[key])}")
            elif key not in after:
                out.append(f"{where}: {_as_json(before[key])} → (absent)")
            else:
                _walk(before[key], after[key], where, out, limit)
            if len(out) >= limit:
                return
        return
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            out.append(f"{path}: {len(before)} items → {len(after)} items")
        for index, (left, right) in enumerate(zip(before, after, strict=False)):
            _walk(left, right, f"{path}[{index}]", out, limit)
            if len(out) >= limit:
                return
        return
    if before != after or type(before) is not type(after):
        out.append(f"{path}: {_as_json(before)} → {_as_json(after)}")


def step_differences(passed: list[EvidenceStep], failed: list[EvidenceStep]) -> list[dict[str, Any]]:
    """Per step (matched by phase and name): status, response status and JSON body fields that changed
    from the passing run to the failed one. Steps only one of the runs has are listed too."""
    earlier = {(step.phase, step.name): step for step in passed}
    changes: list[dict[str, Any]] = []
    for step in failed:
        before = earlier.pop((step.phase, step.name), None)
        if before is None:
            changes.append({"step": step.name, "phase": step.phase, "only_in": "failed run"})
            continue
        change: dict[str, Any] = {"step": step.name, "phase": step.phase}
        if before.status != step.status:
            change["status"] = [before.status, step.status]
        old_status = (before.response or {}).get("status")
        new_status = (step.response or {}).get("status")
        if old_status != new_status:
            change["response_status"] = [old_status, new_status]
        old_body, new_body = _parsed_body(before.response), _parsed_body(step.response)
        if old_body is not None and new_body is not None:
            fields = json_differences(old_body, new_body)
            if fields:
                change["body"] = fields
        if len(change) > 2:
            changes.append(change)
    for phase, name in earlier:
        changes.append({"step": name, "phase": phase, "only_in": "passing run"})
    return changes[:MAX_DIFF_STEPS]


def _step_label(phase: str, name: str) -> str:
    """ "step 'x'" for the test's own steps, "setup step 'x'" and "teardown step 'x'" for the others."""
    return f"step '{name}'" if phase in ("main", "steps") else f"{phase} step '{name}'"


def _describe_change(change: dict[str, Any]) -> str:
    label = _step_label(change["phase"], change["step"])
    if "only_in" in change:
        return f"{label}: only in the {change['only_in']}"
    parts = []
    if "status" in change:
        parts.append(f"step {change['status'][0]} → {change['status'][1]}")
    if "response_status" in change:
        parts.append(f"HTTP {change['response_status'][0]} → {change['response_status'][1]}")
    lines = [f"{label}: " + (", ".join(parts) or "body changed")]
    lines += [f"  {line}" for line in change.get("body", [])]
    return "\n".join(lines)


def _expectation_text(expectation: dict[str, Any]) -> str:
    """The message, then what was expected and what came, leaving out what the check does not have
    (a schema check expects no single value)."""
    lines = [expectation.get("message") or ""]
    lines += [
        f"{key}: {_short(expectation[key])}"
        for key in ("expected", "actual")
        if expectation.get(key) is not None
    ]
    return "\n".join(lines).strip()


class _Numbered:
    def __init__(self) -> None:
        self.items: list[EvidenceItem] = []

    def add(self, kind: str, title: str, excerpt: str, ref: dict[str, Any]) -> None:
        item_id = f"E{len(self.items) + 1}"
        self.items.append(EvidenceItem(item_id, kind, title, cut(excerpt, EXCERPT_LIMIT), ref))


def assemble(
    *,
    run_id: str,
    status: str,
    status_reason: str | None,
    steps: list[EvidenceStep],
    last_passing_run_id: str | None,
    last_passing_steps: list[EvidenceStep],
    similar: list[SimilarFailure],
) -> list[EvidenceItem]:
    """The numbered evidence items of a run, most telling first."""
    numbered = _Numbered()
    step = failing_step(steps)
    reason = status_reason or (step.error if step else None) or "no reason recorded"
    numbered.add("failure", f"run {status}", reason, {"run_id": run_id, "status": status})
    if step is not None:
        where = {"run_id": run_id, "seq": step.seq, "step": step.name, "phase": step.phase}
        numbered.add(
            "step",
            f"failing {_step_label(step.phase, step.name)} ({step.status})",
            step.error or step.status,
            where,
        )
        for expectation in failed_expectations(step)[:MAX_EXPECTATIONS]:
            check = str(expectation.get("check", "expectation"))
            numbered.add("expectation", f"failed expectation {check}", _expectation_text(expectation), where)
        previous = [s for s in steps if s.seq < step.seq][-1:]
        for shown in [*previous, step]:
            shown_ref = {"run_id": run_id, "seq": shown.seq, "step": shown.name}
            if shown.request:
                numbered.add(
                    "request", f"request of step '{shown.name}'", request_excerpt(shown.request), shown_ref
                )
            if shown.response:
                numbered.add(
                    "response",
                    f"response of step '{shown.name}'",
                    response_excerpt(shown.response),
                    shown_ref,
                )
    if last_passing_run_id is not None:
        changes = step_differences(last_passing_steps, steps)
        if changes:
            numbered.add(
                "diff",
                "differences from the last passing run",
                "\n".join(_describe_change(change) for change in changes),
                {"run_id": run_id, "last_passing_run_id": last_passing_run_id, "changes": changes},
            )
    for found in similar:
        numbered.add(
            "similar",
            f"similar past failure (run {found.run_id}, score {found.score:.2f})",
            found.summary,
            {"run_id": found.run_id, "score": found.score},
        )
    return numbered.items
