"""The DataPlan benchmark (bench/dataplan.py) and its conformance SUT: they must keep working and keep
measuring what they say (a strict SUT, sane figures), so they are run here in a tiny configuration."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest

from tests.bench_scripts import BENCH, load_bench

AUTH = {"Authorization": "Bearer t0ken", "api_key": "k3y"}
PET = {"name": "rex", "photoUrls": ["http://example.com/rex.png"], "status": "sold"}


conformance = load_bench("conformance_sut")
tally = load_bench("dataplan_tally")
leaks = load_bench("dataplan_leaks")


@pytest.fixture(scope="module")
def petstore() -> dict[str, Any]:
    document: dict[str, Any] = conformance.load_document(BENCH / "specs" / "petstore-v3.yaml")
    return document


@pytest.fixture
async def sut(petstore: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=conformance.create_app(petstore))
    async with httpx.AsyncClient(transport=transport, base_url="http://sut") as client:
        yield client


def _schema(petstore: dict[str, Any], name: str) -> dict[str, Any]:
    return {**petstore["components"]["schemas"][name], "components": petstore["components"]}


async def test_conformance_sut_answers_a_conforming_request_with_a_schema_valid_body(
    sut: httpx.AsyncClient, petstore: dict[str, Any]
) -> None:
    response = await sut.post("/pet", json=PET, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "rex"  # the request's fields are echoed, as a server returns what it stored
    jsonschema.validate(body, _schema(petstore, "Pet"))
    # the description's server path (/v3) is served too
    found = await sut.get("/v3/pet/findByStatus", params={"status": "pending"}, headers=AUTH)
    assert found.status_code == 200
    assert found.json() == []


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "needle"),
    [
        ("POST", "/pet", {"json": {"name": "rex"}}, 422, "'photoUrls' is a required property"),
        ("POST", "/pet", {"json": {**PET, "status": "lost"}}, 422, "is not one of"),
        (
            "POST",
            "/pet",
            {"content": b"{", "headers": {"content-type": "application/json"}},
            400,
            "not valid",
        ),
        ("POST", "/pet", {"content": b"x", "headers": {"content-type": "text/plain"}}, 415, "media type"),
        ("PUT", "/pet", {}, 400, "request body is required"),
        ("GET", "/pet/rex", {}, 400, "path parameter 'petId'"),
        ("GET", "/pet/99999999999999999999", {}, 400, "int64"),
        ("GET", "/pet/findByStatus", {"params": {"status": "lost"}}, 400, "query parameter 'status'"),
        ("POST", "/store/order", {"json": {"quantity": 2**31}}, 422, "int32"),
        ("POST", "/store/order", {"json": {"shipDate": "yesterday"}}, 422, "date-time"),
        ("GET", "/no/such/path", {}, 404, "no operation"),
        ("PATCH", "/pet", {}, 405, "no operation"),
    ],
)
async def test_conformance_sut_rejects_what_the_description_does_not_allow(
    sut: httpx.AsyncClient, method: str, url: str, kwargs: dict[str, Any], status: int, needle: str
) -> None:
    headers = {**AUTH, **kwargs.pop("headers", {})}
    response = await sut.request(method, url, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert any(needle in problem for problem in response.json()["problems"]), response.text


async def test_conformance_sut_enforces_the_security_requirements(sut: httpx.AsyncClient) -> None:
    assert (await sut.post("/pet", json=PET)).status_code == 401
    assert (await sut.post("/pet", json=PET, headers={"Authorization": "Bearer "})).status_code == 401
    # getPetById accepts api_key OR petstore_auth; getInventory only api_key
    assert (await sut.get("/pet/1", headers={"api_key": "k"})).status_code == 200
    assert (await sut.get("/store/inventory", headers={"Authorization": "Bearer t"})).status_code == 401
    # operations without security need nothing
    assert (await sut.get("/user/logout")).status_code == 200


async def test_conformance_sut_keeps_an_encoded_slash_inside_its_path_parameter(
    sut: httpx.AsyncClient,
) -> None:
    assert (await sut.get("/user/a%2Fb")).status_code == 200
    assert (await sut.get("/user/a/b")).status_code == 404


def test_valid_rate_counts_every_request_and_coverage_only_the_operations_own_calls() -> None:
    keys = ["GET /a/{id}", "POST /a"]
    get_one, create = tally.Tally(), tally.Tally()
    get_one.count(201, target=False)  # a prerequisite created for it
    get_one.count(404, target=True, why="404: not found")
    create.count(201, target=True)
    figures = tally.figures({"GET /a/{id}": get_one, "POST /a": create}, keys)
    assert figures.valid_rate == pytest.approx(2 / 3)
    assert figures.coverage == 0.5
    assert get_one.failures == ["404: not found"]
    document = {"paths": {"/a": {"post": {}, "parameters": []}, "/a/{id}": {"get": {}, "delete": {}}}}
    assert tally.operation_keys(document, skipped=["DELETE /a/{id}"]) == ["POST /a", "GET /a/{id}"]


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 400),  # deeper than the JSON parser goes
        (b'{"name": "rex", "photoUrls": ' + b"[" * 900 + b"]" * 900 + b"}", 422),  # deeper than a check
        (b'"' + b"x" * 1_100_000 + b'"', 413),
    ],
)
async def test_conformance_sut_answers_hostile_bodies_with_a_4xx(
    sut: httpx.AsyncClient, content: bytes, status: int
) -> None:
    headers = {**AUTH, "content-type": "application/json"}
    response = await sut.post("/pet", content=content, headers=headers)
    assert response.status_code == status, response.text[:300]


def _figures(line: str) -> dict[str, float]:
    pairs = dict(part.split("=", 1) for part in line.split())
    return {key: float(value) for key, value in pairs.items()}


def test_what_a_plan_left_is_counted_from_listings_new_changed_or_gone() -> None:
    def listed(articles: list[dict[str, Any]], user: dict[str, Any]) -> dict[str, str]:
        items: dict[str, str] = {}
        items.update(leaks._items("/articles", {"articles": articles, "articlesCount": len(articles)}))
        items.update(leaks._items("/user", {"user": user}))
        return items

    user = {"email": "a@example.com", "username": "a", "token": "t1"}
    before = listed([{"slug": "x", "title": "X"}], user)
    # A new token is no change; the same items in the same state are nothing left.
    assert leaks.left_behind(before, listed([{"slug": "x", "title": "X"}], {**user, "token": "t2"})) == 0
    assert (
        leaks.left_behind(before, listed([{"slug": "x", "title": "X"}, {"slug": "y", "title": "Y"}], user))
        == 1
    )
    assert leaks.left_behind(before, listed([{"slug": "x", "title": "changed"}], user)) == 1
    assert leaks.left_behind(before, listed([], {**user, "email": "b@example.com"})) == 2


async def test_listings_that_grow_when_the_sut_is_merely_used_are_not_read() -> None:
    """A SUT that logs every log-in (an activity listing) and stamps its user's ``last_access``: neither is
    something a plan left; a listing changing between two readings with nothing happening is not read."""
    from fastapi import FastAPI

    from orchestra.openapi.operations import Operation

    state: dict[str, Any] = {"activity": [], "last_access": 0, "reads": 0, "folders": [{"id": 1}]}
    app = FastAPI()

    @app.post("/login")
    def login() -> dict[str, Any]:
        state["activity"].append({"id": len(state["activity"]) + 1, "action": "login"})
        state["last_access"] += 1
        return {"token": "t"}

    @app.get("/activity")
    def activity() -> dict[str, Any]:
        return {"data": state["activity"]}

    @app.get("/users")
    def users() -> dict[str, Any]:
        return {"data": [{"id": "u1", "email": "a@example.com", "last_access": state["last_access"]}]}

    @app.get("/folders")
    def folders() -> dict[str, Any]:
        return {"data": state["folders"]}

    @app.get("/clock")
    def clock() -> dict[str, Any]:
        state["reads"] += 1
        return {"reads": state["reads"]}

    operations = [
        Operation(f"list{path}", "GET", path, responses={"200": {"type": "object"}})
        for path in ("/activity", "/users", "/folders", "/clock")
    ]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sut") as client:

        async def use() -> None:
            await client.post("http://sut/login")

        found = await leaks.stable_listings(client, "http://sut", operations, {}, use)
        assert [operation.path for operation in found.operations] == ["/users", "/folders"]
        assert found.volatile == {"/users": frozenset({"last_access"})}
        before = await leaks.snapshot(client, "http://sut", found.operations, {}, found.volatile)
        await use()
        state["folders"].append({"id": 2})  # what a plan left is still seen
        after = await leaks.snapshot(client, "http://sut", found.operations, {}, found.volatile)
    assert leaks.left_behind(before, after) == 1


def test_a_plan_that_left_something_is_sent_but_never_valid() -> None:
    plan = tally.Tally()
    plan.count(201, target=False)
    plan.count(200, target=True)
    totals = tally.Tally()
    totals.add_plan(plan, leaked=0)
    totals.add_plan(plan, leaked=2)
    assert (totals.sent, totals.ok, totals.target_sent, totals.target_ok) == (4, 2, 2, 1)
    assert (totals.leaked, totals.leaky_plans) == (2, 1)
    assert "left 2 item(s) in the SUT after its clean-up" in totals.failures


@pytest.mark.timeout(150)
async def test_quick_benchmark_run_reports_side_by_side_figures() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(BENCH / "dataplan.py"),
        "--quick",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(140):
        stdout, stderr = await process.communicate()
    output = stdout.decode()
    assert process.returncode == 0, stderr.decode()[-3000:]
    lines = output.strip().splitlines()
    figures = _figures(lines[-1])
    for sut in ("demo", "public", "login", "conduit"):
        for side in ("planner", "schemathesis"):
            for metric in ("valid_rate", "coverage"):
                assert 0.0 <= figures[f"{sut}_{side}_{metric}"] <= 1.0, lines[-1]
        assert figures[f"ratio_{sut}"] > 0, lines[-1]
        # Nothing a plan made or changed is left in the SUT, as its listings show after the clean-up.
        assert figures[f"{sut}_leaked"] == 0, output
    assert figures["public_operations"] == 19  # every operation of the Petstore description
    assert figures["demo_operations"] >= 10
    # The conformance SUT accepts what conforms: positive examples of both generators mostly pass there.
    assert figures["public_schemathesis_valid_rate"] >= 0.9, output
    assert figures["public_planner_coverage"] >= 0.9, output
    # The demo SUT's business rules make the difference the benchmark is about. (What nothing undoes —
    # its jobs, its request log, the echo tools — is refused, not left behind.)
    assert figures["demo_planner_coverage"] >= 0.7, output
    # Given only the user's email and password, every planned request of the login SUT is authorised.
    assert figures["login_operations"] == 10
    assert figures["login_planner_valid_rate"] == 1.0, output
    # The RealWorld shape: favourites, follows (of the signed-in user) and the shared user's update are
    # undone; a sign-up (which nothing undoes) and an unfollow of what no plan followed are refused.
    assert figures["conduit_operations"] == 17
    assert figures["conduit_planner_valid_rate"] == 1.0, output
    assert figures["conduit_refused"] == 2 * 2, output  # 2 operations, 1 seed x 2 examples
    assert "GET /pet/{petId}" in output
    assert "planner 2xx/sent" in output
