"""A real OpenID Connect issuer on 127.0.0.1 for tests: real RSA and EC keys, a discovery document and a
JWKS served over HTTP, and Keycloak-shaped access tokens signed with those keys.

It is a plain ``http.server`` in a background thread (HTTP/1.0, one connection per request), so nothing is
mocked between the verifier and the wire: discovery, JWKS fetches, refused connections and slow answers are
all real. It counts the requests it serves so tests can assert how often keys were fetched.

    from tests.integration.oidc_issuer import LocalIssuer, oidc_issuer_fixture  # noqa: F401  (the fixture)

    async def test_something(oidc_issuer: LocalIssuer) -> None:
        token = oidc_issuer.issue(tenant="acme", resource_access={"orchestra": {"roles": ["admin"]}})
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

if TYPE_CHECKING:
    from tests.integration.oidc_sign_in import SignInDesk

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

REALM_PATH = "/realms/orchestra"
AUTH_PATH = "/protocol/openid-connect/auth"
TOKEN_PATH = "/protocol/openid-connect/token"
LOGOUT_PATH = "/protocol/openid-connect/logout"
CLIENT = "orchestra"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS from parts, without any checks: for hand-crafted (forged) tokens."""
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.{b64url(signature)}"


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token made by hand — PyJWT refuses to use a PEM public key as an HMAC secret, on purpose."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    issuer: LocalIssuer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a test's timeout) is expected; keep stderr quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        issuer = self.server.issuer
        path, _, query = self.path.partition("?")
        if path == f"{REALM_PATH}/.well-known/openid-configuration":
            issuer._count("discovery")
            body: Any = issuer.discovery_document()
        elif path == f"{REALM_PATH}/jwks":
            issuer._count("jwks")
            body = issuer.jwks()
        elif issuer.desk is not None and path == f"{REALM_PATH}{AUTH_PATH}":
            self._answer(*issuer.desk.authorize(_single_values(query)))
            return
        elif issuer.desk is not None and path == f"{REALM_PATH}{LOGOUT_PATH}":
            self._answer(*issuer.desk.sign_out(_single_values(query)))
            return
        else:
            self.send_error(404)
            return
        if issuer.delay_s:
            issuer._released.wait(issuer.delay_s)
        self._answer(issuer.status, {}, body)

    def do_POST(self) -> None:
        issuer = self.server.issuer
        if issuer.desk is None or self.path != f"{REALM_PATH}{TOKEN_PATH}":
            self.send_error(404)
            return
        length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
        form = _single_values(self.rfile.read(length).decode())
        self._answer(*issuer.desk.token(form))

    def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")  # Keycloak's webOrigins "+": the SPA may read it
        for name, value in headers.items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _single_values(query: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}


class LocalIssuer:
    """An issuer at ``http://127.0.0.1:<free port>/realms/orchestra`` with one RSA (2048) and one EC (P-256)
    key to start with. ``issue()`` signs with the newest key of the algorithm's family; ``rotate()`` adds a
    key (the old ones stay published until ``remove_key``)."""

    def __init__(self, *, publish_alg: bool = True) -> None:
        self.publish_alg = publish_alg  # put "alg" into each JWK, as Keycloak does
        self.delay_s = 0.0  # answer this late (a slow or hanging issuer)
        self.status = 200  # answer with this status
        self.discovery_overrides: dict[str, Any] = {}
        self.desk: SignInDesk | None = None  # the browser endpoints (authorization, token, sign-out), if set
        self.requests: dict[str, int] = {"discovery": 0, "jwks": 0}
        self._keys: dict[str, PrivateKey] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # The first two keys are generated once per test session (RSA generation takes a while); each
        # issuer still gives them its own kids. ``rotate`` always makes a fresh key.
        self.rsa_kid = self._add(_first_key("RSA"))
        self.ec_kid = self._add(_first_key("EC"))

    # -- serving ---------------------------------------------------------------------------------------

    def start(self) -> LocalIssuer:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.issuer = self
        self._released.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="oidc-issuer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: further connections are refused. Idempotent."""
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the issuer is not started")
        return int(self._server.server_address[1])

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}{REALM_PATH}"

    @property
    def jwks_requests(self) -> int:
        with self._lock:
            return self.requests["jwks"]

    def _count(self, what: str) -> None:
        with self._lock:
            self.requests[what] += 1

    def discovery_document(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}{AUTH_PATH}",
            "token_endpoint": f"{base}{TOKEN_PATH}",
            "end_session_endpoint": f"{base}{LOGOUT_PATH}",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "jwks_uri": f"{base}/jwks",
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            **self.discovery_overrides,
        }

    # -- keys ------------------------------------------------------------------------------------------

    def rotate(self, kty: str = "RSA") -> str:
        """Add a new signing key of this type ("RSA" or "EC"); it becomes the one ``issue`` uses."""
        return self._add(_generate(kty))

    def _add(self, key: PrivateKey) -> str:
        kid = f"{_kty(key).lower()}-{uuid.uuid4().hex[:12]}"
        with self._lock:
            self._keys[kid] = key
        return kid

    def remove_key(self, kid: str) -> None:
        with self._lock:
            del self._keys[kid]

    def private_key(self, kid: str) -> PrivateKey:
        return self._keys[kid]

    def public_pem(self, kid: str) -> bytes:
        return (
            self._keys[kid]
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )

    def current_kid(self, kty: str) -> str:
        with self._lock:
            return [kid for kid, key in self._keys.items() if _kty(key) == kty][-1]

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            keys = list(self._keys.items())
        published = []
        for kid, key in keys:
            if isinstance(key, rsa.RSAPrivateKey):
                jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
                alg = "RS256"
            else:
                jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
                alg = "ES256"
            jwk.update({"kid": kid, "use": "sig"})
            if self.publish_alg:
                jwk["alg"] = alg
            published.append(jwk)
        # Keycloak also publishes an encryption key (RSA-OAEP); a verifier must not take it for a signing key.
        rsa_keys = [key for _, key in keys if isinstance(key, rsa.RSAPrivateKey)]
        if rsa_keys:
            encryption = RSAAlgorithm.to_jwk(rsa_keys[0].public_key(), as_dict=True)
            encryption.update({"kid": "enc-1", "use": "enc", "alg": "RSA-OAEP"})
            published.append(encryption)
        return {"keys": published}

    # -- tokens ----------------------------------------------------------------------------------------

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """The claims of a Keycloak access token for user alice of tenant acme, editor on client
        ``orchestra``; an override replaces a claim, ``None`` removes it."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "exp": now + 300,
            "iat": now,
            "nbf": now,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "aud": ["account"],
            "sub": "5f0c8e7a-2b1d-4c3e-9f4a-6b7c8d9e0f1a",
            "typ": "Bearer",
            "azp": CLIENT,
            "scope": "openid profile email",
            "preferred_username": "alice",
            "email": "alice@acme.example",
            "realm_access": {"roles": ["default-roles-orchestra", "offline_access", "uma_authorization"]},
            "resource_access": {
                CLIENT: {"roles": ["editor"]},
                "account": {"roles": ["manage-account", "view-profile"]},
            },
            "tenant": "acme",
        }
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def issue(
        self,
        *,
        alg: str = "RS256",
        kid: str | None = None,
        headers: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """A signed access token. ``alg``: RS*/PS* sign with an RSA key, ES256 with the EC key; ``kid``
        names the key (one of ours signs with it; any other value goes into the header while the newest
        key of the family signs — an unknown key id); ``headers`` adds header fields; ``overrides`` change
        claims (see :meth:`claims`)."""
        family = "EC" if alg.startswith("ES") else "RSA"
        if kid is None:
            kid = self.current_kid(family)
        key = self._keys.get(kid) or self._keys[self.current_kid(family)]
        return jwt.encode(
            self.claims(**overrides), key, algorithm=alg, headers={"kid": kid, **(headers or {})}
        )


def _generate(kty: str) -> PrivateKey:
    if kty == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kty == "EC":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unsupported key type {kty!r} (RSA or EC)")


@functools.cache
def _first_key(kty: str) -> PrivateKey:
    return _generate(kty)


def _kty(key: PrivateKey) -> str:
    return "RSA" if isinstance(key, rsa.RSAPrivateKey) else "EC"


@pytest.fixture(name="oidc_issuer")
def oidc_issuer_fixture() -> Iterator[LocalIssuer]:
    """A started :class:`LocalIssuer` (fresh request counters and kids for each test), as ``oidc_issuer``."""
    issuer = LocalIssuer().start()
    try:
        yield issuer
    finally:
        issuer.stop()


# Importing the fixture under its own name works too, but then every test taking it as a parameter
# redefines the import (ruff F811); import ``oidc_issuer_fixture`` instead.
oidc_issuer = oidc_issuer_fixture
