"""The browser half of the local OpenID Connect issuer: authorization code + PKCE, refresh and sign-out,
as Keycloak answers them, so the web application's single sign-on runs for real against it.

The authorization endpoint signs in one configured person at once (Keycloak would show its login form first)
and redirects back with a one-time code; the token endpoint checks the client, the redirect URI and the PKCE
verifier (S256) exactly, and answers with access, refresh and ID tokens signed by the issuer's keys.

From the command line it serves until stopped, printing its issuer URL (the web application's
end-to-end set-up starts it so):

    python -m tests.integration.oidc_sign_in --client orchestra-web \\
        --redirect http://127.0.0.1:8000/auth/callback --tenant default --role admin
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt

from tests.integration.oidc_issuer import CLIENT, LocalIssuer

ACCESS_TOKEN_S = 300


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    nonce: str | None
    expires_at: float


@dataclass
class SignInDesk:
    """Registered public clients (client id -> redirect URIs, sign-out redirects included) and the person
    who signs in (claims for :meth:`LocalIssuer.issue`)."""

    issuer: LocalIssuer
    clients: dict[str, set[str]]
    person: dict[str, Any] = field(default_factory=dict)
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _refresh: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- endpoints: each returns (status, headers, JSON body or None) -----------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        client, redirect = query.get("client_id", ""), query.get("redirect_uri", "")
        if redirect not in self.clients.get(client, set()):
            return (
                400,
                {},
                {"error": "invalid_request", "error_description": "unknown client or redirect_uri"},
            )

        def back(**params: str) -> tuple[int, dict[str, str], Any]:
            state = {"state": query["state"]} if "state" in query else {}
            return 302, {"Location": f"{redirect}?{urlencode({**params, **state})}"}, None

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE (S256) is required")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                client,
                redirect,
                query["code_challenge"],
                query.get("scope", "openid"),
                query.get("nonce"),
                time.time() + 60,
            )
        return back(code=code, iss=self.issuer.issuer)

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        kind = form.get("grant_type")
        with self._lock:
            if kind == "authorization_code":
                grant = self._codes.pop(form.get("code", ""), None)  # a code is used once
                verifier = form.get("code_verifier", "")
                if (
                    grant is None
                    or grant.expires_at < time.time()
                    or grant.client_id != form.get("client_id")
                    or grant.redirect_uri != form.get("redirect_uri")
                    or _s256(verifier) != grant.challenge
                ):
                    return 400, {}, {"error": "invalid_grant"}
            elif kind == "refresh_token":
                grant = self._refresh.pop(form.get("refresh_token", ""), None)
                if grant is None or grant.client_id != form.get("client_id"):
                    return 400, {}, {"error": "invalid_grant"}
            else:
                return 400, {}, {"error": "unsupported_grant_type"}
            refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = grant
        return 200, {"Cache-Control": "no-store"}, self._tokens(grant, refresh)

    def sign_out(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        target = query.get("post_logout_redirect_uri", "")
        client = query.get("client_id") or self._client_of(query.get("id_token_hint", ""))
        if target not in self.clients.get(client, set()):
            return (
                400,
                {},
                {"error": "invalid_request", "error_description": "unknown post_logout_redirect_uri"},
            )
        with self._lock:
            self._refresh.clear()
        state = {"state": query["state"]} if "state" in query else {}
        return 302, {"Location": f"{target}?{urlencode(state)}" if state else target}, None

    def _client_of(self, id_token: str) -> str:
        """The client an ID token of ours was issued to (Keycloak identifies the client by the hint)."""
        kid = self.issuer.current_kid("RSA")
        try:
            claims = jwt.decode(
                id_token,
                self.issuer.private_key(kid).public_key(),
                algorithms=["RS256"],  # type: ignore[arg-type]
                options={"verify_aud": False, "verify_exp": False},
            )
        except jwt.PyJWTError:
            return ""
        return str(claims.get("aud", ""))

    def _tokens(self, grant: _Grant, refresh: str) -> dict[str, Any]:
        person = {"aud": [CLIENT, "account"], "azp": grant.client_id, **self.person}
        access = self.issuer.issue(exp=int(time.time()) + ACCESS_TOKEN_S, scope=grant.scope, **person)
        now = int(time.time())
        claims = self.issuer.claims(**person)
        id_claims = {
            "iss": self.issuer.issuer,
            "aud": grant.client_id,
            "sub": claims["sub"],
            "exp": now + ACCESS_TOKEN_S,
            "iat": now,
            "preferred_username": claims.get("preferred_username"),
            **({"nonce": grant.nonce} if grant.nonce else {}),
        }
        kid = self.issuer.current_kid("RSA")
        id_token = jwt.encode(
            id_claims, self.issuer.private_key(kid), algorithm="RS256", headers={"kid": kid}
        )
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_S,
            "refresh_token": refresh,
            "id_token": id_token,
            "scope": grant.scope,
        }


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--client", default="orchestra-web")
    parser.add_argument(
        "--redirect", action="append", required=True, help="allowed redirect URI (repeatable)"
    )
    parser.add_argument("--tenant", default="default")
    parser.add_argument("--role", default="admin")
    parser.add_argument("--user", default="alice")
    options = parser.parse_args()
    issuer = LocalIssuer()
    origins = {f"{urlsplit(uri).scheme}://{urlsplit(uri).netloc}" for uri in options.redirect}
    issuer.desk = SignInDesk(
        issuer,
        {options.client: {*options.redirect, *(f"{origin}/sign-in" for origin in origins)}},
        {
            "tenant": options.tenant,
            "preferred_username": options.user,
            "resource_access": {CLIENT: {"roles": [options.role]}},
        },
    )
    issuer.start()
    sys.stdout.write(f"issuer {issuer.issuer}\n")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    issuer.stop()


if __name__ == "__main__":
    main()
