"""Keycloak-shaped access tokens at the REST API: signed by a real local issuer (RSA and EC keys served over
HTTP), mapped to tenant and role; every invalid token is a 401 with a Bearer challenge."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from orchestra.app import create_app
from orchestra.config import Settings
from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem
from tests.integration.oidc_issuer import (  # noqa: F401
    CLIENT,
    LocalIssuer,
    b64url,
    compact,
    hs256,
    oidc_issuer_fixture,
)
from tests.integration.oidc_sign_in import SignInDesk


@pytest.fixture
async def oidc_api(
    settings: Settings, runtime: Runtime, oidc_issuer: LocalIssuer
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with the local issuer configured (and no token of its own: each test sends one)."""
    app = create_app(settings.model_copy(update={"oidc_issuer": oidc_issuer.issuer}), runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orchestra.test/api/v1") as client:
        yield client
    await app.state.authenticator.aclose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def roles(*names: str) -> dict[str, Any]:
    return {CLIENT: {"roles": list(names)}}


async def test_an_editor_token_works_and_the_audit_log_names_the_user(
    oidc_api: httpx.AsyncClient, oidc_issuer: LocalIssuer
) -> None:
    for alg in ("RS256", "ES256"):
        token = oidc_issuer.issue(alg=alg)
        response = await oidc_api.post("/projects", json={"name": f"shop-{alg}"}, headers=bearer(token))
        assert response.status_code == 201, response.text
    admin = oidc_issuer.issue(resource_access=roles("admin"))
    audit = (await oidc_api.get("/audit", headers=bearer(admin))).json()
    created = [event for event in audit["items"] if event["action"] == "create_project"]
    assert {event["object_name"] for event in created} == {"shop-RS256", "shop-ES256"}
    assert {(event["actor"], event["actor_kind"]) for event in created} == {("alice", "oidc")}


def _invalid_tokens(issuer: LocalIssuer) -> dict[str, str]:
    now = int(time.time())
    header, _, signature = issuer.issue().split(".")
    forged_claims = issuer.claims(tenant="globex", resource_access=roles("admin"))
    return {
        "expired": issuer.issue(exp=now - 3600, iat=now - 7200, nbf=now - 7200),
        "not yet valid": issuer.issue(nbf=now + 3600, iat=now),
        "wrong issuer": issuer.issue(iss="https://evil.example/realms/orchestra"),
        "wrong audience": issuer.issue(aud=["account"], azp="someone-else"),
        "alg none": compact({"alg": "none", "typ": "JWT", "kid": issuer.rsa_kid}, issuer.claims()),
        "hs256 with the public key": hs256(
            {"alg": "HS256", "typ": "JWT", "kid": issuer.rsa_kid},
            issuer.claims(),
            issuer.public_pem(issuer.rsa_kid),
        ),
        "unknown kid": issuer.issue(kid="not-a-key-of-ours"),
        "tampered payload": f"{header}.{b64url(json.dumps(forged_claims).encode())}.{signature}",
        "missing tenant claim": issuer.issue(tenant=None),
        "garbage": "not-a-jwt",
    }


async def test_every_invalid_token_is_401_with_a_bearer_challenge(
    oidc_api: httpx.AsyncClient, oidc_issuer: LocalIssuer
) -> None:
    for case, token in _invalid_tokens(oidc_issuer).items():
        response = await oidc_api.get("/projects", headers=bearer(token))
        body = assert_problem(response, 401)
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="orchestra"'), case
        assert 'error="invalid_token"' in challenge, case
        assert body["detail"], case
    # Nothing was created by any of them, and no tenant named by a forged token exists.
    admin = oidc_issuer.issue(resource_access=roles("admin"))
    assert (await oidc_api.get("/projects", headers=bearer(admin))).json()["total"] == 0


async def test_no_token_is_401_without_an_error_code(oidc_api: httpx.AsyncClient) -> None:
    response = await oidc_api.get("/projects")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="orchestra"'


async def test_roles_viewer_editor_admin_and_platform_admin(
    oidc_api: httpx.AsyncClient, oidc_issuer: LocalIssuer
) -> None:
    viewer = bearer(oidc_issuer.issue(resource_access=roles("viewer")))
    editor = bearer(oidc_issuer.issue(resource_access=roles("editor")))
    admin = bearer(oidc_issuer.issue(resource_access={}, realm_access={"roles": ["orchestra-admin"]}))
    platform = bearer(oidc_issuer.issue(resource_access=roles("viewer", "platform-admin")))
    nobody = bearer(oidc_issuer.issue(resource_access={}))

    assert (await oidc_api.get("/projects", headers=viewer)).status_code == 200
    assert_problem(await oidc_api.post("/projects", json={"name": "p"}, headers=viewer), 403, "editor")
    assert (await oidc_api.post("/projects", json={"name": "p"}, headers=editor)).status_code == 201
    assert_problem(await oidc_api.delete("/projects/p", headers=editor), 403, "admin")
    assert_problem(await oidc_api.get("/projects", headers=nobody), 403, "no Orchestra role")
    assert_problem(await oidc_api.put("/limits", json={"max_active_runs": 5}, headers=admin), 403, "platform")
    assert (await oidc_api.put("/limits", json={"max_active_runs": 5}, headers=platform)).status_code == 200
    assert (await oidc_api.delete("/projects/p", headers=admin)).status_code == 204


async def test_the_tenant_claim_separates_tenants(
    oidc_api: httpx.AsyncClient, oidc_issuer: LocalIssuer
) -> None:
    acme = bearer(oidc_issuer.issue(tenant="acme", resource_access=roles("admin")))
    globex = bearer(oidc_issuer.issue(tenant="globex", resource_access=roles("admin")))
    created = await oidc_api.post("/projects", json={"name": "shop"}, headers=acme)
    assert created.status_code == 201
    project_id = created.json()["id"]
    for path in ("/projects/shop", f"/projects/{project_id}"):
        assert_problem(await oidc_api.get(path, headers=globex), 404)
        assert_problem(await oidc_api.delete(path, headers=globex), 404)
    assert (await oidc_api.get("/projects", headers=globex)).json()["total"] == 0
    # The same name in the other tenant is no conflict: a separate project.
    assert (await oidc_api.post("/projects", json={"name": "shop"}, headers=globex)).status_code == 201
    assert (await oidc_api.get("/projects/shop", headers=acme)).json()["id"] == project_id


async def test_an_unreachable_issuer_is_503(oidc_api: httpx.AsyncClient, oidc_issuer: LocalIssuer) -> None:
    token = oidc_issuer.issue()
    oidc_issuer.stop()
    response = await oidc_api.get("/projects", headers=bearer(token))
    assert_problem(response, 503, "identity provider")


async def test_the_web_sign_in_flow_gives_a_token_the_api_takes(
    oidc_api: httpx.AsyncClient, oidc_issuer: LocalIssuer
) -> None:
    """Authorization code + PKCE as the web application does it (against the local issuer's browser
    endpoints): the code is single-use and bound to the verifier, client and redirect URI; the access token
    it yields is accepted, and a refresh token gives another."""
    callback = "http://orchestra.test/auth/callback"
    oidc_issuer.desk = SignInDesk(oidc_issuer, {"orchestra-web": {callback}}, {"preferred_username": "bob"})
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    endpoints = httpx.get(f"{oidc_issuer.issuer}/.well-known/openid-configuration").json()
    ask = {
        "response_type": "code",
        "client_id": "orchestra-web",
        "redirect_uri": callback,
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "openid",
    }

    def code() -> str:
        answer = httpx.get(endpoints["authorization_endpoint"], params=ask)
        assert answer.status_code == 302
        back = parse_qs(urlsplit(answer.headers["location"]).query)
        assert back["state"] == ["s1"]
        return back["code"][0]

    assert (
        httpx.get(
            endpoints["authorization_endpoint"], params={**ask, "redirect_uri": "http://evil.test/"}
        ).status_code
        == 400
    )
    no_pkce = httpx.get(endpoints["authorization_endpoint"], params={**ask, "code_challenge_method": "plain"})
    assert "error=invalid_request" in no_pkce.headers["location"]

    exchange = {"grant_type": "authorization_code", "client_id": "orchestra-web", "redirect_uri": callback}
    wrong = httpx.post(
        endpoints["token_endpoint"], data={**exchange, "code": code(), "code_verifier": "w" * 64}
    )
    assert wrong.status_code == 400
    given = code()
    tokens = httpx.post(
        endpoints["token_endpoint"], data={**exchange, "code": given, "code_verifier": verifier}
    )
    assert tokens.status_code == 200, tokens.text
    again = httpx.post(
        endpoints["token_endpoint"], data={**exchange, "code": given, "code_verifier": verifier}
    )
    assert again.status_code == 400  # a code is used once

    me = await oidc_api.get("/me", headers=bearer(tokens.json()["access_token"]))
    assert me.status_code == 200, me.text
    assert (me.json()["name"], me.json()["kind"]) == ("bob", "oidc")
    renewed = httpx.post(
        endpoints["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "client_id": "orchestra-web",
            "refresh_token": tokens.json()["refresh_token"],
        },
    )
    assert renewed.status_code == 200
    assert (await oidc_api.get("/me", headers=bearer(renewed.json()["access_token"]))).status_code == 200
