"""OidcVerifier against a real local issuer over HTTP: valid Keycloak-shaped tokens, every refusal with its
reason, the JWKS refetch rate limit, key rotation, and an unreachable issuer."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest

from orchestra.auth.oidc import (
    MAX_TENANT_CHARS,
    PLATFORM_ADMIN,
    ROLES,
    TENANT_PATTERN,
    Identity,
    InvalidToken,
    IssuerUnavailable,
    OidcVerifier,
)
from orchestra.config import Settings
from tests.integration.oidc_issuer import LocalIssuer, b64url, compact, hs256, oidc_issuer_fixture  # noqa: F401


@pytest.fixture
async def verifier(oidc_issuer: LocalIssuer) -> AsyncIterator[OidcVerifier]:
    verifier = OidcVerifier(issuer=oidc_issuer.issuer, leeway_s=30, jwks_refresh_s=30)
    try:
        yield verifier
    finally:
        await verifier.aclose()


async def rejected(verifier: OidcVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    return str(caught.value)


# -- valid tokens ------------------------------------------------------------------------------------


async def test_rs256_token_is_an_identity(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    identity = await verifier.verify(oidc_issuer.issue())
    assert identity == Identity(
        subject="5f0c8e7a-2b1d-4c3e-9f4a-6b7c8d9e0f1a",
        username="alice",
        tenant="acme",
        roles=frozenset({"editor"}),
        platform_admin=False,
    )


async def test_es256_token_is_an_identity(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    token = oidc_issuer.issue(alg="ES256", preferred_username="bob", tenant="globex.eu_1-a")
    assert jwt.get_unverified_header(token)["kid"] == oidc_issuer.ec_kid
    identity = await verifier.verify(token)
    assert (identity.username, identity.tenant, identity.roles) == (
        "bob",
        "globex.eu_1-a",
        frozenset({"editor"}),
    )


async def test_settings_build_the_verifier(oidc_issuer: LocalIssuer) -> None:
    settings = Settings(oidc_issuer=oidc_issuer.issuer + "/", oidc_client_id="orchestra-api")
    verifier = OidcVerifier(settings)
    try:
        assert (verifier.audience, verifier.client_id, verifier.tenant_claim) == (
            "orchestra",
            "orchestra-api",
            "tenant",
        )
        token = oidc_issuer.issue(resource_access={"orchestra-api": {"roles": ["admin"]}})
        assert (await verifier.verify(token)).roles == {"admin"}  # issuer given with a trailing slash
    finally:
        await verifier.aclose()


async def test_client_roles_count_and_unknown_roles_are_ignored(
    oidc_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    resource_access = {
        "orchestra": {"roles": ["viewer", "editor", "superuser", 7]},
        "other-client": {"roles": ["admin", "platform-admin"]},
    }
    identity = await verifier.verify(oidc_issuer.issue(resource_access=resource_access))
    assert identity.roles == {"viewer", "editor"}
    assert identity.platform_admin is False


async def test_prefixed_realm_roles_count(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    realm_access = {
        "roles": ["orchestra-admin", "orchestra-platform-admin", "admin", "orchestra-root", "offline_access"]
    }
    token = oidc_issuer.issue(realm_access=realm_access, resource_access=None)
    identity = await verifier.verify(token)
    assert identity.roles == {"admin"}  # the unprefixed realm role "admin" is not Orchestra's
    assert identity.platform_admin is True


async def test_platform_admin_client_role(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    token = oidc_issuer.issue(resource_access={"orchestra": {"roles": ["platform-admin"]}})
    identity = await verifier.verify(token)
    assert (identity.roles, identity.platform_admin) == (frozenset(), True)


async def test_no_orchestra_role_is_still_an_identity(
    oidc_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    identity = await verifier.verify(oidc_issuer.issue(resource_access=None, realm_access=None))
    assert identity.roles == frozenset()
    assert identity.platform_admin is False


async def test_audience_in_aud_or_only_in_azp(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    assert (await verifier.verify(oidc_issuer.issue(aud=["account"], azp="orchestra"))).tenant == "acme"
    assert (await verifier.verify(oidc_issuer.issue(aud=None, azp="orchestra"))).tenant == "acme"
    assert (await verifier.verify(oidc_issuer.issue(aud="orchestra", azp="orchestra-cli"))).tenant == "acme"
    assert (await verifier.verify(oidc_issuer.issue(aud=["account", "orchestra"], azp=None))).tenant == "acme"


async def test_username_falls_back_to_email_then_subject(
    oidc_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    assert (
        await verifier.verify(oidc_issuer.issue(preferred_username=None))
    ).username == "alice@acme.example"
    token = oidc_issuer.issue(preferred_username=None, email=None, sub="svc-42")
    assert (await verifier.verify(token)).username == "svc-42"


async def test_nested_tenant_claim(oidc_issuer: LocalIssuer) -> None:
    verifier = OidcVerifier(issuer=oidc_issuer.issuer, tenant_claim="org.id")
    try:
        identity = await verifier.verify(oidc_issuer.issue(tenant=None, org={"id": "initech"}))
        assert identity.tenant == "initech"
        assert await rejected(verifier, oidc_issuer.issue(org={"name": "initech"})) == "missing tenant claim"
        assert await rejected(verifier, oidc_issuer.issue(org="initech")) == "missing tenant claim"
    finally:
        await verifier.aclose()


# -- time ---------------------------------------------------------------------------------------------


async def test_expired_token(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    now = int(time.time())
    token = oidc_issuer.issue(iat=now - 400, nbf=now - 400, exp=now - 100)
    assert await rejected(verifier, token) == "token expired"


async def test_leeway_accepts_a_token_expired_moments_ago(oidc_issuer: LocalIssuer) -> None:
    token = oidc_issuer.issue(exp=int(time.time()) - 10)
    lenient = OidcVerifier(issuer=oidc_issuer.issuer, leeway_s=30)
    strict = OidcVerifier(issuer=oidc_issuer.issuer, leeway_s=0)
    try:
        assert (await lenient.verify(token)).username == "alice"
        assert await rejected(strict, token) == "token expired"
    finally:
        await lenient.aclose()
        await strict.aclose()


async def test_not_yet_valid_token(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    now = int(time.time())
    assert await rejected(verifier, oidc_issuer.issue(nbf=now + 120)) == "token not yet valid"
    assert await rejected(verifier, oidc_issuer.issue(iat=now + 120)) == "token not yet valid"
    assert (await verifier.verify(oidc_issuer.issue(nbf=now + 10, iat=now + 10))).tenant == "acme"


async def test_exp_is_required(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    assert await rejected(verifier, oidc_issuer.issue(exp=None)) == "missing exp claim"
    assert await rejected(verifier, oidc_issuer.issue(sub=None)) == "missing sub claim"


# -- who issued it, for whom ------------------------------------------------------------------------


async def test_wrong_issuer(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    assert await rejected(verifier, oidc_issuer.issue(iss="https://evil.example/realms/orchestra")) == (
        "wrong issuer"
    )
    assert await rejected(verifier, oidc_issuer.issue(iss=oidc_issuer.issuer + "/other")) == "wrong issuer"
    assert await rejected(verifier, oidc_issuer.issue(iss=None)) == "missing iss claim"


async def test_wrong_audience_and_wrong_azp(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    assert await rejected(verifier, oidc_issuer.issue(aud=["account"], azp="other-app")) == "wrong audience"
    assert await rejected(verifier, oidc_issuer.issue(aud="orchestrator", azp=None)) == "wrong audience"
    assert await rejected(verifier, oidc_issuer.issue(aud=None, azp=None)) == "wrong audience"


async def test_id_token_is_not_an_access_token(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    token = oidc_issuer.issue(typ="ID", aud="orchestra", azp="orchestra")
    assert await rejected(verifier, token) == "not an access token"


# -- algorithms and keys ----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_is_refused(oidc_issuer: LocalIssuer, verifier: OidcVerifier, alg: str) -> None:
    token = compact({"alg": alg, "typ": "JWT", "kid": oidc_issuer.rsa_kid}, oidc_issuer.claims())
    assert token.endswith(".")
    assert await rejected(verifier, token) == "algorithm not allowed"


async def test_hs256_with_the_public_key_as_secret_is_refused(
    oidc_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    """The key-confusion attack: HMAC keyed with the RSA public key everyone can download."""
    header = {"alg": "HS256", "typ": "JWT", "kid": oidc_issuer.rsa_kid}
    for secret in (oidc_issuer.public_pem(oidc_issuer.rsa_kid), b"orchestra"):
        assert (
            await rejected(verifier, hs256(header, oidc_issuer.claims(), secret)) == "algorithm not allowed"
        )
    assert oidc_issuer.jwks_requests == 0  # refused before any key was needed


async def test_algorithm_must_fit_the_key(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    claims = oidc_issuer.claims()
    # An EC signature presented under the RSA key's id.
    token = jwt.encode(
        claims,
        oidc_issuer.private_key(oidc_issuer.ec_kid),
        algorithm="ES256",
        headers={"kid": oidc_issuer.rsa_kid},
    )
    assert await rejected(verifier, token) == "algorithm not allowed"
    # The right RSA key, but the JWK says alg RS256 and the token says PS256.
    assert await rejected(verifier, oidc_issuer.issue(alg="PS256")) == "algorithm not allowed"
    # ES384 is allowed in general but does not fit a P-256 key.
    token = compact({"alg": "ES384", "kid": oidc_issuer.ec_kid}, claims, b"x" * 96)
    assert await rejected(verifier, token) == "algorithm not allowed"


async def test_jwk_without_alg_accepts_any_rsa_algorithm(oidc_issuer: LocalIssuer) -> None:
    oidc_issuer.publish_alg = False
    verifier = OidcVerifier(issuer=oidc_issuer.issuer)
    try:
        for alg in ("RS256", "RS512", "PS256", "PS384"):
            assert (await verifier.verify(oidc_issuer.issue(alg=alg))).username == "alice"
        assert (await verifier.verify(oidc_issuer.issue(alg="ES256"))).username == "alice"
    finally:
        await verifier.aclose()


async def test_tampered_payload(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    header, _, signature = oidc_issuer.issue().split(".")
    claims = oidc_issuer.claims(tenant="globex", resource_access={"orchestra": {"roles": ["admin"]}})
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
    assert await rejected(verifier, forged) == "invalid signature"


async def test_unknown_kid_refetches_at_most_once_per_interval(
    oidc_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    await verifier.verify(oidc_issuer.issue())
    assert oidc_issuer.jwks_requests == 1
    for n in range(5):
        assert await rejected(verifier, oidc_issuer.issue(kid=f"forged-{n}")) == "unknown signing key"
    assert oidc_issuer.jwks_requests == 2  # one refetch for five unknown kids within 30 s
    # The encryption key Keycloak publishes is not a signing key.
    assert await rejected(verifier, oidc_issuer.issue(kid="enc-1")) == "unknown signing key"
    assert oidc_issuer.jwks_requests == 2


async def test_concurrent_unknown_kids_share_one_fetch(
    oidc_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    await verifier.verify(oidc_issuer.issue())
    oidc_issuer.delay_s = 0.2  # the refetch is in flight while the others arrive
    results = await asyncio.gather(
        *(verifier.verify(oidc_issuer.issue(kid=f"forged-{n}")) for n in range(20)), return_exceptions=True
    )
    assert all(isinstance(result, InvalidToken) for result in results), results
    assert oidc_issuer.jwks_requests == 2


async def test_refetch_allowed_again_after_the_interval(oidc_issuer: LocalIssuer) -> None:
    verifier = OidcVerifier(issuer=oidc_issuer.issuer, jwks_refresh_s=0.5)
    forged = oidc_issuer.issue(kid="forged")
    try:
        await verifier.verify(oidc_issuer.issue())
        for _ in range(3):
            await rejected(verifier, forged)
        assert oidc_issuer.jwks_requests == 2
        await asyncio.sleep(0.55)
        for _ in range(3):
            await rejected(verifier, forged)
        assert oidc_issuer.jwks_requests == 3
    finally:
        await verifier.aclose()


async def test_rotated_key_is_accepted_after_one_refetch(
    oidc_issuer: LocalIssuer, verifier: OidcVerifier
) -> None:
    await verifier.verify(oidc_issuer.issue())
    assert oidc_issuer.jwks_requests == 1
    new_kid = oidc_issuer.rotate("RSA")
    token = oidc_issuer.issue()
    assert jwt.get_unverified_header(token)["kid"] == new_kid
    assert (await verifier.verify(token)).username == "alice"
    assert (await verifier.verify(oidc_issuer.issue())).username == "alice"
    assert (await verifier.verify(oidc_issuer.issue(kid=oidc_issuer.rsa_kid))).username == "alice"  # old key
    assert oidc_issuer.jwks_requests == 2


async def test_withdrawn_key_stops_being_accepted(oidc_issuer: LocalIssuer) -> None:
    verifier = OidcVerifier(issuer=oidc_issuer.issuer, max_key_age_s=0.2)
    try:
        old = oidc_issuer.issue()
        await verifier.verify(old)
        oidc_issuer.rotate("RSA")
        oidc_issuer.remove_key(oidc_issuer.rsa_kid)
        await asyncio.sleep(0.25)
        assert await rejected(verifier, old) == "unknown signing key"
        assert (await verifier.verify(oidc_issuer.issue())).username == "alice"
    finally:
        await verifier.aclose()


async def test_stale_keys_are_kept_while_the_issuer_is_down(oidc_issuer: LocalIssuer) -> None:
    verifier = OidcVerifier(issuer=oidc_issuer.issuer, max_key_age_s=0.1)
    try:
        token = oidc_issuer.issue()
        await verifier.verify(token)
        oidc_issuer.status = 500
        await asyncio.sleep(0.15)
        assert (await verifier.verify(token)).username == "alice"
    finally:
        await verifier.aclose()


async def test_missing_kid(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    token = jwt.encode(oidc_issuer.claims(), oidc_issuer.private_key(oidc_issuer.rsa_kid), algorithm="RS256")
    assert await rejected(verifier, token) == "missing key id"


# -- tenant ---------------------------------------------------------------------------------------------


async def test_missing_tenant_claim(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    assert await rejected(verifier, oidc_issuer.issue(tenant=None)) == "missing tenant claim"
    assert await rejected(verifier, oidc_issuer.issue(tenant="")) == "missing tenant claim"


@pytest.mark.parametrize(
    "tenant", ["acme corp", "-acme", ".acme", "acme\n", "a" * 101, "ac/me", 42, ["acme"], {}]
)
async def test_invalid_tenant_claim(oidc_issuer: LocalIssuer, verifier: OidcVerifier, tenant: object) -> None:
    assert await rejected(verifier, oidc_issuer.issue(tenant=tenant)) == "invalid tenant claim"


async def test_longest_tenant_is_accepted(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    assert (await verifier.verify(oidc_issuer.issue(tenant="a" * 100))).tenant == "a" * 100


# -- shape ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "a..c",
        ".b.c",
        "a.b!.c",
        "a.b.c d",
        "é.b.c",
        "e30.e30.e30",
        "bm90IGpzb24.e30.e30",
    ],
)
async def test_malformed_token(oidc_issuer: LocalIssuer, verifier: OidcVerifier, token: str) -> None:
    reason = await rejected(verifier, token)
    assert reason in ("malformed token", "algorithm not allowed")  # "e30" is "{}": a header without alg
    if "e30.e30" not in token:
        assert reason == "malformed token"
    assert oidc_issuer.jwks_requests == 0


async def test_oversized_token(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    token = oidc_issuer.issue(padding="x" * 16_384)  # validly signed, just too big
    assert len(token) > 16_384
    assert await rejected(verifier, token) == "malformed token"
    assert oidc_issuer.requests == {"discovery": 0, "jwks": 0}


async def test_payload_that_is_not_an_object(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    header, _, signature = oidc_issuer.issue().split(".")
    token = f"{header}.{base64.urlsafe_b64encode(b'[1]').rstrip(b'=').decode()}.{signature}"
    assert await rejected(verifier, token) in ("malformed token", "invalid signature")


# -- the issuer itself ----------------------------------------------------------------------------------


async def test_issuer_down(oidc_issuer: LocalIssuer) -> None:
    token = oidc_issuer.issue()
    verifier = OidcVerifier(issuer=oidc_issuer.issuer)
    oidc_issuer.stop()
    try:
        with pytest.raises(IssuerUnavailable):
            await verifier.verify(token)
    finally:
        await verifier.aclose()


async def test_issuer_down_during_refetch(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    await verifier.verify(oidc_issuer.issue())
    token = oidc_issuer.issue(kid=oidc_issuer.rotate("RSA"))
    oidc_issuer.stop()
    with pytest.raises(IssuerUnavailable):
        await verifier.verify(token)


async def test_slow_issuer_does_not_hang(oidc_issuer: LocalIssuer) -> None:
    oidc_issuer.delay_s = 10
    verifier = OidcVerifier(issuer=oidc_issuer.issuer, timeout_s=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(IssuerUnavailable, match="did not answer within"):
            await verifier.verify(oidc_issuer.issue())
    finally:
        await verifier.aclose()
    assert time.monotonic() - started < 3


async def test_issuer_answering_errors(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    oidc_issuer.status = 503
    with pytest.raises(IssuerUnavailable, match="HTTP 503"):
        await verifier.verify(oidc_issuer.issue())
    oidc_issuer.status = 200  # recovers: the next token fetches again
    assert (await verifier.verify(oidc_issuer.issue())).username == "alice"


async def test_discovery_naming_another_issuer(oidc_issuer: LocalIssuer, verifier: OidcVerifier) -> None:
    oidc_issuer.discovery_overrides = {"issuer": "https://evil.example/realms/orchestra"}
    with pytest.raises(IssuerUnavailable, match="names issuer"):
        await verifier.verify(oidc_issuer.issue())
    assert oidc_issuer.jwks_requests == 0


async def test_injected_client_is_left_open(oidc_issuer: LocalIssuer) -> None:
    async with httpx.AsyncClient() as http:
        verifier = OidcVerifier(issuer=oidc_issuer.issuer, http=http)
        assert (await verifier.verify(oidc_issuer.issue())).username == "alice"
        await verifier.aclose()
        assert not http.is_closed


def test_an_issuer_is_required() -> None:
    with pytest.raises(ValueError, match="issuer"):
        OidcVerifier(Settings(oidc_issuer=None))
    with pytest.raises(ValueError, match="issuer"):
        OidcVerifier(issuer="keycloak.example/realms/orchestra")


# -- the Keycloak realm shipped in deploy/ --------------------------------------------------------------


def test_shipped_realm_matches_what_the_verifier_reads() -> None:
    """deploy/keycloak/orchestra-realm.json gives tokens the audience, roles and tenant claim that the
    default settings expect, and validates tenants with the verifier's own pattern."""
    path = Path(__file__).resolve().parents[2] / "deploy" / "keycloak" / "orchestra-realm.json"
    realm = json.loads(path.read_text())
    settings = Settings.model_construct()  # the defaults, whatever the environment says
    assert realm["realm"] == "orchestra"
    assert "users" not in realm  # no accounts, no passwords in the repository
    assert "clientScopes" not in realm  # with it, Keycloak would not create its built-in scopes
    clients = {client["clientId"]: client for client in realm["clients"]}
    api, cli = clients[settings.oidc_audience], clients["orchestra-cli"]
    assert (api["publicClient"], api["standardFlowEnabled"], api["directAccessGrantsEnabled"]) == (False,) * 3
    assert (cli["publicClient"], cli["standardFlowEnabled"], cli["directAccessGrantsEnabled"]) == (
        True,
        True,
        False,
    )
    assert cli["attributes"]["oauth2.device.authorization.grant.enabled"] == "true"
    client_roles = {role["name"] for role in realm["roles"]["client"][settings.oidc_audience]}
    assert client_roles == {*ROLES, PLATFORM_ADMIN}
    assert {role["name"] for role in realm["roles"]["realm"]} == {
        f"orchestra-{name}" for name in client_roles
    }
    mappers = {mapper["protocolMapper"]: mapper["config"] for mapper in cli["protocolMappers"]}
    assert mappers["oidc-audience-mapper"]["included.client.audience"] == settings.oidc_audience
    assert mappers["oidc-audience-mapper"]["access.token.claim"] == "true"
    tenant = mappers["oidc-usermodel-attribute-mapper"]
    assert (tenant["user.attribute"], tenant["claim.name"]) == ("tenant", settings.oidc_tenant_claim)
    assert (tenant["access.token.claim"], tenant["jsonType.label"]) == ("true", "String")
    web = clients["orchestra-web"]  # the web application: code + PKCE, back to /auth/callback
    assert (web["publicClient"], web["standardFlowEnabled"]) == (True, True)
    assert (web["implicitFlowEnabled"], web["directAccessGrantsEnabled"]) == (False, False)
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"
    assert all(uri.endswith("/auth/callback") for uri in web["redirectUris"])
    assert web["protocolMappers"] == cli["protocolMappers"]  # the same audience and tenant claim
    for mapping in (realm["scopeMappings"], realm["clientScopeMappings"][settings.oidc_audience]):
        by_client = {item["client"]: set(item["roles"]) for item in mapping}
        assert by_client["orchestra-web"] == by_client["orchestra-cli"]
    groups = {group["name"]: group for group in realm["groups"]}
    assert groups["tenant-acme-editors"]["attributes"] == {"tenant": ["acme"]}
    assert groups["tenant-acme-editors"]["clientRoles"] == {"orchestra": ["editor"]}
    [provider] = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile = json.loads(provider["config"]["kc.user.profile.config"][0])
    [attribute] = [item for item in profile["attributes"] if item["name"] == "tenant"]
    assert attribute["validations"]["pattern"]["pattern"] == f"^{TENANT_PATTERN.pattern}$"
    assert attribute["validations"]["length"]["max"] == MAX_TENANT_CHARS
    assert attribute["permissions"]["edit"] == ["admin"]
