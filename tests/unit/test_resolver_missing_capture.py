"""A call the SUT accepted whose capture finds nothing in the response: the binding fails, but what the call
created is still reported for the data ledger — with its undo when the cleanup needs only the captures
that were found, else marked manual with the raw response. The SUT is answered in-process (the shop of the
repair tests)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.records import BindingResult
from orchestra.testdata.resolver import BindingFailed
from tests.unit.resolving import resolve_in_process
from tests.unit.test_data_phase_repair import AUTH, BASE_URL, Shop

LOGIN = {
    "call": {
        "operation": "issueToken",
        "body": {"username": "ada", "password": "{{ secrets.password }}"},
        "capture": {"token": "$.access_token"},
    }
}


def customer_plan(capture: dict[str, str], cleanup_path: str = "{{ self.id }}") -> DataPlan:
    customer = {
        "call": {
            "operation": "createCustomer",
            "headers": AUTH,
            "body": {"name": "Ada", "email": "ada@example.com"},
            "capture": capture,
        },
        "cleanup": {"operation": "deleteCustomer", "path": {"customerId": cleanup_path}, "headers": AUTH},
    }
    return DataPlan.model_validate({"bindings": {"login": LOGIN, "customer": customer}})


async def resolve(plan: DataPlan, shop: Shop) -> tuple[dict[str, BindingResult], BindingFailed | None]:
    """Every reported result by binding, and the failure the resolve raised."""
    reported, failure = await resolve_in_process(plan, shop, secrets={"password": "ada-secret"})
    return {result.binding: result for result in reported}, failure


async def test_a_missing_capture_still_reports_the_undo_rendered_with_the_captures_found() -> None:
    shop = Shop()
    reported, failure = await resolve(customer_plan({"id": "$.id", "href": "$.links.self"}), shop)

    assert failure is not None
    assert failure.binding == "customer"
    customer = reported["customer"]
    assert customer.status == "failed"
    assert customer.undo is not None
    assert (customer.undo.method, customer.undo.url) == ("DELETE", f"{BASE_URL}/customers/1")
    assert customer.undo.headers["Authorization"] == "Bearer t1"
    assert not customer.manual
    assert customer.error is not None
    assert customer.error.startswith("createCustomer: capture href")
    assert customer.error.endswith("what it created is in the data ledger, to be undone")
    assert shop.customers == {"1": {"name": "Ada", "email": "ada@example.com"}}  # made: the ledger says so


async def test_a_missing_capture_the_cleanup_needs_is_reported_manual_with_the_response() -> None:
    shop = Shop()
    reported, failure = await resolve(customer_plan({"id": "$.customer_id"}), shop)

    assert failure is not None
    assert failure.binding == "customer"
    customer = reported["customer"]
    assert (customer.status, customer.undo, customer.manual) == ("failed", None, True)
    assert customer.request is not None
    assert customer.request["method"] == "POST"
    assert customer.response is not None
    assert customer.response["status"] == 201
    assert '"id":"1"' in customer.response["body"].replace(" ", "")  # what a person needs to undo it
    assert customer.error is not None
    assert customer.error.startswith("createCustomer: capture id")
    assert "the cleanup of 'customer' cannot be rendered" in customer.error
    assert customer.error.endswith("in the data ledger marked manual (remove it by hand)")
    assert failure.reason == customer.error


LOOKUP = {"lookup": {"operation": "issueToken", "body": LOGIN["call"]["body"], "select": "$.nothing"}}
UNCAPTURED_LOGIN = {"call": {**LOGIN["call"], "capture": {"token": "$.nothing"}}}


@pytest.mark.parametrize("login", [LOOKUP, UNCAPTURED_LOGIN], ids=["lookup", "call-without-cleanup"])
async def test_a_missing_value_of_a_binding_without_cleanup_is_a_plain_failure(login: dict[str, Any]) -> None:
    """A lookup creates nothing, nor does a call the plan does not undo (a log-in): nothing for the ledger."""
    plan = DataPlan.model_validate({"bindings": {"login": login}})
    reported, failure = await resolve(plan, Shop())

    assert failure is not None
    assert failure.binding == "login"
    login_result = reported["login"]
    assert (login_result.status, login_result.undo, login_result.manual) == ("failed", None, False)
    assert login_result.error is not None
    assert "data ledger" not in login_result.error
