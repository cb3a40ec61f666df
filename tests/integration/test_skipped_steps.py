"""A run reports every skipped step and check with why: a check's condition, a step's condition, an empty
loop, and the steps after a failure that stopped the run."""

from __future__ import annotations

from tests.integration.conftest import Harness


async def test_skipped_steps_and_checks_carry_their_reasons(harness: Harness) -> None:
    run = await harness.run(
        {
            "name": "skips",
            "variables": {"admin": False, "nobody": []},
            "steps": [
                {
                    "name": "health",
                    "request": {"url": "/health"},
                    "expect": {
                        "status": 200,
                        "json": [
                            {"path": "$.status", "equals": "admin", "if": "{{ admin }}", "name": "admin"},
                            {"path": "$.status", "equals": "ok", "if": "{{ not admin }}"},
                        ],
                    },
                },
                {"name": "admin page", "if": "{{ admin }}", "request": {"url": "/admin"}},
                {"name": "each nobody", "for_each": "{{ nobody }}", "request": {"url": "/health"}},
                {"name": "fails", "request": {"url": "/health"}, "expect": {"status": 201}},
                {"name": "after", "request": {"url": "/health"}},
            ],
        }
    )
    assert run["status"] == "FAILED", run["status_reason"]
    health, admin, loop, fails, after = run["steps"]
    assert health["status"] == "passed", health["assertions"]
    assert [check["outcome"] for check in health["assertions"]] == ["passed", "skipped", "passed"]
    assert health["assertions"][1]["reason"] == "if {{ admin }}: false"
    assert (admin["status"], admin["skipped_reason"]) == ("skipped", "if {{ admin }}: false")
    assert (loop["status"], loop["skipped_reason"]) == ("skipped", "the loop has no items")
    assert fails["status"] == "failed"
    assert after["status"] == "skipped"
    assert after["skipped_reason"] == "the run stopped: step 'fails': status: expected 201, got 200"


async def test_a_check_condition_that_is_not_a_boolean_is_the_steps_error(harness: Harness) -> None:
    run = await harness.run(
        {
            "name": "bad condition",
            "variables": {"role": "admin"},
            "steps": [
                {
                    "request": {"url": "/health"},
                    "expect": {"json": [{"path": "$.status", "equals": "ok", "if": "{{ role }}"}]},
                }
            ],
        }
    )
    assert run["status"] == "ERROR"
    assert run["steps"][0]["error"] == (
        "expect.json $.status: if '{{ role }}' rendered to 'admin' (str); a condition must be true or false"
    )
    assert run["steps"][0]["request"] is None  # nothing was sent
