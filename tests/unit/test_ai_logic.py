"""Pure logic of the ai-service: deterministic explanations, citations, suggestions, operation matching."""

from __future__ import annotations

import re
from typing import Any

import pytest

from orchestra.ai.analyst import cited_findings, deterministic_explanation
from orchestra.ai.chat import matching_operations
from orchestra.ai.model_tools import Sources, cut
from orchestra.ai.ollama_chat import parse_json_object
from orchestra.ai.ollama_planner import describe_problems
from orchestra.ai.suggest import deterministic_cases
from orchestra.definitions.loader import validate_test_case_data
from orchestra.definitions.testcase_model import DataRequirements
from orchestra.demo.sut import create_app as create_demo_app
from orchestra.openapi.catalogue import build_catalogue
from orchestra.testdata.planner.builtin import plan_for
from orchestra.testdata.values.name_hints import snake

CATALOGUE = build_catalogue(create_demo_app().openapi())
DEMO_ENVIRONMENT: dict[str, Any] = {"variables": {"username": "demo"}, "secret_names": ["password"]}


def evidence(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "run": {"id": "r1", "name": "checkout", "status": "failed", "status_reason": "step 2 failed"},
        "items": list(items),
        "last_passing_run_id": None,
        "similar_runs": [],
        **extra,
    }


def item(id_: str, kind: str, title: str, excerpt: str = "") -> dict[str, Any]:
    return {"id": id_, "kind": kind, "title": title, "excerpt": excerpt, "ref": {}}


def test_the_deterministic_explanation_orders_causes_and_cites_each() -> None:
    explained = deterministic_explanation(
        "r1",
        evidence(
            item("E1", "request", "request", "POST /orders"),
            item("E2", "similar", "run r0 failed the same way", "422 on createOrder"),
            item("E3", "expectation", "$.status", "expected 201 at status, got 422"),
            item("E4", "failure", "step 'order' failed"),
            item("E5", "diff", "response status", "201 → 422"),
        ),
    )
    assert explained.summary == "Run checkout ended failed: step 2 failed"
    assert [f.citations for f in explained.findings] == [["E4"], ["E3"], ["E5"], ["E2"]]
    assert (
        explained.findings[1].text == "Expectation not met — $.status: expected 201 at status, got 422 [E3]"
    )
    assert [e.id for e in explained.evidence] == ["E1", "E2", "E3", "E4", "E5"]


def test_the_deterministic_explanation_says_when_the_evidence_shows_no_cause() -> None:
    explained = deterministic_explanation("r1", evidence(item("E1", "step", "a step")))
    assert explained.findings == []
    assert "does not show a failing step" in explained.summary


def test_the_deterministic_explanation_is_a_function_of_the_evidence() -> None:
    data = evidence(item("E1", "failure", "boom", "x" * 5000))
    assert deterministic_explanation("r1", data) == deterministic_explanation("r1", data)
    assert len(deterministic_explanation("r1", data).findings[0].text) < 600


def test_only_findings_citing_existing_evidence_are_kept() -> None:
    answer = {
        "findings": [
            {"text": "ok", "citations": ["E1"]},
            {"text": "bracketed", "citations": ["[E2]"]},
            {"text": "one unknown", "citations": ["E1", "E7"]},
            {"text": "none", "citations": []},
            {"text": 5, "citations": ["E1"]},
            "not an object",
        ]
    }
    kept = cited_findings(answer, {"E1", "E2"})
    assert [(f.text, f.citations) for f in kept] == [("ok", ["E1"]), ("bracketed", ["E2"])]


@pytest.mark.parametrize("operation_id", sorted(CATALOGUE.operations))
def test_every_suggestion_for_every_demo_operation_is_a_valid_definition(operation_id: str) -> None:
    operation = CATALOGUE.operations[operation_id]
    cases, _ = deterministic_cases(operation, CATALOGUE, DEMO_ENVIRONMENT)
    assert cases
    for case in cases:
        validate_test_case_data(case)
    assert any(c["steps"][0]["expect"]["status"] == 401 for c in cases) == bool(operation.security)


@pytest.mark.parametrize("operation_id", ["createOrder", "getItem", "deleteCustomer"])
def test_the_happy_path_uses_the_inputs_the_builtin_planner_makes(operation_id: str) -> None:
    happy = deterministic_cases(CATALOGUE.operations[operation_id], CATALOGUE, DEMO_ENVIRONMENT)[0][0]
    request = happy["steps"][0]["request"]
    plan = plan_for(
        DataRequirements.model_validate(happy["data"]),
        CATALOGUE,
        environment=DEMO_ENVIRONMENT["variables"],
        secret_names=DEMO_ENVIRONMENT["secret_names"],
        seed=1,
    )
    referenced = set(re.findall(r"data\.(\w+)", str(request)))
    assert referenced == {snake(operation_id), "auth"}  # its inputs, and the token of the SUT's login
    assert referenced <= set(plan.bindings)
    assert request["headers"] == plan.defaults.headers


def test_operations_matching_a_question_come_best_first() -> None:
    matched = matching_operations(CATALOGUE, "how do I create an order")
    assert matched[0].startswith("createOrder")
    assert matching_operations(CATALOGUE, "zebra") == []


def test_sources_number_hits_once_each() -> None:
    sources = Sources()
    first = sources.add({"id": "c9", "title": "A", "excerpt": "a"})
    again = sources.add({"id": "c9", "title": "A", "excerpt": "a"})
    other = sources.add({"chunk_id": "c1", "document_title": "B", "text": "b"})
    assert (first["id"], again["id"], other["id"]) == ("D1", "D1", "D2")
    assert other == {"id": "D2", "title": "B", "excerpt": "b"}


def test_secured_operations_without_credentials_get_a_placeholder_and_a_note() -> None:
    cases, notes = deterministic_cases(CATALOGUE.operations["createItem"], CATALOGUE, {})
    assert cases[0]["steps"][0]["request"]["headers"] == {"Authorization": "Bearer {{ secrets.token }}"}
    assert any("secrets.token" in note for note in notes)
    open_cases, open_notes = deterministic_cases(CATALOGUE.operations["health"], CATALOGUE, {})
    assert "headers" not in open_cases[0]["steps"][0]["request"]
    assert open_notes == []


def test_helpers_bound_and_parse() -> None:
    assert cut("x" * 10, 4) == "xxxx …[cut]"
    assert cut({"a": 1}) == '{"a": 1}'
    assert parse_json_object('{"a": 1}') == {"a": 1}
    assert parse_json_object("[1]") is None
    assert parse_json_object("{") is None
    assert describe_problems([{"path": "bindings.x", "code": "unknown_operation", "message": "no such"}]) == [
        "bindings.x: no such [unknown_operation]"
    ]
