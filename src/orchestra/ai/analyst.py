"""``/v1/explain``: why a run failed, told from its evidence (E1, E2, … from the API) and from nothing else.

Without a model the answer is a deterministic summary of the evidence items: the same evidence always gives
the same text, and every sentence quotes an item it cites. With a model its findings are kept only when each
cites evidence that exists; if the model fails, or keeps nothing, the deterministic summary is the answer."""

from __future__ import annotations

import json
from typing import Any

import structlog

from orchestra.ai.api_tools import ApiTools
from orchestra.ai.model_tools import cut
from orchestra.ai.ollama_chat import ModelClient, ModelUnavailable, parse_json_object
from orchestra.ai.prompts import ANALYST_SYSTEM
from orchestra.ai_client.messages import EvidenceItem, ExplainResponse, Finding

log = structlog.get_logger(__name__)
MAX_FINDINGS = 8
EXCERPT_CHARS = 300
# The kinds that say something about the cause, in the order a reader wants them.
_EXPLAINING = ("failure", "expectation", "diff", "similar")
FINDINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "citations": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["text", "citations"],
            },
        },
    },
    "required": ["summary", "findings"],
}


def evidence_items(evidence: dict[str, Any]) -> list[EvidenceItem]:
    items = evidence.get("items") or []
    return [
        EvidenceItem(
            id=str(item.get("id", "")),
            kind=str(item.get("kind", "")),
            title=str(item.get("title", "")),
            excerpt=str(item.get("excerpt", "")),
        )
        for item in items
        if isinstance(item, dict) and item.get("id")
    ]


def _one_line(text: str, limit: int = EXCERPT_CHARS) -> str:
    return cut(" ".join(text.split()), limit)


def _finding(item: EvidenceItem) -> Finding:
    lead = {
        "failure": "Failed",
        "expectation": "Expectation not met",
        "diff": "Changed since the last passing run",
        "similar": "A similar earlier failure",
    }[item.kind]
    detail = f": {_one_line(item.excerpt)}" if item.excerpt.strip() else ""
    return Finding(text=f"{lead} — {_one_line(item.title, 200)}{detail} [{item.id}]", citations=[item.id])


def deterministic_explanation(run_id: str, evidence: dict[str, Any]) -> ExplainResponse:
    """The summary built only from the evidence; a pure function of it."""
    items = evidence_items(evidence)
    run = evidence.get("run") or {}
    name = str(run.get("name") or run.get("test_case") or run_id)
    status = str(run.get("status") or "unknown").lower()
    reason = str(run.get("status_reason") or "").strip()
    summary = f"Run {name} ended {status}" + (f": {_one_line(reason)}" if reason else ".")
    ranked = sorted(
        (item for item in items if item.kind in _EXPLAINING),
        key=lambda item: _EXPLAINING.index(item.kind),
    )
    findings = [_finding(item) for item in ranked[:MAX_FINDINGS]]
    if evidence.get("last_passing_run_id") and not any(item.kind == "diff" for item in items):
        summary += f" The last passing run was {evidence['last_passing_run_id']}."
    if not findings:
        summary += " The recorded evidence does not show a failing step or expectation."
    return ExplainResponse(run_id=run_id, summary=summary, findings=findings, evidence=items, model=None)


def _evidence_prompt(evidence: dict[str, Any], items: list[EvidenceItem]) -> str:
    listed = [{"id": i.id, "kind": i.kind, "title": i.title, "excerpt": cut(i.excerpt, 1500)} for i in items]
    return (
        f"Run: {json.dumps(evidence.get('run') or {}, ensure_ascii=False, default=str)}\n"
        f"Evidence:\n{json.dumps(listed, ensure_ascii=False)}\n"
        "Explain why the run failed: a one-paragraph summary and findings, each citing evidence ids."
    )


def cited_findings(answer: dict[str, Any], known: set[str]) -> list[Finding]:
    """The model's findings whose citations all exist and are not empty; the others are dropped."""
    kept: list[Finding] = []
    for raw in answer.get("findings") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
            continue
        citations = [str(c).strip("[] ") for c in raw.get("citations") or [] if isinstance(c, str)]
        if citations and all(c in known for c in citations):
            kept.append(Finding(text=cut(raw["text"], 2000), citations=list(dict.fromkeys(citations))))
    return kept[:MAX_FINDINGS]


async def explain(run_id: str, api: ApiTools, model: ModelClient | None) -> ExplainResponse:
    evidence = await api.evidence(run_id)
    fallback = deterministic_explanation(run_id, evidence)
    if model is None or not fallback.evidence:
        return fallback
    messages = [
        {"role": "system", "content": ANALYST_SYSTEM},
        {"role": "user", "content": _evidence_prompt(evidence, fallback.evidence)},
    ]
    try:
        reply = await model.chat(messages, format=FINDINGS_SCHEMA)
    except ModelUnavailable as error:
        log.warning("ai.explain_model_unavailable", reason=str(error))
        return fallback
    answer = parse_json_object(reply.content)
    known = {item.id for item in fallback.evidence}
    findings = cited_findings(answer, known) if answer else []
    summary = answer.get("summary") if answer else None
    if not findings or not isinstance(summary, str) or not summary.strip():
        log.info("ai.explain_model_answer_unusable", run_id=run_id)
        return fallback
    return ExplainResponse(
        run_id=run_id,
        summary=cut(summary, 4000),
        findings=findings,
        evidence=fallback.evidence,
        model=model.model,
    )
