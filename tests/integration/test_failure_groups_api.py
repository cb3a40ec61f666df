"""Failure groups through the API on a crafted history: failures with one cause (ids, numbers, timestamps
masked; or close in meaning) make one group across test cases, with the run it appeared in and what changed
then; a group linked to an issue labels the failures since then, in the group and in run results."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem
from tests.integration.insights_history import History

TIMEOUT = "connection to payments at 10.0.0.{n} timed out after {ms} ms (request {id})"


@pytest.fixture
async def history(api: httpx.AsyncClient, runtime: Runtime) -> History:
    shop = History(api, runtime, "shop")
    await shop.setup("checkout", "refund", "search", environments=("sut", "staging"))
    return shop


async def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def timeouts(count: int) -> list[str]:
    return [TIMEOUT.format(n=i, ms=3000 + i, id=uuid.uuid4()) for i in range(count)]


async def test_failures_with_one_cause_make_one_group_across_test_cases(
    api: httpx.AsyncClient, history: History
) -> None:
    first = await history.runs("checkout", "PPFF", errors=["", "", *timeouts(2)][:4])
    await history.runs("refund", "FF", errors=timeouts(2))
    await history.runs("search", "FP")  # a status check: another cause
    page = await ok(await api.get("/insights/failure-groups", params={"project": "shop"}))
    assert page["total"] == 2
    top = page["items"][0]
    assert (top["failures"], top["test_cases"]) == (4, 2)
    assert (
        top["signature"]
        == "main/pay: connection to payments at <n>.<n> timed out after <n> ms (request <uuid>)"
    )
    assert top["first_run_id"] == str(first[2])
    other = page["items"][1]
    assert (other["failures"], other["signature"]) == (1, "main/pay: status: expected 200, got 503")
    detail = await ok(await api.get(f"/insights/failure-groups/{top['id']}"))
    assert {item["test_case"]: item["failures"] for item in detail["by_test_case"]} == {
        "checkout": 2,
        "refund": 2,
    }
    change = detail["first_change"]
    assert (change["first_run"], change["previous_pass"]) == (str(first[2]), str(first[1]))
    assert change["step"] == "main/pay"
    assert change["response_status"] == [200, 503]
    assert change["response_body"] == [{"path": "$.paid", "change": "changed", "left": True, "right": False}]
    assert change["test_case_version"] == [1, 1]
    # filters: by test case, by environment, pages
    only = await ok(
        await api.get("/insights/failure-groups", params={"project": "shop", "test_case": "search"})
    )
    assert [item["id"] for item in only["items"]] == [other["id"]]
    staging = await ok(
        await api.get("/insights/failure-groups", params={"project": "shop", "environment": "staging"})
    )
    assert staging["total"] == 0
    second = await ok(
        await api.get("/insights/failure-groups", params={"project": "shop", "limit": 1, "offset": 1})
    )
    assert (second["total"], [item["id"] for item in second["items"]]) == (2, [other["id"]])


async def test_messages_close_in_meaning_join_the_group(api: httpx.AsyncClient, history: History) -> None:
    await history.runs("checkout", "F", errors=["payment service unavailable: upstream connect error"])
    await history.runs(
        "refund", "F", errors=["payment service unavailable: upstream connect error (retrying)"]
    )
    await history.runs("search", "F", errors=["search index is rebuilding"])
    page = await ok(await api.get("/insights/failure-groups", params={"project": "shop"}))
    assert sorted(item["failures"] for item in page["items"]) == [1, 2]


async def test_a_linked_issue_labels_later_failures_in_the_group_and_the_runs(
    api: httpx.AsyncClient, history: History
) -> None:
    before = await history.runs("checkout", "F", errors=timeouts(1))
    page = await ok(await api.get("/insights/failure-groups", params={"project": "shop"}))
    group = page["items"][0]["id"]
    url = "https://issues.example.com/PAY-12"
    linked = await ok(await api.put(f"/insights/failure-groups/{group}/issue", json={"url": url}))
    assert (linked["issue_url"], linked["failures_since_issue"]) == (url, 0)
    after = await history.runs("refund", "F", errors=timeouts(1), at=datetime.now(UTC))  # since the link
    detail = await ok(await api.get(f"/insights/failure-groups/{group}"))
    labels = {run["id"]: run["known_issue"] for run in detail["latest_runs"]}
    assert labels == {str(before[0]): None, str(after[0]): url}
    assert (detail["failures"], detail["failures_since_issue"]) == (2, 1)
    earlier = await ok(await api.get(f"/runs/{before[0]}"))
    assert (earlier["failure_group_id"], earlier["known_issue"]) == (group, None)
    assert (await ok(await api.get(f"/runs/{after[0]}")))["known_issue"] == url
    only_linked = await ok(
        await api.get("/insights/failure-groups", params={"project": "shop", "has_issue": "true"})
    )
    assert [item["id"] for item in only_linked["items"]] == [group]
    response = await api.delete(f"/insights/failure-groups/{group}/issue")
    assert response.status_code == 204, response.text
    assert (await ok(await api.get(f"/insights/failure-groups/{group}")))["issue_url"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"url": "not a url"},
        {"url": "http://\x1fx"},
        {"url": "https://x/a b"},
        {"url": "ftp://x/y"},
        {"url": "https://" + "a" * 2000},
        {"url": ""},
        {},
        {"url": 1},
        {"url": "https://x/1", "extra": 1},
    ],
)
async def test_bad_issue_links_are_refused(api: httpx.AsyncClient, history: History, body: Any) -> None:
    await history.runs("checkout", "F")
    group = (await ok(await api.get("/insights/failure-groups", params={"project": "shop"})))["items"][0][
        "id"
    ]
    assert_problem(await api.put(f"/insights/failure-groups/{group}/issue", json=body), 422)


async def test_unknown_groups_and_projects_are_404(api: httpx.AsyncClient, history: History) -> None:
    assert_problem(await api.get(f"/insights/failure-groups/{uuid.uuid4()}"), 404)
    assert_problem(
        await api.put(f"/insights/failure-groups/{uuid.uuid4()}/issue", json={"url": "https://x/1"}), 404
    )
    assert_problem(await api.delete(f"/insights/failure-groups/{uuid.uuid4()}/issue"), 404)
    assert_problem(await api.get("/insights/failure-groups", params={"project": "nope"}), 404)
    assert_problem(await api.get("/insights/failure-groups/not-a-uuid"), 422)
