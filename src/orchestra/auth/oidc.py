"""OpenID Connect access tokens (Keycloak): verified against the issuer's published keys and turned into an
:class:`Identity` — who, in which tenant, with which Orchestra roles.

Orchestra is only a resource server here: it never sees a password and never talks to the issuer for a
single token. It discovers the issuer's JWKS once (``{issuer}/.well-known/openid-configuration``), keeps the
keys by ``kid``, and lets PyJWT check signature and time claims. What this module adds is what PyJWT leaves
to its caller:

- The algorithm is never the token's choice alone: it must be asymmetric, allowed, and fit the key's type
  (and the key's ``alg``), so ``none`` and HS256-with-the-public-key-as-secret are refused before any key
  is touched.
- An unknown ``kid`` (a rotated key) refetches the JWKS, at most once per ``oidc_jwks_refresh_s``, with
  concurrent callers sharing one fetch — a stream of forged kids cannot make Orchestra hammer the issuer.
- Keycloak's shapes: the audience may be in ``aud`` or only in ``azp``; roles are client roles
  ``resource_access.<client>.roles`` or realm roles prefixed ``orchestra-``; the tenant is a claim.
- An issuer that cannot be reached is :class:`IssuerUnavailable` (the API answers 503), never a hang and
  never "invalid token": the caller's token may well be good.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import structlog
from jwt.exceptions import InvalidSubjectError

from orchestra.config import Settings

log = structlog.get_logger(__name__)

MAX_TOKEN_CHARS = 16_384
# A discovery document or JWKS larger than this is not one (Keycloak's are a few KiB).
MAX_DOCUMENT_BYTES = 1_048_576
TIMEOUT_S = 5.0
# Keys are refetched when older than this, so a key the issuer withdrew stops being accepted.
MAX_KEY_AGE_S = 600.0

ROLES = frozenset({"viewer", "editor", "admin"})
PLATFORM_ADMIN = "platform-admin"
REALM_ROLE_PREFIX = "orchestra-"

_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_OKP_CURVES = frozenset({"Ed25519", "Ed448"})
ALGORITHMS = _RSA_ALGORITHMS | frozenset(_EC_ALGORITHMS.values()) | {"EdDSA"}

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+={0,2}")
TENANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_TENANT_CHARS = 100
_ACCESS_TOKEN_HEADER_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})


class InvalidToken(Exception):
    """The token is not acceptable; ``str(error)`` is a short reason safe to show to the caller."""


class IssuerUnavailable(Exception):
    """The issuer's discovery document or keys could not be fetched (or are not usable)."""


@dataclass(frozen=True)
class Identity:
    subject: str
    # preferred_username, else email, else sub.
    username: str
    tenant: str
    # A subset of {"viewer", "editor", "admin"}; empty when the account has no Orchestra role.
    roles: frozenset[str]
    platform_admin: bool


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


def _fits(jwk: dict[str, Any], algorithm: str) -> bool:
    """Whether a token signed with ``algorithm`` may be verified with this key (type, curve and ``alg``)."""
    declared = jwk.get("alg")
    if declared is not None and declared != algorithm:
        return False
    kty = jwk.get("kty")
    if kty == "RSA":
        return algorithm in _RSA_ALGORITHMS
    if kty == "EC":
        return _EC_ALGORITHMS.get(str(jwk.get("crv"))) == algorithm
    if kty == "OKP":
        return algorithm == "EdDSA" and jwk.get("crv") in _OKP_CURVES
    return False  # "oct" (symmetric) keys and anything else: never


def _usable_key(jwk: Any) -> tuple[str, jwt.PyJWK] | None:
    """The key's id and a parsed key for one algorithm it fits, or None when Orchestra cannot use it."""
    if not isinstance(jwk, dict):
        return None
    kid = jwk.get("kid")
    # No id, an encryption key (Keycloak publishes one), or a private key published by mistake.
    if not isinstance(kid, str) or not kid or jwk.get("use", "sig") != "sig" or "d" in jwk:
        return None
    algorithm = next((name for name in sorted(ALGORITHMS) if _fits(jwk, name)), None)
    if algorithm is None:
        return None
    try:
        key = jwt.PyJWK(jwk, algorithm)
    except jwt.PyJWTError:
        return None
    if key.Algorithm.check_key_length(key.key) is not None:
        return None  # e.g. RSA below 2048 bits
    return kid, key


def _claim_path(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def roles_of(claims: dict[str, Any], client_id: str) -> tuple[frozenset[str], bool]:
    """Orchestra roles and the platform-admin flag, from client roles (plain names) and realm roles
    (prefixed ``orchestra-``). Other roles are ignored."""
    names: set[str] = set()
    resource_access = claims.get("resource_access")
    if isinstance(resource_access, dict):
        client = resource_access.get(client_id)
        if isinstance(client, dict):
            names.update(_strings(client.get("roles")))
    realm_access = claims.get("realm_access")
    if isinstance(realm_access, dict):
        for role in _strings(realm_access.get("roles")):
            if role.startswith(REALM_ROLE_PREFIX):
                names.add(role.removeprefix(REALM_ROLE_PREFIX))
    return frozenset(names & ROLES), PLATFORM_ADMIN in names


def _map_error(error: jwt.PyJWTError) -> InvalidToken:
    """PyJWT's exception, as a short reason (PyJWT's own messages may quote token content)."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return InvalidToken("token expired")
    if isinstance(error, jwt.ImmatureSignatureError):
        return InvalidToken("token not yet valid")
    if isinstance(error, jwt.InvalidIssuerError):
        return InvalidToken("wrong issuer")
    if isinstance(error, jwt.MissingRequiredClaimError):
        return InvalidToken(f"missing {error.claim} claim")
    if isinstance(error, jwt.InvalidAlgorithmError):
        return InvalidToken("algorithm not allowed")
    if isinstance(error, jwt.InvalidSignatureError):
        return InvalidToken("invalid signature")
    if isinstance(error, jwt.InvalidIssuedAtError):
        return InvalidToken("invalid iat claim")
    if isinstance(error, InvalidSubjectError):
        return InvalidToken("invalid sub claim")
    if isinstance(error, jwt.DecodeError):
        return InvalidToken("malformed token")
    return InvalidToken("invalid token")


class OidcVerifier:
    """Verifies access tokens of one issuer. Build it from :class:`Settings`, or pass the values (an
    explicit argument wins over the setting). ``http`` is used as is and left open; without it the verifier
    owns a client and :meth:`aclose` closes it."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        client_id: str | None = None,
        tenant_claim: str | None = None,
        leeway_s: float | None = None,
        jwks_refresh_s: float | None = None,
        max_key_age_s: float = MAX_KEY_AGE_S,
        timeout_s: float = TIMEOUT_S,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        def pick(explicit: Any, name: str) -> Any:
            if explicit is not None:
                return explicit
            return getattr(settings, name) if settings is not None else _default(name)

        configured = pick(issuer, "oidc_issuer")
        if not isinstance(configured, str) or urlsplit(configured).scheme not in ("http", "https"):
            raise ValueError("an OpenID Connect issuer URL (http or https) is required")
        self.issuer: str = configured.rstrip("/")
        self.audience: str = pick(audience, "oidc_audience")
        self.client_id: str = pick(client_id, "oidc_client_id") or self.audience
        self.tenant_claim: str = pick(tenant_claim, "oidc_tenant_claim")
        if not self.tenant_claim or "" in self.tenant_claim.split("."):
            raise ValueError(f"invalid tenant claim path {self.tenant_claim!r}")
        self.leeway_s: float = float(pick(leeway_s, "oidc_leeway_s"))
        self.jwks_refresh_s: float = float(pick(jwks_refresh_s, "oidc_jwks_refresh_s"))
        self.max_key_age_s = max_key_age_s
        self.timeout_s = timeout_s
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._lock = asyncio.Lock()
        # The issuer exactly as the discovery document names it; tokens must carry this ``iss``.
        self._discovered_issuer: str | None = None
        self._jwks_uri: str | None = None
        self._keys: dict[str, dict[str, Any]] | None = None
        self._parsed: dict[tuple[str, str], jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._failed_at: float | None = None
        self._last_failure = ""
        self._refetched_at: float | None = None  # last fetch caused by an unknown kid
        self._generation = 0  # fetch attempts so far: a caller that waited on the lock sees one happened

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def verify(self, token: str) -> Identity:
        """The identity an access token proves; :class:`InvalidToken` with a reason when it proves none,
        :class:`IssuerUnavailable` when its keys cannot be fetched."""
        header = self._header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
            raise InvalidToken("algorithm not allowed")
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in _ACCESS_TOKEN_HEADER_TYPES):
            raise InvalidToken("not an access token")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("missing key id")
        key = await self._key(kid, algorithm)
        if self._discovered_issuer is None:  # cannot happen: keys come from discovery; never skip the check
            raise IssuerUnavailable("the issuer has not been discovered")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._discovered_issuer,
                leeway=self.leeway_s,
                options={
                    "require": ["exp", "iss", "sub"],
                    "verify_aud": False,  # aud or azp, checked below
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWTError as error:
            raise _map_error(error) from None
        return self._identity(claims)

    def _header(self, token: str) -> dict[str, Any]:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("malformed token")
        parts = token.split(".")
        # An empty signature is well-formed (alg "none"): it is refused for its algorithm, below.
        if len(parts) != 3 or not all(_SEGMENT.fullmatch(part) for part in (*parts[:2], parts[2] or "e")):
            raise InvalidToken("malformed token")
        try:
            return jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None

    def _identity(self, claims: dict[str, Any]) -> Identity:
        typ = claims.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() != "bearer"):
            raise InvalidToken("not an access token")  # a Keycloak ID token ("ID") names the client as aud
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else _strings(aud)
        if self.audience not in audiences and claims.get("azp") != self.audience:
            raise InvalidToken("wrong audience")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("invalid sub claim")
        tenant = _claim_path(claims, self.tenant_claim)
        if tenant is None or tenant == "":
            raise InvalidToken("missing tenant claim")
        if (
            not isinstance(tenant, str)
            or len(tenant) > MAX_TENANT_CHARS
            or not TENANT_PATTERN.fullmatch(tenant)
        ):
            raise InvalidToken("invalid tenant claim")
        username = next(
            (
                value
                for value in (claims.get("preferred_username"), claims.get("email"))
                if isinstance(value, str) and value
            ),
            subject,
        )
        roles, platform_admin = roles_of(claims, self.client_id)
        return Identity(
            subject=subject, username=username, tenant=tenant, roles=roles, platform_admin=platform_admin
        )

    async def _key(self, kid: str, algorithm: str) -> jwt.PyJWK:
        keys = await self._current_keys()
        if kid not in keys:
            await self._refetch_for_unknown_kid()
            keys = self._keys or {}
        jwk = keys.get(kid)
        if jwk is None:
            raise InvalidToken("unknown signing key")
        if not _fits(jwk, algorithm):
            raise InvalidToken("algorithm not allowed")
        parsed = self._parsed.get((kid, algorithm))
        if parsed is None:
            try:
                parsed = jwt.PyJWK(jwk, algorithm)
            except jwt.PyJWTError:
                raise InvalidToken("unknown signing key") from None
            self._parsed[(kid, algorithm)] = parsed
        return parsed

    async def _current_keys(self) -> dict[str, dict[str, Any]]:
        """The cached keys; fetched first when there are none, or when they are older than max_key_age_s
        (then a failed fetch keeps the old keys and is retried after jwks_refresh_s)."""
        now = time.monotonic()
        if self._keys is not None and not self._stale(now):
            return self._keys
        seen = self._generation
        async with self._lock:
            if self._generation == seen and (self._keys is None or self._stale(time.monotonic())):
                try:
                    await self._fetch()
                except IssuerUnavailable:
                    if self._keys is None:
                        raise
                    log.warning("oidc.jwks_refresh_failed", issuer=self.issuer, reason=self._last_failure)
            if self._keys is None:
                raise IssuerUnavailable(self._last_failure or "the issuer's keys could not be fetched")
            return self._keys

    def _stale(self, now: float) -> bool:
        if now - self._fetched_at < self.max_key_age_s:
            return False
        return self._failed_at is None or now - self._failed_at >= self.jwks_refresh_s

    async def _refetch_for_unknown_kid(self) -> None:
        seen = self._generation
        async with self._lock:
            if self._generation != seen:
                return  # fetched while this caller waited: the caller looks again
            now = time.monotonic()
            if self._refetched_at is not None and now - self._refetched_at < self.jwks_refresh_s:
                return
            self._refetched_at = now
            await self._fetch()

    async def _fetch(self) -> None:
        """Discovery (once) and the JWKS; replaces the cached keys. Called with the lock held."""
        self._generation += 1
        try:
            jwks_uri = self._jwks_uri or await self._discover()
            document = await self._get_json(jwks_uri)
        except IssuerUnavailable as error:
            self._failed_at = time.monotonic()
            self._last_failure = str(error)
            self._jwks_uri = None  # discover again next time: the issuer may have moved its keys
            raise
        raw_keys = document.get("keys")
        published = raw_keys if isinstance(raw_keys, list) else []
        keys: dict[str, dict[str, Any]] = {}
        parsed: dict[tuple[str, str], jwt.PyJWK] = {}
        for jwk in published:
            usable = _usable_key(jwk)
            if usable is not None:
                kid, key = usable
                keys[kid] = jwk
                parsed[(kid, key.algorithm_name)] = key
        self._keys, self._parsed = keys, parsed
        self._fetched_at = time.monotonic()
        self._failed_at = None
        log.info("oidc.jwks_fetched", issuer=self.issuer, keys=len(keys), published=len(published))

    async def _discover(self) -> str:
        document = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
            raise IssuerUnavailable(f"the discovery document names issuer {issuer!r}, not {self.issuer!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise IssuerUnavailable("the discovery document has no jwks_uri")
        scheme = urlsplit(jwks_uri).scheme
        # An https issuer's keys over plain http could be swapped on the way.
        if scheme not in ("http", "https") or (scheme == "http" and urlsplit(self.issuer).scheme == "https"):
            raise IssuerUnavailable(f"the discovery document's jwks_uri is not usable ({jwks_uri!r})")
        self._discovered_issuer, self._jwks_uri = issuer, jwks_uri
        return jwks_uri

    async def _get_json(self, url: str) -> dict[str, Any]:
        body = bytearray()
        try:
            async with (
                asyncio.timeout(self.timeout_s),
                self._http.stream(
                    "GET", url, headers={"Accept": "application/json"}, timeout=self.timeout_s
                ) as response,
            ):
                if response.status_code != 200:
                    raise IssuerUnavailable(f"{url} answered HTTP {response.status_code}")
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise IssuerUnavailable(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
        except (TimeoutError, httpx.TimeoutException):
            raise IssuerUnavailable(f"{url} did not answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as error:
            raise IssuerUnavailable(f"{url} is unreachable ({type(error).__name__})") from error
        try:
            document = json.loads(body)
        except ValueError:
            raise IssuerUnavailable(f"{url} did not answer JSON") from None
        if not isinstance(document, dict):
            raise IssuerUnavailable(f"{url} did not answer a JSON object")
        return document
