"""Authentication and API tokens through the API: the bearer challenge, token kinds and lifecycles, what
each token's role allows, the local admin token file, and the audit log of changes and token use."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.app import create_app
from orchestra.auth import api_tokens
from orchestra.auth.local_admin import (
    LocalAdmin,
    ensure_local_admin_token,
    local_admin_token,
    read_token,
    token_file,
)
from orchestra.config import Settings
from orchestra.environments.schemas import EnvironmentCreate
from orchestra.models import ApiToken
from orchestra.runtime import Runtime
from orchestra.tenants.repository import ensure_tenant
from tests.integration.conftest import assert_problem
from tests.integration.oidc_issuer import CLIENT, LocalIssuer, oidc_issuer_fixture  # noqa: F401
from tests.ports import refused_url

BASE_URL = "http://orchestra.test/api/v1"
CLOSED_PORT = refused_url()
STEP = {"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}
BARE_CHALLENGE = 'Bearer realm="orchestra"'

Client = Callable[[str | None], Awaitable[httpx.AsyncClient]]


# -- helpers --------------------------------------------------------------------------------------------


def env_body(name: str, base_url: str = CLOSED_PORT, **fields: Any) -> dict[str, Any]:
    """An environment body; ``allow_private_network`` once the SSRF guard's field exists."""
    body: dict[str, Any] = {"name": name, "base_url": base_url, **fields}
    if "allow_private_network" in EnvironmentCreate.model_fields:
        body["allow_private_network"] = True
    return body


async def owner_fetch(owner_url: str, sql: str, params: dict[str, Any] | None = None) -> list[Row[Any]]:
    """Rows of ``sql`` run as the database owner (a superuser: row-level security does not apply)."""
    engine = create_async_engine(owner_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params or {})
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge(response: httpx.Response) -> str:
    return str(response.headers.get("www-authenticate", ""))


def assert_invalid_token(response: httpx.Response, needle: str = "") -> None:
    assert_problem(response, 401, needle)
    header = challenge(response)
    assert header.startswith(BARE_CHALLENGE + ", "), header
    assert 'error="invalid_token"' in header, header


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """No scheduler or executor: runs stay PENDING, so cancelling one is deterministic."""
    rt = await Runtime.start(settings, run_scheduler=False, run_executor=False)
    try:
        yield rt
    finally:
        await rt.stop()


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[Client]:
    """Makes clients of one app over the runtime, each with its own bearer token (None: no header)."""
    app = create_app(settings, runtime)
    async with AsyncExitStack() as stack:

        async def make(token: str | None) -> httpx.AsyncClient:
            headers = bearer(token) if token is not None else {}
            transport = httpx.ASGITransport(app=app)
            return await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers)
            )

        yield make


async def create_token(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await api.post("/tokens", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def make_project(api: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await api.post("/projects", json={"name": name})
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()
    return project


async def other_tenant_token(runtime: Runtime, tenant: str = "other") -> tuple[uuid.UUID, str]:
    """A second tenant and an admin API token of it, made the way the platform stores them."""
    async with runtime.db.transaction(None) as session:
        tenant_id = await ensure_tenant(session, tenant)
    token = api_tokens.generate(tenant_id)
    async with runtime.db.transaction(tenant_id) as session:
        session.add(
            ApiToken(
                tenant_id=tenant_id,
                name=f"{tenant} admin",
                token_hash=api_tokens.hash_token(token),
                prefix=api_tokens.display_prefix(token),
                role="admin",
                kind="api",
                created_by="test",
            )
        )
    return tenant_id, token


# -- the challenge --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/projects"), ("POST", "/projects"), ("GET", "/audit"), ("GET", "/tokens"), ("PUT", "/limits")],
)
async def test_no_authorization_is_401_with_a_bare_challenge(client: Client, method: str, path: str) -> None:
    anonymous = await client(None)
    response = await anonymous.request(method, path, json={"name": "x"} if method != "GET" else None)
    assert_problem(response, 401, "Authorization")
    assert challenge(response) == BARE_CHALLENGE  # no error parameter: nothing was presented (RFC 6750 3.1)
    # an empty header counts as none
    response = await anonymous.get(path, headers={"Authorization": ""})
    assert_problem(response, 401)
    assert challenge(response) == BARE_CHALLENGE


@pytest.mark.parametrize(
    "header", ["Basic x", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer  ", "Token abc"]
)
async def test_malformed_authorization_header_is_an_invalid_token(client: Client, header: str) -> None:
    anonymous = await client(None)
    response = await anonymous.get("/projects", headers={"Authorization": header})
    assert_invalid_token(response)


async def test_unknown_and_malformed_api_tokens_are_refused(
    client: Client, runtime: Runtime, auth_headers: dict[str, str]
) -> None:
    anonymous = await client(None)
    valid = auth_headers["Authorization"].removeprefix("Bearer ")
    tampered = valid[:-1] + ("A" if valid[-1] != "A" else "B")
    well_formed_unknown = api_tokens.generate(runtime.tenant_id)
    unknown_tenant = api_tokens.generate(uuid.uuid4())
    for token in (
        "orc_",
        "orc_x",
        f"orc_{runtime.tenant_id.hex}",
        f"orc_{runtime.tenant_id.hex.upper()}_{'A' * 43}",  # the tenant part is lowercase hex
        f"orc_{runtime.tenant_id.hex}_{'A' * 42}",  # one character short
        f"orc_{runtime.tenant_id.hex}_{'A' * 44}",
        f"orc_{runtime.tenant_id.hex}_{'A' * 42}!",
        valid + "x",
        tampered,
        well_formed_unknown,
        unknown_tenant,
        "orc_" + "a" * 20_000,  # longer than any header worth reading
        "not-an-orchestra-token",  # no identity provider is configured: nothing else is accepted
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.",  # an unsigned JWT
    ):
        response = await anonymous.get("/projects", headers=bearer(token))
        assert_invalid_token(response)
        assert token not in response.text or len(token) < 8
    # the real one still works
    assert (await anonymous.get("/projects", headers=bearer(valid))).status_code == 200


async def test_revoked_token_is_refused(api: httpx.AsyncClient, client: Client) -> None:
    created = await create_token(api, name="ci", role="viewer")
    user = await client(created["token"])
    assert (await user.get("/projects")).status_code == 200
    response = await api.delete(f"/tokens/{created['id']}")
    assert response.status_code == 200, response.text
    assert_invalid_token(await user.get("/projects"), "revoked")


async def test_a_token_cannot_be_created_already_expired(api: httpx.AsyncClient) -> None:
    for when in ["0111-03-12T23:56:11-08:13", (datetime.now(UTC) - timedelta(seconds=1)).isoformat()]:
        response = await api.post("/tokens", json={"name": "late", "role": "viewer", "expires_at": when})
        assert response.status_code == 422, response.text
        assert "expires_at must be in the future" in response.json()["detail"]
    names = [token["name"] for token in (await api.get("/tokens")).json()["items"]]
    assert "late" not in names


async def test_expired_token_is_refused(
    api: httpx.AsyncClient, client: Client, owner_database_url: str
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=2)
    created = await create_token(api, name="short", role="viewer", expires_at=soon.isoformat())
    assert datetime.fromisoformat(created["expires_at"]) == soon
    user = await client(created["token"])
    assert (await user.get("/projects")).status_code == 200
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.1)
    assert_invalid_token(await user.get("/projects"), "expired")

    # one expiring later, moved into the past behind the API's back
    later = await create_token(api, name="later", role="viewer", expires_at="2999-01-01T00:00:00Z")
    user = await client(later["token"])
    assert (await user.get("/projects")).status_code == 200
    await owner_fetch(
        owner_database_url,
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = :id",
        {"id": later["id"]},
    )
    assert_invalid_token(await user.get("/projects"), "expired")


async def test_token_of_a_deleted_project_is_refused(api: httpx.AsyncClient, client: Client) -> None:
    await make_project(api, "doomed")
    created = await create_token(api, name="ci", role="editor", project="doomed")
    user = await client(created["token"])
    assert (await user.get("/projects/doomed")).status_code == 200
    assert (await api.delete("/projects/doomed")).status_code == 204
    assert_invalid_token(await user.get("/projects"))
    # and a new project of the same name does not bring it back
    await make_project(api, "doomed")
    assert_invalid_token(await user.get("/projects/doomed"))


async def test_token_of_a_deleted_tenant_is_refused(
    client: Client, runtime: Runtime, owner_database_url: str
) -> None:
    tenant_id, token = await other_tenant_token(runtime, "short-lived")
    user = await client(token)
    response = await user.get("/tenant")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "short-lived"
    await owner_fetch(owner_database_url, "DELETE FROM tenants WHERE id = :id", {"id": tenant_id})
    assert_invalid_token(await user.get("/tenant"))
    assert_invalid_token(await user.get("/projects"))


@pytest.mark.parametrize(
    "path",
    [
        "/health",
        "/health/live",
        "/health/ready",
        "/schemas/testcase.json",
        "/schemas/suite.json",
        "/schemas/dataplan.json",
        "/openapi.json",
    ],
)
async def test_public_endpoints_need_no_token(client: Client, path: str) -> None:
    anonymous = await client(None)
    response = await anonymous.get(path)
    assert response.status_code == 200, response.text
    assert "www-authenticate" not in response.headers
    # a bad token on a public endpoint is ignored rather than refused
    assert (await anonymous.get(path, headers=bearer("orc_nonsense"))).status_code == 200


async def test_openapi_lists_the_security_endpoints(client: Client) -> None:
    anonymous = await client(None)
    spec = (await anonymous.get("/openapi.json")).json()
    assert "/api/v1/tokens" in spec["paths"]
    assert "/api/v1/audit" in spec["paths"]


# -- tokens ---------------------------------------------------------------------------------------------


async def test_token_is_shown_once_and_stored_only_as_a_hash(
    api: httpx.AsyncClient, client: Client, owner_database_url: str
) -> None:
    await make_project(api, "shop")
    created = await create_token(api, name="ci-gate", role="editor", project="shop")
    token: str = created["token"]
    assert token.startswith("orc_")
    assert api_tokens.parse(token) is not None
    assert created["prefix"] == api_tokens.display_prefix(token)
    assert len(created["prefix"]) == 8
    assert created["prefix"] in token
    assert created["role"] == "editor"
    assert created["kind"] == "api"
    assert created["created_by"] == "token:local admin"
    assert created["revoked_at"] is None
    assert created["last_used_at"] is None
    assert created["expires_at"] is None
    project_id = (await api.get("/projects/shop")).json()["id"]
    assert created["project_id"] == project_id

    listed = (await api.get("/tokens")).json()
    mine = [item for item in listed["items"] if item["id"] == created["id"]]
    assert len(mine) == 1
    assert "token" not in mine[0]
    assert token not in str(listed)
    expected = {key: value for key, value in created.items() if key != "token"}
    assert mine[0] == expected
    local = [item for item in listed["items"] if item["kind"] == "local-admin"]
    assert len(local) == 1
    assert local[0]["role"] == "admin"
    assert local[0]["project_id"] is None

    # using it shows when it was last used
    user = await client(token)
    assert (await user.get("/projects/shop")).status_code == 200
    listed = (await api.get("/tokens")).json()
    (mine_now,) = [item for item in listed["items"] if item["id"] == created["id"]]
    assert mine_now["last_used_at"] is not None

    # only the SHA-256 is in the database, and nothing anywhere holds the token or its secret part
    rows = await owner_fetch(
        owner_database_url, "SELECT token_hash, prefix FROM api_tokens WHERE id = :id", {"id": created["id"]}
    )
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert rows[0].prefix == created["prefix"]
    secret_part = token.split("_", 2)[2]
    tables = await owner_fetch(
        owner_database_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    )
    assert len(tables) > 10
    for (table,) in tables:
        found = await owner_fetch(
            owner_database_url,
            f'SELECT count(*) AS n FROM "{table}" AS t WHERE strpos(t::text, :needle) > 0',
            {"needle": secret_part},
        )
        assert found[0].n == 0, f"{table} holds the token"

    # revoking answers without the token, and is idempotent
    revoked = await api.delete(f"/tokens/{created['id']}")
    assert revoked.status_code == 200, revoked.text
    assert "token" not in revoked.json()
    assert token not in revoked.text
    revoked_at = revoked.json()["revoked_at"]
    assert revoked_at is not None
    again = await api.delete(f"/tokens/{created['id']}")
    assert again.status_code == 200, again.text
    assert again.json()["revoked_at"] == revoked_at
    listed = (await api.get("/tokens")).json()
    (still_listed,) = [item for item in listed["items"] if item["id"] == created["id"]]
    assert still_listed["revoked_at"] == revoked_at
    assert_problem(await api.delete(f"/tokens/{uuid.uuid4()}"), 404)
    assert_problem(await api.delete("/tokens/not-a-uuid"), 422)


async def test_created_tokens_work_with_exactly_their_role(api: httpx.AsyncClient, client: Client) -> None:
    await make_project(api, "shop")
    await make_project(api, "other")
    viewer = await client((await create_token(api, name="v", role="viewer"))["token"])
    editor = await client((await create_token(api, name="e", role="editor", project="shop"))["token"])
    admin = await client((await create_token(api, name="a", role="admin"))["token"])

    # viewer: reads everything of the tenant, changes nothing
    assert (await viewer.get("/projects")).json()["total"] == 2
    assert (await viewer.get("/projects/shop/environments")).status_code == 200
    assert_problem(await viewer.post("/projects", json={"name": "v"}), 403, "editor")
    assert_problem(await viewer.post("/projects/shop/environments", json=env_body("x")), 403, "editor")
    assert_problem(await viewer.get("/audit"), 403, "admin")

    # editor of project shop: writes in shop, sees nothing else, manages nothing
    assert (await editor.post("/projects/shop/environments", json=env_body("staging"))).status_code == 201
    assert [item["name"] for item in (await editor.get("/projects")).json()["items"]] == ["shop"]
    assert_problem(await editor.get("/projects/other"), 404)
    assert_problem(await editor.post("/projects/other/environments", json=env_body("x")), 404)
    assert_problem(await editor.patch("/projects/shop", json={"description": "x"}), 403, "admin")
    assert_problem(await editor.delete("/projects/shop"), 403, "admin")
    assert_problem(await editor.get("/audit"), 403, "admin")

    # admin: project settings and the audit log, but not the platform
    assert (await admin.patch("/projects/shop", json={"description": "x"})).status_code == 200
    assert (await admin.get("/audit")).status_code == 200
    assert_problem(await admin.put("/limits", json={"max_active_runs": 3}), 403, "platform")
    assert_problem(await admin.patch("/tenant", json={"weight": 3}), 403, "platform")

    # the local admin is the platform admin
    assert (await api.put("/limits", json={"max_active_runs": 3})).status_code == 200
    assert (await api.patch("/tenant", json={"weight": 3})).status_code == 200


async def test_api_tokens_cannot_manage_tokens(api: httpx.AsyncClient, client: Client) -> None:
    await make_project(api, "shop")
    victim = await create_token(api, name="victim", role="viewer")
    for role, project in (("admin", None), ("editor", "shop")):
        body: dict[str, Any] = {"name": f"t-{role}", "role": role}
        if project:
            body["project"] = project
        user = await client((await create_token(api, **body))["token"])
        assert_problem(await user.post("/tokens", json={"name": "n", "role": "viewer"}), 403, "API tokens")
        assert_problem(await user.get("/tokens"), 403, "API tokens")
        assert_problem(await user.delete(f"/tokens/{victim['id']}"), 403, "API tokens")
    viewer = await client(victim["token"])
    assert_problem(await viewer.post("/tokens", json={"name": "n", "role": "viewer"}), 403)
    # nothing was created or revoked
    listed = (await api.get("/tokens")).json()["items"]
    assert {item["name"] for item in listed} == {"local admin", "victim", "t-admin", "t-editor"}
    assert all(item["revoked_at"] is None for item in listed)


@pytest.fixture
async def oidc_client(
    settings: Settings, runtime: Runtime, oidc_issuer: LocalIssuer
) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Makes clients signed in through the identity provider as a user of the runtime's tenant, with the
    Orchestra roles given (Keycloak client roles)."""
    app = create_app(settings.model_copy(update={"oidc_issuer": oidc_issuer.issuer}), runtime)
    transport = httpx.ASGITransport(app=app)
    async with AsyncExitStack() as stack:

        def make(*roles: str, user: str = "erin") -> httpx.AsyncClient:
            token = oidc_issuer.issue(
                tenant=runtime.settings.tenant,
                preferred_username=user,
                resource_access={CLIENT: {"roles": list(roles)}},
            )
            client = httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=bearer(token))
            stack.push_async_callback(client.aclose)
            return client

        yield make
    await app.state.authenticator.aclose()


async def test_a_signed_in_editor_creates_tokens_up_to_its_role_for_a_named_project(
    api: httpx.AsyncClient, client: Client, oidc_client: Callable[..., httpx.AsyncClient]
) -> None:
    project = await make_project(api, "shop")
    editor = oidc_client("editor")
    assert_problem(
        await editor.post("/tokens", json={"name": "t", "role": "admin", "project": "shop"}),
        403,
        "higher role",
    )
    assert_problem(await editor.post("/tokens", json={"name": "t", "role": "editor"}), 403, "name a project")
    assert_problem(await editor.post("/tokens", json={"name": "t", "role": "viewer"}), 403, "name a project")
    response = await editor.post("/tokens", json={"name": "ci", "role": "editor", "project": "shop"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["role"], created["project_id"], created["created_by"]) == (
        "editor",
        project["id"],
        "erin",
    )
    # the token works as an editor of shop, and no more
    ci = await client(created["token"])
    assert (await ci.post("/projects/shop/environments", json=env_body("staging"))).status_code == 201
    assert_problem(await ci.patch("/projects/shop", json={"description": "x"}), 403, "admin")
    assert_problem(await ci.post("/projects", json={"name": "other"}), 403)
    # revoking: its own kind, not an admin's nor the local admin's
    admin_token = await create_token(api, name="adm", role="admin")
    listed = (await editor.get("/tokens")).json()["items"]
    local_admin = next(item for item in listed if item["kind"] == "local-admin")
    assert_problem(await editor.delete(f"/tokens/{admin_token['id']}"), 403)
    assert_problem(await editor.delete(f"/tokens/{local_admin['id']}"), 403)
    assert (await editor.delete(f"/tokens/{created['id']}")).status_code == 200
    assert_invalid_token(await ci.get("/projects"), "revoked")

    # a viewer manages no tokens; an admin creates tokens for every project, but leaves the local admin's be
    viewer = oidc_client("viewer", user="vic")
    assert_problem(await viewer.post("/tokens", json={"name": "t", "role": "viewer", "project": "shop"}), 403)
    assert_problem(await viewer.get("/tokens"), 403)
    admin = oidc_client("admin", user="ada")
    response = await admin.post("/tokens", json={"name": "all", "role": "admin"})
    assert response.status_code == 201, response.text
    assert response.json()["project_id"] is None
    assert_problem(await admin.delete(f"/tokens/{local_admin['id']}"), 403)
    assert (await admin.delete(f"/tokens/{admin_token['id']}")).status_code == 200
    assert (await api.get("/projects")).status_code == 200  # the local admin token still works

    actions = (await api.get("/audit", params={"action": "create_token"})).json()["items"]
    assert {event["actor"] for event in actions} >= {"erin", "ada"}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"name": "t", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z"}, "future"),
        ({"name": "t", "role": "viewer", "expires_at": "2999-01-01T00:00:00"}, "expires_at"),  # no zone
        ({"name": "t", "role": "owner"}, "role"),
        ({"name": "t"}, "role"),
        ({"name": "", "role": "viewer"}, "name"),
        ({"name": "t", "role": "viewer", "token": "orc_mine"}, "token"),
        ({"name": "t", "role": "viewer", "platform_admin": True}, "platform_admin"),
    ],
)
async def test_token_creation_refuses_bad_input(
    api: httpx.AsyncClient, body: dict[str, Any], needle: str
) -> None:
    assert_problem(await api.post("/tokens", json=body), 422, needle)
    assert (await api.get("/tokens")).json()["total"] == 1  # only the local admin's


async def test_token_for_a_missing_project_is_404(api: httpx.AsyncClient) -> None:
    assert_problem(await api.post("/tokens", json={"name": "t", "role": "viewer", "project": "ghost"}), 404)


# -- the local admin token ------------------------------------------------------------------------------


async def test_local_admin_token_file(
    runtime: Runtime, settings: Settings, client: Client, tmp_path: Path
) -> None:
    data_dir = tmp_path / "fresh" / "data"
    previous_umask = os.umask(0)  # the file is private whatever the umask
    try:
        state = await ensure_local_admin_token(runtime.db, runtime.tenant_id, data_dir)
    finally:
        os.umask(previous_umask)
    token = state.token
    assert state.issued
    assert token is not None
    path = token_file(data_dir)
    assert path == data_dir / "admin-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == token + "\n"
    assert read_token(data_dir) == token
    assert sorted(p.name for p in data_dir.iterdir()) == ["admin-token"]  # no temporary file left

    admin = await client(token)
    assert (await admin.put("/limits", json={"max_active_runs": 9})).status_code == 200  # platform admin
    assert (await admin.post("/tokens", json={"name": "t", "role": "admin"})).status_code == 201

    # a second start changes nothing
    before = path.stat()
    assert await ensure_local_admin_token(runtime.db, runtime.tenant_id, data_dir) == LocalAdmin(token, False)
    assert path.read_text() == token + "\n"
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert (await admin.get("/projects")).status_code == 200

    # the embedded database belongs to its data directory: the file deleted, a new token, the old revoked
    path.unlink()
    state = await ensure_local_admin_token(runtime.db, runtime.tenant_id, data_dir, shared=False)
    renewed = state.token
    assert state.issued
    assert state.replaced
    assert renewed is not None
    assert renewed != token
    assert read_token(data_dir) == renewed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert_invalid_token(await admin.get("/projects"), "revoked")
    fresh = await client(renewed)
    assert (await fresh.get("/projects")).status_code == 200
    locals_ = [item for item in (await fresh.get("/tokens")).json()["items"] if item["kind"] == "local-admin"]
    assert len([item for item in locals_ if item["revoked_at"] is None]) == 1

    # the file garbled or holding a revoked token: replaced as well
    path.write_text("garbage\n")
    garbled = (await ensure_local_admin_token(runtime.db, runtime.tenant_id, data_dir, shared=False)).token
    assert garbled is not None
    assert read_token(data_dir) == garbled
    assert_invalid_token(await fresh.get("/projects"), "revoked")
    path.write_text(renewed + "\n")  # a stale copy of a revoked token
    stale = (await ensure_local_admin_token(runtime.db, runtime.tenant_id, data_dir, shared=False)).token
    assert stale is not None
    assert stale not in (renewed, garbled)
    assert (await (await client(stale)).get("/projects")).status_code == 200


async def test_api_replicas_share_the_local_admin_token(
    runtime: Runtime, client: Client, tmp_path: Path
) -> None:
    """The token belongs to the database: a replica with a data directory of its own keeps the valid one
    another replica issued (it used to replace it, revoking the token every other client used)."""
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first = await ensure_local_admin_token(runtime.db, runtime.tenant_id, first_dir)
    assert first.issued
    assert first.token is not None
    admin = await client(first.token)

    second = await ensure_local_admin_token(runtime.db, runtime.tenant_id, second_dir)
    assert second == LocalAdmin(None, issued=False)
    assert read_token(second_dir) is None
    assert (await admin.get("/projects")).status_code == 200
    # nor does a copy of a revoked or garbled token there make it issue one
    second_dir.mkdir()
    token_file(second_dir).write_text("garbage\n")
    assert (await ensure_local_admin_token(runtime.db, runtime.tenant_id, second_dir)).token is None
    assert (await admin.get("/projects")).status_code == 200
    # the first replica restarting keeps it too
    assert await ensure_local_admin_token(runtime.db, runtime.tenant_id, first_dir) == LocalAdmin(
        first.token, issued=False
    )

    # `orchestra admin-token` where the file holds the valid token: that token, unchanged
    assert await local_admin_token(runtime.db, runtime.tenant_id, first_dir) == LocalAdmin(
        first.token, issued=False
    )
    # elsewhere (no valid token in the file): a new one for every replica, the previous one revoked
    replaced = await local_admin_token(runtime.db, runtime.tenant_id, second_dir)
    assert replaced.issued
    assert replaced.replaced
    assert replaced.token is not None
    assert read_token(second_dir) == replaced.token
    assert_invalid_token(await admin.get("/projects"), "revoked")
    assert (await (await client(replaced.token)).get("/projects")).status_code == 200
    # the first replica's stale file does not bring its old token back, nor revoke the new one
    assert await ensure_local_admin_token(runtime.db, runtime.tenant_id, first_dir) == LocalAdmin(
        None, issued=False
    )
    assert (await (await client(replaced.token)).get("/projects")).status_code == 200
    # --new replaces even a valid one
    renewed = await local_admin_token(runtime.db, runtime.tenant_id, second_dir, renew=True)
    assert renewed.issued
    assert renewed.token not in (None, replaced.token)
    assert_invalid_token(await (await client(replaced.token)).get("/projects"), "revoked")


async def test_replicas_starting_together_issue_one_local_admin_token(
    runtime: Runtime, client: Client, tmp_path: Path
) -> None:
    states = await asyncio.gather(
        *(ensure_local_admin_token(runtime.db, runtime.tenant_id, tmp_path / f"r{i}") for i in range(4))
    )
    issued = [state for state in states if state.issued]
    assert len(issued) == 1
    assert [state.token for state in states if not state.issued] == [None, None, None]
    assert issued[0].token is not None
    assert (await (await client(issued[0].token)).get("/projects")).status_code == 200


async def test_local_admin_token_file_of_the_fixture_survives_a_restart(
    runtime: Runtime, settings: Settings, api: httpx.AsyncClient
) -> None:
    token = read_token(settings.data_dir)
    assert token is not None
    state = await ensure_local_admin_token(runtime.db, runtime.tenant_id, settings.data_dir)
    assert state == LocalAdmin(token, issued=False)
    assert read_token(settings.data_dir) == token
    assert (await api.get("/projects")).status_code == 200


# -- the audit log --------------------------------------------------------------------------------------


def by_action(events: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [event for event in events if event["action"] == action]


async def test_changes_are_audited(api: httpx.AsyncClient) -> None:
    project = await make_project(api, "audited")
    response = await api.post(
        "/projects/audited/environments", json=env_body("staging", secrets={"password": "hunter2-secret"})
    )
    assert response.status_code == 201, response.text
    for name in ("health", "temp"):
        response = await api.post("/projects/audited/test-cases", json={"name": name, "steps": [STEP]})
        assert response.status_code == 201, response.text
    response = await api.post(
        "/runs", json={"project": "audited", "environment": "staging", "test_case": "health"}
    )
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    response = await api.post(f"/runs/{run_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CANCELLED"
    assert (await api.delete("/projects/audited/test-cases/temp")).status_code == 204
    token = await create_token(api, name="ci", role="viewer", project="audited")
    # failures and reads are not changes
    assert_problem(await api.post("/projects", json={"name": "audited"}), 409)
    assert_problem(await api.delete("/projects/audited/test-cases/temp"), 404)
    assert (await api.get("/projects")).status_code == 200

    response = await api.get("/audit", params={"limit": 500})
    assert response.status_code == 200, response.text
    page = response.json()
    events: list[dict[str, Any]] = page["items"]
    assert page["total"] == len(events)
    for event in events:
        assert event["actor"] == "token:local admin"
        assert event["actor_kind"] == "local-admin"
    expected = {
        "create_project": ("audited", None),
        "create_environment": ("staging", "audited"),
        "create_test_case": ("temp", "audited"),
        "create_run": (None, None),
        "cancel_run": (run_id, run_id),
        "delete_test_case": ("temp", "temp"),
        "create_token": ("ci", None),
    }
    for action, (name, object_id) in expected.items():
        found = by_action(events, action)
        assert found, f"no {action} in {[event['action'] for event in events]}"
        if name is not None:
            assert any(event["object_name"] == name for event in found), found
        if object_id is not None:
            assert any(event["object_id"] == object_id for event in found), found
    assert len(by_action(events, "create_project")) == 1  # the refused duplicate is not recorded
    assert len(by_action(events, "delete_test_case")) == 1
    assert len(by_action(events, "create_test_case")) == 2
    assert by_action(events, "create_run")[0]["details"]["body"] == {
        "project": "audited",
        "environment": "staging",
        "test_case": "health",
    }
    assert by_action(events, "create_token")[0]["details"]["body"] == {
        "name": "ci",
        "role": "viewer",
        "project": "audited",
    }
    assert not [event for event in events if event["details"].get("method") == "GET"]
    # neither secrets nor the token end up in the log
    assert "hunter2-secret" not in response.text
    assert token["token"] not in response.text
    assert token["token"].split("_", 2)[2] not in response.text
    # newest first, and filterable
    times = [event["at"] for event in events]
    assert times == sorted(times, reverse=True)
    only = (await api.get("/audit", params={"action": "cancel_run"})).json()
    assert [event["action"] for event in only["items"]] == ["cancel_run"]
    assert project["id"]


async def test_token_use_is_audited_at_most_once_a_minute(
    api: httpx.AsyncClient, client: Client, owner_database_url: str
) -> None:
    created = await create_token(api, name="ci", role="viewer")
    user = await client(created["token"])
    for _ in range(3):
        assert (await user.get("/projects")).status_code == 200
    assert_problem(await user.post("/projects", json={"name": "x"}), 403)  # a refused call is a use too

    async def uses() -> list[dict[str, Any]]:
        page = (await api.get("/audit", params={"action": "token.used", "limit": 500})).json()
        return [event for event in page["items"] if event["object_id"] == created["id"]]

    used = await uses()
    assert len(used) == 1
    assert used[0]["actor"] == "token:ci"
    assert used[0]["actor_kind"] == "token"
    assert used[0]["object_type"] == "api_token"
    assert used[0]["object_name"] == "ci"

    await owner_fetch(
        owner_database_url,
        "UPDATE api_tokens SET last_used_at = now() - interval '61 seconds' WHERE id = :id",
        {"id": created["id"]},
    )
    assert (await user.get("/projects")).status_code == 200
    assert (await user.get("/projects")).status_code == 200
    assert len(await uses()) == 2


async def test_audit_log_needs_an_admin(api: httpx.AsyncClient, client: Client) -> None:
    await make_project(api, "shop")
    editor = await client((await create_token(api, name="e", role="editor", project="shop"))["token"])
    viewer = await client((await create_token(api, name="v", role="viewer"))["token"])
    admin = await client((await create_token(api, name="a", role="admin"))["token"])
    anonymous = await client(None)
    assert_problem(await editor.get("/audit"), 403, "admin")
    assert_problem(await viewer.get("/audit"), 403, "admin")
    assert_problem(await anonymous.get("/audit"), 401)
    response = await admin.get("/audit")
    assert response.status_code == 200, response.text
    assert response.json()["total"] >= 4  # the project and three tokens


async def test_me_says_who_the_caller_is_and_never_its_credential(
    api: httpx.AsyncClient, client: Client, oidc_client: Callable[..., httpx.AsyncClient]
) -> None:
    shop = await make_project(api, "shop")
    local = (await api.get("/me")).json()
    assert local == {
        "name": "token:local admin",
        "kind": "local-admin",
        "role": "admin",
        "platform_admin": True,
        "project_id": None,
        "manages_tokens": True,
    }
    created = await create_token(api, name="ci", role="editor", project="shop")
    scoped = await client(created["token"])
    response = await scoped.get("/me")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "name": "token:ci",
        "kind": "token",
        "role": "editor",
        "platform_admin": False,
        "project_id": shop["id"],
        "manages_tokens": False,
    }
    assert created["token"] not in response.text
    assert created["prefix"] not in response.text
    viewer = (await oidc_client("viewer").get("/me")).json()
    assert (viewer["name"], viewer["kind"], viewer["role"], viewer["manages_tokens"]) == (
        "erin",
        "oidc",
        "viewer",
        False,
    )
    assert (await oidc_client("editor").get("/me")).json()["manages_tokens"] is True
    assert_invalid_token(await (await client("orc_nonsense")).get("/me"))
    assert_problem(await (await client(None)).get("/me"), 401)
