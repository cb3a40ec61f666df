"""Evidence of a failed run: the failing step and expectations first, bounded excerpts, the differences from
the last passing run, and stable ids an explanation can cite."""

from __future__ import annotations

import json

from orchestra.ai_tools.evidence import (
    BODY_LIMIT,
    EXCERPT_LIMIT,
    MAX_DIFF_FIELDS,
    EvidenceStep,
    SimilarFailure,
    assemble,
    failing_step,
    json_differences,
    step_differences,
)


def _response(status: int, body: object, truncated: bool = False) -> dict[str, object]:
    return {"status": status, "reason": "", "body": json.dumps(body), "body_truncated": truncated}


def _step(seq: int, name: str, status: str = "passed", **kwargs: object) -> EvidenceStep:
    return EvidenceStep(seq=seq, phase=str(kwargs.pop("phase", "steps")), name=name, status=status, **kwargs)  # type: ignore[arg-type]


FAILED_EXPECTATION = {
    "check": "status",
    "passed": False,
    "expected": 201,
    "actual": 409,
    "message": "status 409, expected 201",
}
PASSED_EXPECTATION = {"check": "time", "passed": True, "expected": 100, "actual": 3, "message": "fast"}


def _failed_run_steps() -> list[EvidenceStep]:
    return [
        _step(
            0,
            "create customer",
            request={"method": "POST", "url": "http://sut/customers", "body": "{}"},
            response=_response(201, {"id": 1}),
        ),
        _step(
            1,
            "create order",
            "failed",
            request={"method": "POST", "url": "http://sut/orders"},
            response=_response(409, {"error": "duplicate", "id": 7}),
            assertions=[PASSED_EXPECTATION, FAILED_EXPECTATION],
        ),
        _step(2, "cleanup", "passed", phase="teardown"),
    ]


def test_the_failing_step_is_the_first_that_did_not_pass_before_teardown() -> None:
    steps = [_step(0, "a"), _step(1, "b", "failed", phase="teardown"), _step(2, "c", "error")]
    failing = failing_step(steps)
    assert failing is not None
    assert failing.name == "c"
    assert failing_step([_step(0, "a")]) is None


def test_items_are_numbered_in_order_and_start_with_the_failure_and_its_expectation() -> None:
    items = assemble(
        run_id="r1",
        status="FAILED",
        status_reason="step 'create order' failed",
        steps=_failed_run_steps(),
        last_passing_run_id=None,
        last_passing_steps=[],
        similar=[],
    )
    assert [item.id for item in items] == [f"E{n}" for n in range(1, len(items) + 1)]
    kinds = [item.kind for item in items]
    assert kinds[:3] == ["failure", "step", "expectation"]
    assert items[0].excerpt == "step 'create order' failed"
    assert "expected: 201" in items[2].excerpt
    assert "actual: 409" in items[2].excerpt
    # only the failed expectation is evidence, not the passed one
    assert kinds.count("expectation") == 1
    # request/response of the failing step and of the step before it
    titles = [item.title for item in items if item.kind in ("request", "response")]
    assert titles == [
        "request of step 'create customer'",
        "response of step 'create customer'",
        "request of step 'create order'",
        "response of step 'create order'",
    ]


def test_an_expectation_without_a_single_expected_value_says_only_what_it_has() -> None:
    schema_failure = {
        "check": "schema",
        "passed": False,
        "expected": None,
        "actual": ["$: 'currency' is a required property"],
        "message": "schema: $: 'currency' is a required property",
    }
    steps = [_step(0, "read", "failed", assertions=[schema_failure])]
    items = assemble(
        run_id="r1",
        status="FAILED",
        status_reason="step 'read' failed",
        steps=steps,
        last_passing_run_id=None,
        last_passing_steps=[],
        similar=[],
    )
    excerpt = next(item.excerpt for item in items if item.kind == "expectation")
    assert excerpt.splitlines() == [
        "schema: $: 'currency' is a required property",
        "actual: [\"$: 'currency' is a required property\"]",
    ]


def test_bodies_are_cut_to_about_a_kibibyte() -> None:
    big = {"blob": "x" * 10_000}
    steps = [_step(0, "big", "failed", response=_response(500, big))]
    items = assemble(
        run_id="r",
        status="FAILED",
        status_reason=None,
        steps=steps,
        last_passing_run_id=None,
        last_passing_steps=[],
        similar=[],
    )
    response = next(item for item in items if item.kind == "response")
    assert len(response.excerpt) < BODY_LIMIT + 100
    assert all(len(item.excerpt) <= EXCERPT_LIMIT for item in items)


def test_the_diff_against_the_last_passing_run_names_changed_statuses_and_fields() -> None:
    passing = [
        _step(0, "create customer", response=_response(201, {"id": 1})),
        _step(1, "create order", response=_response(201, {"id": 7, "state": "new"})),
        _step(2, "cleanup", phase="teardown"),
    ]
    changes = step_differences(passing, _failed_run_steps())
    assert changes == [
        {
            "step": "create order",
            "phase": "steps",
            "status": ["passed", "failed"],
            "response_status": [201, 409],
            "body": ['$.error: (absent) → "duplicate"', '$.state: "new" → (absent)'],
        }
    ]
    items = assemble(
        run_id="r",
        status="FAILED",
        status_reason=None,
        steps=_failed_run_steps(),
        last_passing_run_id="p1",
        last_passing_steps=passing,
        similar=[],
    )
    diff = next(item for item in items if item.kind == "diff")
    assert "HTTP 201 → 409" in diff.excerpt
    assert diff.ref["last_passing_run_id"] == "p1"


def test_steps_only_one_run_has_are_reported() -> None:
    changes = step_differences([_step(0, "old")], [_step(0, "new")])
    assert {"step": "new", "phase": "steps", "only_in": "failed run"} in changes
    assert {"step": "old", "phase": "steps", "only_in": "passing run"} in changes


def test_truncated_bodies_are_not_compared() -> None:
    before = [_step(0, "s", response=_response(200, {"a": 1}, truncated=True))]
    after = [_step(0, "s", response=_response(200, {"a": 2}))]
    assert step_differences(before, after) == []


def test_json_differences_are_bounded_and_walk_lists() -> None:
    before = {f"k{n}": n for n in range(100)}
    after = {f"k{n}": n + 1 for n in range(100)}
    assert len(json_differences(before, after)) == MAX_DIFF_FIELDS
    assert json_differences([1, 2], [1, 3, 4]) == ["$: 2 items → 3 items", "$[1]: 2 → 3"]
    assert json_differences({"a": 1}, {"a": "1"}) == ['$.a: 1 → "1"']


def test_similar_failures_come_last_with_their_run() -> None:
    items = assemble(
        run_id="r",
        status="FAILED",
        status_reason="x",
        steps=[],
        last_passing_run_id=None,
        last_passing_steps=[],
        similar=[SimilarFailure("r0", 0.91, "same 409 on orders")],
    )
    assert items[-1].kind == "similar"
    assert items[-1].ref == {"run_id": "r0", "score": 0.91}
    assert items[-1].id == "E2"
