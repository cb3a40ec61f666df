"""The demo SUT (orchestra.demo): in-process through httpx.ASGITransport, and once as a real process."""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from orchestra.demo import DEMO_PASSWORD, DEMO_USERNAME, create_app, sut_customers_store
from orchestra.demo.sut_store import REQUEST_LOG_LIMIT, ShopState

STARTUP_WAIT_S = 15


@pytest.fixture
def sut_app() -> FastAPI:
    return create_app()


@pytest.fixture
async def sut(sut_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sut_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sut") as http:
        yield http


@pytest.fixture
async def auth(sut: httpx.AsyncClient) -> dict[str, str]:
    response = await sut.post("/auth/token", json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def unique_name(prefix: str = "widget") -> str:
    return f"{prefix}-{uuid.uuid4()}"


async def create_item(sut: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": unique_name(), "price": 9.5, **fields}
    response = await sut.post("/items", json=body, headers=auth)
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


# --- auth -------------------------------------------------------------------------------------------


async def test_health_needs_no_token(sut: httpx.AsyncClient) -> None:
    response = await sut.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_token_for_demo_credentials(sut: httpx.AsyncClient) -> None:
    response = await sut.post("/auth/token", json={"username": "demo", "password": "demo-password"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32


async def test_wrong_credentials_get_problem_json(sut: httpx.AsyncClient) -> None:
    response = await sut.post("/auth/token", json={"username": "demo", "password": "nope"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Unauthorized"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-real-token"}, {"Authorization": "Basic ZGVtbzpkZW1v"}],
    ids=["missing", "invalid", "wrong-scheme"],
)
async def test_items_and_jobs_need_a_valid_bearer_token(
    sut: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for method, path in [("GET", "/items"), ("POST", "/items"), ("GET", "/jobs/x"), ("POST", "/jobs")]:
        response = await sut.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


# --- items ------------------------------------------------------------------------------------------


async def test_item_crud_round_trip(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    name = unique_name()
    created = await sut.post(
        "/items", json={"name": name, "price": 12.5, "tags": ["blue"], "stock": 3}, headers=auth
    )
    assert created.status_code == 201
    item = created.json()
    assert created.headers["location"] == f"/items/{item['id']}"
    assert uuid.UUID(item["id"])
    assert item | {"id": "", "created_at": ""} == {
        "id": "",
        "name": name,
        "price": 12.5,
        "tags": ["blue"],
        "stock": 3,
        "created_at": "",
    }
    assert item["created_at"].endswith("Z")

    fetched = await sut.get(created.headers["location"], headers=auth)
    assert fetched.json() == item

    patched = await sut.patch(f"/items/{item['id']}", json={"price": 15}, headers=auth)
    assert patched.status_code == 200
    assert patched.json() == item | {"price": 15}

    replaced = await sut.put(f"/items/{item['id']}", json={"name": name, "price": 1.25}, headers=auth)
    assert replaced.json() == item | {"price": 1.25, "tags": [], "stock": 0}

    assert (await sut.delete(f"/items/{item['id']}", headers=auth)).status_code == 204
    missing = await sut.get(f"/items/{item['id']}", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "item not found"}
    assert (await sut.delete(f"/items/{item['id']}", headers=auth)).status_code == 404
    assert (await sut.patch(f"/items/{item['id']}", json={}, headers=auth)).status_code == 404


async def test_duplicate_names_conflict(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    first = await create_item(sut, auth)
    second = await create_item(sut, auth)
    duplicate = await sut.post("/items", json={"name": first["name"], "price": 1}, headers=auth)
    assert duplicate.status_code == 409
    rename = await sut.patch(f"/items/{second['id']}", json={"name": first["name"]}, headers=auth)
    assert rename.status_code == 409
    same_name = await sut.patch(f"/items/{first['id']}", json={"name": first["name"]}, headers=auth)
    assert same_name.status_code == 200


async def test_validation_errors_list_every_field(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await sut.post(
        "/items", json={"name": "", "price": 0, "stock": -1, "colour": "red"}, headers=auth
    )
    assert response.status_code == 422
    body = response.json()
    assert body["title"] == "Validation failed"
    fields = {tuple(error["loc"]) for error in body["detail"]}
    assert fields == {("body", "name"), ("body", "price"), ("body", "stock"), ("body", "colour")}


@pytest.mark.parametrize(
    "body",
    [{"price": 1}, {"name": "x", "price": "1"}, {"name": "x", "price": 1, "stock": 1.5}, {"name": "x" * 101}],
)
async def test_invalid_item_bodies_are_rejected(
    sut: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any]
) -> None:
    assert (await sut.post("/items", json=body, headers=auth)).status_code == 422


async def test_patch_rejects_null_fields(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    item = await create_item(sut, auth)
    response = await sut.patch(f"/items/{item['id']}", json={"name": None}, headers=auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


async def test_pagination_links_and_total(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    tag = unique_name("tag")
    names = [(await create_item(sut, auth, tags=[tag]))["name"] for _ in range(5)]
    await create_item(sut, auth, tags=["other"])

    first = await sut.get("/items", params={"per_page": 2, "tag": tag}, headers=auth)
    assert first.status_code == 200
    assert first.headers["x-total-count"] == "5"
    body = first.json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 2, 5)
    assert [item["name"] for item in body["items"]] == names[:2]
    assert body["next"] == f"/items?page=2&per_page=2&tag={tag}"

    second = (await sut.get(body["next"], headers=auth)).json()
    assert [item["name"] for item in second["items"]] == names[2:4]
    last = (await sut.get(second["next"], headers=auth)).json()
    assert [item["name"] for item in last["items"]] == names[4:]
    assert last["next"] is None

    everything = await sut.get("/items", headers=auth)
    assert everything.json()["total"] == 6
    assert everything.json()["next"] is None


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "page=0", "page=x"])
async def test_bad_pagination_is_422(sut: httpx.AsyncClient, auth: dict[str, str], query: str) -> None:
    response = await sut.get(f"/items?{query}", headers=auth)
    assert response.status_code == 422
    assert response.json()["title"] == "Validation failed"


# --- jobs -------------------------------------------------------------------------------------------


async def test_job_goes_pending_running_done(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    accepted = await sut.post("/jobs", json={"kind": "report", "duration_ms": 150}, headers=auth)
    assert accepted.status_code == 202
    assert accepted.json()["status"] == "pending"
    location = accepted.headers["location"]
    assert location == f"/jobs/{accepted.json()['id']}"

    seen: list[str] = []
    for _ in range(100):
        job = (await sut.get(location, headers=auth)).json()
        if not seen or seen[-1] != job["status"]:
            seen.append(job["status"])
        if job["status"] == "done":
            break
        await asyncio.sleep(0.01)
    assert seen[-1] == "done"
    assert seen == [status for status in ["pending", "running", "done"] if status in seen]
    assert job["result"] == {"rows": 42}


async def test_job_defaults_and_limits(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    instant = await sut.post("/jobs", json={"duration_ms": 0}, headers=auth)
    job = (await sut.get(instant.headers["location"], headers=auth)).json()
    assert (job["kind"], job["status"], job["result"]) == ("report", "done", {"rows": 42})
    assert (await sut.post("/jobs", json={"duration_ms": 10_001}, headers=auth)).status_code == 422
    assert (await sut.get("/jobs/unknown", headers=auth)).status_code == 404
    assert (await sut.delete(instant.headers["location"], headers=auth)).status_code == 204
    assert (await sut.get(instant.headers["location"], headers=auth)).status_code == 404
    assert (await sut.delete(instant.headers["location"], headers=auth)).status_code == 404
    assert (await sut.delete(instant.headers["location"])).status_code == 401


# --- flaky, idempotency -----------------------------------------------------------------------------


async def test_flaky_fails_exactly_n_times_per_key(sut: httpx.AsyncClient) -> None:
    params: dict[str, str | int] = {"key": unique_name("key"), "fail_times": 2}
    statuses = []
    for _ in range(2):
        response = await sut.get("/flaky", params=params)
        statuses.append(response.status_code)
        assert response.headers["retry-after"] == "0"
        assert response.json() == {"detail": "temporarily unavailable"}
    ok = await sut.get("/flaky", params=params)
    assert statuses == [503, 503]
    assert ok.json() == {"key": params["key"], "calls": 3}
    assert (await sut.get("/flaky", params=params)).json()["calls"] == 4
    other = await sut.get("/flaky", params={"key": unique_name("key"), "fail_times": 0})
    assert other.json()["calls"] == 1


async def test_idempotency_key_replays_first_response(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"name": unique_name(), "price": 2}
    first = await sut.post("/items", json=body, headers=auth | key)
    replay = await sut.post("/items", json=body, headers=auth | key)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert first.headers["idempotent-replayed"] == "false"
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.headers["location"] == first.headers["location"]
    assert (await sut.get("/items", headers=auth)).json()["total"] == 1

    job = await sut.post("/jobs", json={"duration_ms": 5}, headers=auth | key)
    job_replay = await sut.post("/jobs", json={"duration_ms": 5}, headers=auth | key)
    assert job.status_code == job_replay.status_code == 202
    assert job_replay.headers["idempotent-replayed"] == "true"
    assert job_replay.json()["id"] == job.json()["id"] != first.json()["id"]

    without_key = await sut.post("/items", json=body, headers=auth)
    assert without_key.status_code == 409
    assert "idempotent-replayed" not in without_key.headers


# --- request-feature endpoints ----------------------------------------------------------------------


async def test_echo_json(sut: httpx.AsyncClient) -> None:
    response = await sut.post(
        "/echo?q=1&q=2&single=x", json={"a": [1, 2]}, headers={"X-Custom-Header": "Value"}
    )
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/echo"
    assert echoed["headers"]["x-custom-header"] == "Value"
    assert echoed["query"] == {"q": ["1", "2"], "single": "x"}
    assert echoed["json"] == {"a": [1, 2]}
    assert json.loads(echoed["body"]) == {"a": [1, 2]}
    assert echoed["form"] is None


async def test_echo_raw_and_form(sut: httpx.AsyncClient) -> None:
    raw = await sut.put("/echo", content=b"plain text", headers={"Content-Type": "text/plain"})
    assert raw.json() | {"headers": {}} == {
        "method": "PUT",
        "path": "/echo",
        "headers": {},
        "query": {},
        "content_type": "text/plain",
        "json": None,
        "form": None,
        "body": "plain text",
    }
    form = await sut.post("/echo", data={"city": "Zürich", "empty": ""})
    assert form.json()["form"] == {"city": "Zürich", "empty": ""}
    options = await sut.options("/echo")
    assert "DELETE" in options.headers["allow"]


async def test_big_body_has_the_requested_size(sut: httpx.AsyncClient) -> None:
    response = await sut.get("/big", params={"kb": 64})
    assert response.headers["content-type"] == "application/json"
    assert abs(len(response.content) - 64 * 1024) < 64
    assert len(response.json()["chunks"]) == 64
    assert (await sut.get("/big", params={"kb": 0})).status_code == 422
    assert (await sut.get("/big", params={"kb": 20_001})).status_code == 422


async def test_slow_html_chain_and_redirect(sut: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    assert (await sut.get("/slow", params={"ms": 50})).json() == {"slept_ms": 50}
    assert time.perf_counter() - started >= 0.05
    assert (await sut.get("/slow", params={"ms": 30_001})).status_code == 422
    page = await sut.get("/html")
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>Orchestra demo shop</title>" in page.text
    assert (await sut.post("/chain", json={"value": 41})).json() == {"value": 41, "next": 42}
    moved = await sut.get("/redirect", params={"to": "/health", "status": 307})
    assert (moved.status_code, moved.headers["location"]) == (307, "/health")
    assert (await sut.get("/redirect", params={"to": "//evil.example"})).status_code == 422


# --- request log, isolation -------------------------------------------------------------------------


async def test_request_log_records_and_clears(
    sut: httpx.AsyncClient, auth: dict[str, str], sut_app: FastAPI
) -> None:
    assert (await sut.delete("/_log")).status_code == 204
    await sut.post(
        "/items", json={"name": unique_name(), "price": 1}, headers=auth | {"Idempotency-Key": "k"}
    )
    await sut.get("/flaky", params={"key": "log", "fail_times": 1})
    entries = (await sut.get("/_log")).json()["entries"]
    assert [(e["method"], e["path"], e["idempotency_key"], e["status"]) for e in entries] == [
        ("DELETE", "/_log", None, 204),
        ("POST", "/items", "k", 201),
        ("GET", "/flaky", None, 503),
    ]
    assert entries[2]["query"] == "key=log&fail_times=1"
    assert all(entry["timestamp"].endswith("Z") for entry in entries)
    state = sut_app.state.shop
    assert isinstance(state, ShopState)
    assert state.request_log.maxlen == REQUEST_LOG_LIMIT == 100_000


async def test_each_app_has_its_own_state(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    await create_item(sut, auth)
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://other") as other:
        assert (await other.get("/items", headers=auth)).status_code == 401


# --- customers and orders -------------------------------------------------------------------------


async def create_customer(sut: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "Ada Lovelace", "email": "ada@example.com", **fields}
    response = await sut.post("/customers", json=body, headers=auth)
    assert response.status_code == 201, response.text
    customer: dict[str, Any] = response.json()
    return customer


async def test_customer_round_trip(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = {"name": "Ada", "email": "ada@example.com", "tier": "gold", "birthDate": "1815-12-10"}
    created = await sut.post("/customers", json=body, headers=auth)
    assert created.status_code == 201, created.text
    customer = created.json()
    assert created.headers["location"] == f"/customers/{customer['id']}"
    assert customer | {"id": "", "createdAt": ""} == body | {"id": "", "createdAt": ""}
    assert (await sut.get(created.headers["location"], headers=auth)).json() == customer
    defaults = await create_customer(sut, auth)
    assert (defaults["tier"], defaults["birthDate"]) == ("basic", None)

    assert (await sut.delete(f"/customers/{customer['id']}", headers=auth)).status_code == 204
    missing = await sut.get(f"/customers/{customer['id']}", headers=auth)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert (await sut.delete(f"/customers/{customer['id']}", headers=auth)).status_code == 404


async def test_customers_are_paged_like_items(sut: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for index in range(3):
        await create_customer(sut, auth, name=f"c{index}")
    first = await sut.get("/customers", params={"per_page": 2}, headers=auth)
    assert first.headers["x-total-count"] == "3"
    assert [c["name"] for c in first.json()["items"]] == ["c0", "c1"]
    assert first.json()["next"] == "/customers?page=2&per_page=2"
    last = (await sut.get(first.json()["next"], headers=auth)).json()
    assert ([c["name"] for c in last["items"]], last["next"]) == (["c2"], None)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"tier": "diamond"}, "tier"),
        ({"birthDate": "10/12/1815"}, "birthDate"),
        ({"birthDate": 1815}, "birthDate"),
        ({"vip": True}, "vip"),
    ],
)
async def test_invalid_customer_bodies_are_rejected(
    sut: httpx.AsyncClient, auth: dict[str, str], fields: dict[str, Any], field: str
) -> None:
    body = {"name": "Ada", "email": "ada@example.com", **fields}
    response = await sut.post("/customers", json=body, headers=auth)
    assert response.status_code == 422, response.text
    assert [error["loc"][-1] for error in response.json()["detail"]] == [field]


async def test_order_needs_an_existing_customer_and_item(
    sut: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    customer, item = await create_customer(sut, auth), await create_item(sut, auth)
    body = {"customerId": customer["id"], "itemId": item["id"], "quantity": 2, "note": "gift"}
    created = await sut.post("/orders", json=body, headers=auth)
    assert created.status_code == 201, created.text
    order = created.json()
    assert created.headers["location"] == f"/orders/{order['id']}"
    assert order | {"id": "", "createdAt": ""} == body | {"id": "", "createdAt": ""}
    assert (await sut.get(created.headers["location"], headers=auth)).json() == order

    dangling = await sut.post("/orders", json=body | {"customerId": "ghost", "itemId": "nope"}, headers=auth)
    assert dangling.status_code == 422
    assert dangling.headers["content-type"] == "application/problem+json"
    assert dangling.json()["detail"] == (
        "customerId: customer 'ghost' does not exist; itemId: item 'nope' does not exist"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"quantity": 0},
        {"quantity": 101},
        {"quantity": "2"},
        {"note": "x" * 201},
        {"customerId": ""},
        {"extra": 1},
    ],
)
async def test_invalid_order_bodies_are_rejected(
    sut: httpx.AsyncClient, auth: dict[str, str], fields: dict[str, Any]
) -> None:
    body = {"customerId": "c", "itemId": "i", "quantity": 1, **fields}
    assert (await sut.post("/orders", json=body, headers=auth)).status_code == 422


async def test_customers_and_items_with_orders_cannot_be_deleted(
    sut: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    customer, item = await create_customer(sut, auth), await create_item(sut, auth)
    body = {"customerId": customer["id"], "itemId": item["id"], "quantity": 1}
    order = (await sut.post("/orders", json=body, headers=auth)).json()
    for path, needle in [(f"/customers/{customer['id']}", "customer"), (f"/items/{item['id']}", "item")]:
        refused = await sut.delete(path, headers=auth)
        assert refused.status_code == 409
        assert refused.json()["detail"].startswith(f"the {needle} ")
        assert "1 order(s)" in refused.json()["detail"]
    assert (await sut.delete(f"/orders/{order['id']}", headers=auth)).status_code == 204
    assert (await sut.get(f"/orders/{order['id']}", headers=auth)).status_code == 404
    assert (await sut.delete(f"/orders/{order['id']}", headers=auth)).status_code == 404
    assert (await sut.delete(f"/customers/{customer['id']}", headers=auth)).status_code == 204
    assert (await sut.delete(f"/items/{item['id']}", headers=auth)).status_code == 204


async def test_customers_and_orders_need_a_bearer_token(sut: httpx.AsyncClient) -> None:
    for method, path in [
        ("POST", "/customers"),
        ("GET", "/customers"),
        ("GET", "/orders/x"),
        ("POST", "/orders"),
    ]:
        response = await sut.request(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert response.json()["detail"] == "missing bearer token"


async def test_customer_creation_replays_by_idempotency_key(
    sut: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    key = {"Idempotency-Key": "cust-1"}
    body = {"name": "Ada", "email": "ada@example.com"}
    first = await sut.post("/customers", json=body, headers=auth | key)
    again = await sut.post("/customers", json=body, headers=auth | key)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert (await sut.get("/customers", headers=auth)).json()["total"] == 1


async def test_the_store_refuses_customers_beyond_its_limit(
    sut_app: FastAPI, sut: httpx.AsyncClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sut_customers_store, "RECORDS_LIMIT", 2)
    await create_customer(sut, auth)
    await create_customer(sut, auth)
    full = await sut.post("/customers", json={"name": "x", "email": "x@example.com"}, headers=auth)
    assert full.status_code == 507
    assert len(sut_app.state.shop.customers.customers) == 2


async def test_openapi_declares_ids_bearer_security_and_every_constraint(sut: httpx.AsyncClient) -> None:
    document = (await sut.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A token from POST /auth/token."}
    }
    ids = {
        operation["operationId"]: (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert len(ids) == sum(len(item) for item in document["paths"].values())  # unique
    for expected in (
        "createCustomer", "getCustomer", "listCustomers", "deleteCustomer", "createOrder", "getOrder",
        "deleteOrder", "createItem", "listItems", "getItem", "replaceItem", "updateItem", "deleteItem",
        "createJob", "getJob", "deleteJob", "issueToken", "echoPost",
    ):  # fmt: skip
        assert expected in ids
    create_order = document["paths"]["/orders"]["post"]
    assert create_order["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"]["/auth/token"]["post"]
    schemas = document["components"]["schemas"]
    customer = schemas["CustomerCreate"]["properties"]
    assert customer["email"]["format"] == "email"
    assert customer["tier"]["enum"] == ["basic", "gold", "platinum"]
    assert schemas["CustomerCreate"]["additionalProperties"] is False
    order = schemas["OrderCreate"]["properties"]
    assert (order["quantity"]["minimum"], order["quantity"]["maximum"]) == (1, 100)


# --- as a real process ------------------------------------------------------------------------------


def test_module_serves_on_a_free_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    stderr_path = tmp_path / "stderr.txt"
    with (
        stderr_path.open("w") as stderr,
        subprocess.Popen(
            [sys.executable, "-m", "orchestra.demo", "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as process,
    ):
        try:
            lines: queue.Queue[str] = queue.Queue()
            assert process.stdout is not None
            stdout = process.stdout
            threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
            line = lines.get(timeout=STARTUP_WAIT_S)
            prefix = "demo SUT listening on http://127.0.0.1:"
            assert line.startswith(prefix), (line, stderr_path.read_text())
            url = line.strip().removeprefix("demo SUT listening on ")
            assert int(url.rsplit(":", 1)[1]) > 0

            response = httpx.get(f"{url}/health", timeout=5)
            assert response.json() == {"status": "ok"}

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0, stderr_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
