"""The local admin cannot lock everyone out: without an identity provider, the last platform-admin token is
not revoked (409, which says how to replace it); and a local admin token revoked anyway is recovered with
`orchestra admin-token`, which the running servers accept at once, without a restart."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.app import create_app
from orchestra.auth import api_tokens
from orchestra.auth.local_admin import read_token
from orchestra.cli.admin_token import print_admin_token
from orchestra.config import Settings
from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem
from tests.integration.oidc_issuer import LocalIssuer, oidc_issuer_fixture  # noqa: F401

BASE_URL = "http://orchestra.test/api/v1"


def as_token(runtime: Runtime, settings: Settings, token: str) -> httpx.AsyncClient:
    """A client of the same server (another app over the runtime), with ``token``."""
    transport = httpx.ASGITransport(app=create_app(settings, runtime))
    return httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"Authorization": f"Bearer {token}"}
    )


def local_admin_id(listed: dict[str, object]) -> str:
    items = listed["items"]
    assert isinstance(items, list)
    (found,) = [item["id"] for item in items if item["kind"] == "local-admin" and item["revoked_at"] is None]
    return str(found)


async def test_the_last_platform_admin_token_is_not_revoked(
    api: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    own = local_admin_id((await api.get("/tokens")).json())
    problem = assert_problem(await api.delete(f"/tokens/{own}"), 409, "last platform-admin credential")
    assert "orchestra admin-token --new" in problem["detail"]
    assert (await api.get("/tokens")).status_code == 200  # still the admin it was
    assert (await api.put("/limits", json={"max_active_runs": 7})).status_code == 200

    # with a second valid platform-admin token, either one may go — but not the last one left
    token, row = api_tokens.issue(
        runtime.tenant_id,
        name="second admin",
        role="admin",
        created_by="orchestra",
        kind="local-admin",
        platform_admin=True,
    )
    async with runtime.db.transaction(runtime.tenant_id) as session:
        session.add(row)
    async with as_token(runtime, settings, token) as second:
        response = await api.delete(f"/tokens/{own}")
        assert response.status_code == 200, response.text
        assert (await api.get("/tokens")).status_code == 401
        assert_problem(await second.delete(f"/tokens/{row.id}"), 409, "last platform-admin credential")
        assert (await second.get("/tokens")).status_code == 200
        # an expired platform-admin token does not count as another one
        async with runtime.db.transaction(runtime.tenant_id) as session:
            expired = api_tokens.issue(
                runtime.tenant_id,
                name="expired admin",
                role="admin",
                created_by="orchestra",
                kind="local-admin",
                platform_admin=True,
            )[1]
            session.add(expired)
            await session.flush()
            await session.execute(
                text("UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = :id"),
                {"id": expired.id},
            )
        assert_problem(await second.delete(f"/tokens/{row.id}"), 409, "last platform-admin credential")
        # a missing token is still 404, whatever is left
        assert_problem(await second.delete(f"/tokens/{uuid.uuid4()}"), 404)


@pytest.fixture
async def with_identity_provider(
    settings: Settings, runtime: Runtime, auth_headers: dict[str, str], oidc_issuer: LocalIssuer
) -> AsyncIterator[httpx.AsyncClient]:
    """The local admin of a server where people also sign in through an identity provider."""
    app = create_app(settings.model_copy(update={"oidc_issuer": oidc_issuer.issuer}), runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=auth_headers) as client:
        yield client
    await app.state.authenticator.aclose()


async def test_with_an_identity_provider_the_local_admin_token_may_be_revoked(
    with_identity_provider: httpx.AsyncClient,
) -> None:
    own = local_admin_id((await with_identity_provider.get("/tokens")).json())
    response = await with_identity_provider.delete(f"/tokens/{own}")
    assert response.status_code == 200, response.text
    assert response.json()["revoked_at"] is not None
    assert (await with_identity_provider.get("/tokens")).status_code == 401


async def test_a_revoked_local_admin_token_is_recovered_without_a_restart(
    api: httpx.AsyncClient, runtime: Runtime, settings: Settings, owner_database_url: str
) -> None:
    """Revoked however it happened (here by hand, in the database), `orchestra admin-token` with the
    server's settings issues a new one, which the running server accepts at once."""
    old = read_token(settings.data_dir)
    assert old is not None
    engine = create_async_engine(owner_database_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE kind = 'local-admin'"))
    finally:
        await engine.dispose()
    assert (await api.get("/projects")).status_code == 401  # locked out

    out, err = io.StringIO(), io.StringIO()
    code = await print_admin_token(settings, False, Console(file=out), Console(file=err, width=300))
    assert code == 0
    new = out.getvalue().strip()
    assert new != old
    assert new == read_token(settings.data_dir)
    assert "New local admin token" in err.getvalue()
    async with as_token(runtime, settings, new) as recovered:
        assert (await recovered.get("/projects")).status_code == 200
        assert (await recovered.put("/limits", json={"max_active_runs": 5})).status_code == 200
    assert (await api.get("/projects")).status_code == 401  # the old one stays revoked
