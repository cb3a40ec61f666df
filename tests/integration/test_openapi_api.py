"""Environment OpenAPI endpoints against the real database: import by URL (the demo SUT's own
description, fetched under the environment's egress policy), by document, by text and as a raw YAML
upload; browsing operations; roles; refusals."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.migrate import alembic_config
from orchestra.models import ApiSpec, Environment
from orchestra.openapi.repository import load_catalogue
from orchestra.runtime import Runtime
from tests.conftest import admin_execute, with_database
from tests.integration.conftest import assert_problem

PROJECT = "shop"
MINIMAL_YAML = """\
openapi: 3.0.3
info: {title: Tiny, version: "1"}
paths:
  /things:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}}
      responses:
        201: {description: created}
"""


def openapi_url(environment: str = "sut", project: str = PROJECT) -> str:
    return f"/projects/{project}/environments/{environment}/openapi"


async def make_environment(
    api: httpx.AsyncClient, base_url: str, name: str = "sut", **fields: Any
) -> dict[str, Any]:
    if (await api.get(f"/projects/{PROJECT}")).status_code == 404:
        assert (await api.post("/projects", json={"name": PROJECT})).status_code == 201
    body = {"name": name, "base_url": base_url, **fields}
    response = await api.post(f"/projects/{PROJECT}/environments", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
async def environment(api: httpx.AsyncClient, demo_url: str) -> dict[str, Any]:
    return await make_environment(api, demo_url, allow_private_network=True)


async def test_import_by_url_catalogues_the_demo_suts_operations(
    api: httpx.AsyncClient, environment: dict[str, Any], demo_url: str, runtime: Runtime
) -> None:
    response = await api.put(openapi_url(), json={"url": f"{demo_url}/openapi.json"})
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["title"] == "Orchestra demo shop"
    assert summary["source"] == f"{demo_url}/openapi.json"
    assert len(summary["spec_hash"]) == 64
    assert summary["operation_count"] >= 20
    assert (await api.get(openapi_url())).json() == summary

    listed = {op["operation_id"]: op for op in (await api.get(f"{openapi_url()}/operations")).json()}
    assert listed["createOrder"] == {
        "operation_id": "createOrder",
        "method": "POST",
        "path": "/orders",
        "summary": "Create Order",
        "has_body": True,
        "security": ["bearerAuth"],
    }
    assert listed["health"]["security"] == []

    order = (await api.get(f"{openapi_url()}/operations/createOrder")).json()
    body = order["request_schema"]
    assert body["required"] == ["customerId", "itemId", "quantity"]
    assert body["properties"]["quantity"]["maximum"] == 100
    customer = (await api.get(f"{openapi_url()}/operations/createCustomer")).json()
    assert customer["request_schema"]["properties"]["email"]["format"] == "email"
    assert customer["responses"]["201"]["properties"]["id"] == {"type": "string", "title": "Id"}

    document = (await api.get(f"{openapi_url()}/document")).json()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"

    async with runtime.db.transaction(runtime.tenant_id) as session:
        catalogue = await load_catalogue(session, uuid.UUID(environment["id"]))
    assert catalogue is not None
    assert catalogue.spec_hash == summary["spec_hash"]
    assert catalogue.security_schemes["bearerAuth"].scheme == "bearer"


async def test_import_by_document_text_and_yaml_upload_replace_each_other(
    api: httpx.AsyncClient, environment: dict[str, Any], runtime: Runtime
) -> None:
    by_text = (await api.put(openapi_url(), json={"text": MINIMAL_YAML})).json()
    assert by_text["title"] == "Tiny"
    assert by_text["source"] == "upload"
    assert by_text["operation_count"] == 1

    document = {"openapi": "3.1.0", "info": {"title": "Other", "version": "2"}, "paths": {}}
    by_document = (await api.put(openapi_url(), json={"document": document})).json()
    assert (by_document["title"], by_document["operation_count"]) == ("Other", 0)
    assert by_document["imported_at"] >= by_text["imported_at"]

    upload = await api.put(
        openapi_url(), content=MINIMAL_YAML.encode(), headers={"Content-Type": "application/yaml"}
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["spec_hash"] == by_text["spec_hash"]  # same document, same hash
    operations = (await api.get(f"{openapi_url()}/operations")).json()
    assert [op["operation_id"] for op in operations] == ["post_things"]

    async with runtime.db.transaction(runtime.tenant_id) as session:
        rows = (await session.execute(select(ApiSpec))).scalars().all()
    assert len(rows) == 1  # one current description per environment


async def test_deleting_the_environment_deletes_its_description(
    api: httpx.AsyncClient, environment: dict[str, Any], runtime: Runtime
) -> None:
    assert (await api.put(openapi_url(), json={"text": MINIMAL_YAML})).status_code == 200
    assert (await api.delete(f"/projects/{PROJECT}/environments/sut")).status_code == 204
    async with runtime.db.transaction(runtime.tenant_id) as session:
        assert (await session.execute(select(ApiSpec))).first() is None


async def test_missing_description_environment_and_operation_are_404(
    api: httpx.AsyncClient, environment: dict[str, Any]
) -> None:
    for suffix in ("", "/document", "/operations", "/operations/createOrder"):
        assert_problem(await api.get(openapi_url() + suffix), 404, "no OpenAPI description was imported")
    assert_problem(await api.get(openapi_url("nope")), 404, "environment 'nope' does not exist")
    assert_problem(await api.put(openapi_url("nope"), json={"text": MINIMAL_YAML}), 404)
    assert (await api.put(openapi_url(), json={"text": MINIMAL_YAML})).status_code == 200
    assert_problem(await api.get(f"{openapi_url()}/operations/nothing"), 404, "no operation 'nothing'")


async def test_a_viewer_may_read_but_not_import(api: httpx.AsyncClient, environment: dict[str, Any]) -> None:
    assert (await api.put(openapi_url(), json={"text": MINIMAL_YAML})).status_code == 200
    created = await api.post("/tokens", json={"name": "viewer", "role": "viewer"})
    viewer = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await api.get(openapi_url(), headers=viewer)).status_code == 200
    assert (await api.get(f"{openapi_url()}/operations/post_things", headers=viewer)).status_code == 200
    refused = await api.put(openapi_url(), json={"text": MINIMAL_YAML}, headers=viewer)
    assert_problem(refused, 403, "needs the editor role")


async def test_a_url_outside_the_egress_policy_is_refused_with_the_reason(
    api: httpx.AsyncClient, demo_url: str
) -> None:
    await make_environment(api, "https://sut.example.com", name="strict")
    other_host = await api.put(
        openapi_url("strict"), json={"url": "https://elsewhere.example.org/openapi.json"}
    )
    assert_problem(other_host, 422, "host 'elsewhere.example.org' is not allowed")
    await make_environment(api, demo_url, name="private-off", allow_private_network=False)
    private = await api.put(openapi_url("private-off"), json={"url": f"{demo_url}/openapi.json"})
    assert_problem(private, 422, "does not allow private networks")
    metadata = await api.put(openapi_url("private-off"), json={"url": "http://169.254.169.254/latest"})
    assert_problem(metadata, 422, "refused by the environment's egress policy")


async def test_fetch_failures_are_clear(
    api: httpx.AsyncClient, environment: dict[str, Any], demo_url: str
) -> None:
    assert_problem(await api.put(openapi_url(), json={"url": f"{demo_url}/nothing"}), 422, "answered 404")
    assert_problem(await api.put(openapi_url(), json={"url": f"{demo_url}/html"}), 422, "must be an object")
    assert_problem(await api.put(openapi_url(), json={"url": "ftp://x/y"}), 422, "http:// or https://")


class HeldDescription:
    """An HTTP server on 127.0.0.1 that answers with MINIMAL_YAML only once ``release`` is set."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.asked.set()
        await self.release.wait()
        body = MINIMAL_YAML.encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/yaml\r\nContent-Length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()


async def test_a_slow_fetch_holds_nothing_and_an_environment_deleted_meanwhile_is_not_found(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    held = HeldDescription()
    server = await asyncio.start_server(held.answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    await make_environment(api, url, allow_private_network=True)
    async with server:
        importing = asyncio.create_task(api.put(openapi_url(), json={"url": f"{url}/openapi.yaml"}))
        async with asyncio.timeout(10):
            await held.asked.wait()
            # while the description is on its way the environment can be deleted: nothing holds it
            assert (await api.delete(f"/projects/{PROJECT}/environments/sut")).status_code == 204
        held.release.set()
        response = await importing
    assert_problem(response, 404, "environment 'sut' was deleted during the import")
    async with runtime.db.transaction(runtime.tenant_id) as session:
        assert (await session.execute(select(ApiSpec))).scalars().all() == []


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({}, 422, "exactly one of 'url', 'document' or 'text'"),
        ({"text": MINIMAL_YAML, "url": "http://x"}, 422, "(got url, text)"),
        ({"document": {"swagger": "1.2", "paths": {}}}, 422, "Swagger 2.0 is converted, OpenAPI 3.x read"),
        ({"document": {"openapi": "3.0.0"}}, 422, "'paths' object is missing"),
        ({"text": "[1, 2]"}, 422, "must be an object, not a list"),
        ({"text": "a: [1"}, 422, "not valid JSON or YAML"),
        ({"text": "openapi: 3.0.0\npaths: {}\nx: &a [1]\ny: *a\n"}, 422, "YAML aliases are not allowed"),
        (
            {
                "document": {
                    "openapi": "3.0.0",
                    "paths": {"/a": {"get": {"responses": {"200": {"$ref": "x.yaml"}}}}},
                }
            },
            422,
            "external $ref",
        ),
        (
            {
                "document": {
                    "openapi": "3.0.0",
                    "paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/nope"}}}}},
                }
            },
            422,
            "points to nothing",
        ),
        ({"document": {"openapi": "3.0.0", "paths": {}, "x": "a\u0000b"}}, 422, "NUL"),
        ({"unknown": 1}, 422, "unknown"),
    ],
)
async def test_bad_descriptions_get_a_clear_4xx(
    api: httpx.AsyncClient, environment: dict[str, Any], body: dict[str, Any], status: int, needle: str
) -> None:
    assert_problem(await api.put(openapi_url(), json=body), status, needle)


async def test_hostile_raw_bodies_get_a_clear_4xx(
    api: httpx.AsyncClient, environment: dict[str, Any]
) -> None:
    yaml = {"Content-Type": "application/yaml"}
    assert_problem(await api.put(openapi_url(), content=b"\xff\xfe", headers=yaml), 422, "not UTF-8")
    assert_problem(await api.put(openapi_url(), content=b"", headers=yaml), 422, "empty")
    deep = b"openapi: 3.0.0\npaths: {}\nx: " + b"[" * 3000
    assert_problem(await api.put(openapi_url(), content=deep, headers=yaml), 422, "deeper than 100 levels")
    text = await api.put(openapi_url(), content=b"openapi: 3.0.0", headers={"Content-Type": "text/plain"})
    assert_problem(text, 415, "application/yaml")
    huge = b"openapi: 3.0.0\npaths: {}\nx: " + b"a" * 3_000_000
    assert (await api.put(openapi_url(), content=huge, headers=yaml)).status_code == 413
    broken = await api.put(openapi_url(), content=b"{not json", headers={"Content-Type": "application/json"})
    assert_problem(broken, 422)


async def test_rows_are_tenant_isolated(
    api: httpx.AsyncClient, environment: dict[str, Any], runtime: Runtime
) -> None:
    assert (await api.put(openapi_url(), json={"text": MINIMAL_YAML})).status_code == 200
    async with runtime.db.transaction(uuid.uuid4()) as session:  # a tenant that owns nothing
        assert await load_catalogue(session, uuid.UUID(environment["id"])) is None
        assert (await session.execute(select(Environment))).first() is None


def _migrate(connection: Connection, direction: str, revision: str) -> list[str]:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)
    return list(inspect(connection).get_table_names())


async def test_the_migration_creates_and_drops_the_table(pg_server_url: str) -> None:
    name = f"orchestra_openapi_{uuid.uuid4().hex[:10]}"
    await admin_execute(pg_server_url, f'CREATE DATABASE "{name}"')
    engine = create_async_engine(with_database(pg_server_url, name))
    try:
        async with engine.begin() as conn:
            assert "api_specs" in await conn.run_sync(_migrate, "upgrade", "0007")
            assert "api_specs" not in await conn.run_sync(_migrate, "downgrade", "0006")
            assert "api_specs" in await conn.run_sync(_migrate, "upgrade", "0007")
    finally:
        await engine.dispose()
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
