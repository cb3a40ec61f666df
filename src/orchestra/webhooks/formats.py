"""The bodies a delivery sends: the event itself (``generic``), or a message for a Slack-compatible
(``slack``: ``text`` and Block Kit ``blocks``) or Microsoft Teams-compatible (``teams``: an Adaptive Card
in a message, what Teams workflows and connectors accept) incoming webhook."""

from __future__ import annotations

import json
from typing import Any

EVENT_TYPES = ("suite_run.finished", "suite_run.failed", "run.failed", "schedule.misfired")
PING = "ping"  # a test delivery asked for through the API; every webhook receives it
_TEXT_LIMIT = 2900  # Slack refuses a section text over 3000 characters
_FAILING = frozenset({"FAILED", "ERROR", "TIMED_OUT"})


def envelope(
    *,
    event_id: str,
    event_type: str,
    project: dict[str, Any],
    event: dict[str, Any],
) -> dict[str, Any]:
    """The generic body: what happened (``event`` as queued, with the names looked up at delivery)."""
    data = {key: value for key, value in event.items() if key != "occurred_at"}
    return {
        "id": event_id,
        "type": event_type,
        "occurred_at": event.get("occurred_at"),
        "project": project,
        "data": data,
    }


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def title_and_facts(body: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]], bool]:
    """A one-line title, a sentence, the facts worth listing, and whether it reports a failure."""
    data, project = body["data"], body["project"].get("name", "")
    kind = body["type"]
    if kind in ("suite_run.finished", "suite_run.failed"):
        suite = data.get("suite_run", {})
        status, name = str(suite.get("status", "")), str(suite.get("name") or "suite run")
        counts = suite.get("counts") or {}
        tally = ", ".join(f"{n} {state.lower()}" for state, n in sorted(counts.items()))
        facts = [
            ("Status", status),
            ("Environment", str(suite.get("environment") or "")),
            ("Tests", f"{suite.get('total', 0)} ({tally})" if tally else str(suite.get("total", 0))),
        ]
        if suite.get("muted"):
            facts.append(("Muted failures", str(suite["muted"])))
        facts.append(("Suite run", str(suite.get("id", ""))))
        return (
            f"Suite run '{name}' {status}",
            f"{project}: suite run '{name}' ended {status}.",
            facts,
            (status in _FAILING),
        )
    if kind == "run.failed":
        run = data.get("run", {})
        status, name = str(run.get("status", "")), str(run.get("name", "run"))
        reason = str(run.get("reason") or "")
        facts = [
            ("Status", status),
            ("Environment", str(run.get("environment") or "")),
            ("Attempt", str(run.get("attempt", ""))),
            ("Run", str(run.get("id", ""))),
        ]
        if reason:
            facts.insert(1, ("Reason", reason))
        return f"Run '{name}' {status}", f"{project}: run '{name}' ended {status}.", facts, True
    if kind == "schedule.misfired":
        schedule = data.get("schedule", {})
        name, detail = str(schedule.get("name", "")), str(data.get("detail", ""))
        facts = [("Schedule", name), ("Due at", str(data.get("due_at", ""))), ("Detail", detail)]
        return (
            f"Schedule '{name}' misfired",
            f"{project}: schedule '{name}' did not start a run. {detail}",
            (facts),
            True,
        )
    webhook = str(data.get("webhook", ""))
    return "Test notification", f"{project}: a test notification for webhook '{webhook}'.", [], False


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(body: dict[str, Any]) -> dict[str, Any]:
    title, sentence, facts, failed = title_and_facts(body)
    mark = ":x:" if failed else ":white_check_mark:"
    lines = [f"{mark} *{_slack_escape(title)}*", _slack_escape(sentence)]
    lines += [f"*{_slack_escape(name)}:* {_slack_escape(value)}" for name, value in facts if value]
    return {
        "text": _shorten(f"{title}: {sentence}", _TEXT_LIMIT),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _shorten("\n".join(lines), _TEXT_LIMIT)}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": _slack_escape(f"{body['type']} · event {body['id']}")}
                ],
            },
        ],
    }


def teams(body: dict[str, Any]) -> dict[str, Any]:
    title, sentence, facts, failed = title_and_facts(body)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "color": "Attention" if failed else "Good",
            },
            {"type": "TextBlock", "text": _shorten(sentence, _TEXT_LIMIT), "wrap": True},
            {"type": "FactSet", "facts": [{"title": n, "value": _shorten(v, 500)} for n, v in facts if v]},
            {
                "type": "TextBlock",
                "text": f"{body['type']} · event {body['id']}",
                "isSubtle": True,
                "size": "Small",
                "wrap": True,
            },
        ],
    }
    return {
        "type": "message",
        "summary": title,
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def render(kind: str, body: dict[str, Any]) -> bytes:
    """The bytes sent (and signed) for a webhook of ``kind``."""
    shaped = slack(body) if kind == "slack" else teams(body) if kind == "teams" else body
    return json.dumps(shaped, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
