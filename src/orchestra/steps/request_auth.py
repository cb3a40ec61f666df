"""The ``auth:`` helpers of a request: bearer, basic, api_key and oauth2_client_credentials.

A helper adds one header (or query parameter) to the rendered request, unless the request already has
one of that name: a header written out wins over the helper. What a helper sends is a credential: it is
reported to ``learn`` (the run's masker), so it is masked in everything the run stores.

An OAuth2 client-credentials token is asked for once per run and settings (and again once it expired,
when the token endpoint says when), through the same egress-guarded ``send`` as every step; the request
is a form POST of grant_type, client_id, client_secret and scope.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from orchestra.kit.egress import EgressRefused
from orchestra.kit.secret_forms import MIN_SECRET_LENGTH
from orchestra.steps.http_send import Pace, ResponseTooLarge, describe_transport_error, send

MAX_TOKEN_RESPONSE_BYTES = 64 * 1024
EXPIRY_MARGIN_S = 5.0  # a token this close to its expiry is asked for again


class AuthFailed(Exception):
    """The credentials could not be made (the token endpoint refused, did not answer, answered nonsense)."""


@dataclass
class TokenCache:
    """The OAuth2 tokens of one run, by their settings; one request at a time asks for a token."""

    _tokens: dict[tuple[str, ...], tuple[str, float | None]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    fetched: int = 0  # tokens asked for (the cache's hits are the steps that did not)

    async def token(
        self, key: tuple[str, ...], fetch: Callable[[], Awaitable[tuple[str, float | None]]]
    ) -> str:
        async with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and (cached[1] is None or time.monotonic() < cached[1]):
                return cached[0]
            token, expires_in = await fetch()
            self.fetched += 1
            expires_at = None if expires_in is None else time.monotonic() + expires_in - EXPIRY_MARGIN_S
            self._tokens[key] = (token, expires_at)
            return token


@dataclass
class RunAuth:
    """What a run's requests share for auth: the token cache and the masker's ``learn``."""

    tokens: TokenCache = field(default_factory=TokenCache)
    learn: Callable[[str], None] = lambda value: None


async def authenticate(
    request: dict[str, Any],
    auth: Mapping[str, Any],
    run_auth: RunAuth,
    token_fetch: Callable[[Mapping[str, Any]], Awaitable[tuple[str, float | None]]],
) -> None:
    """Add what the rendered ``auth`` sends to the rendered ``request`` (its headers or query)."""
    where, name, value, secrets = "header", "Authorization", "", []
    if "bearer" in auth:
        token = str(auth["bearer"]["token"])
        value, secrets = f"Bearer {token}", [token]
    elif "basic" in auth:
        basic = auth["basic"]
        encoded = base64.b64encode(f"{basic['username']}:{basic['password']}".encode()).decode()
        value, secrets = f"Basic {encoded}", [encoded, str(basic["password"])]
    elif "api_key" in auth:
        key = auth["api_key"]
        where, name, value = str(key.get("in", "header")), str(key["name"]), str(key["value"])
        secrets = [value]
    elif "oauth2_client_credentials" in auth:
        settings = {k: str(v) for k, v in auth["oauth2_client_credentials"].items() if v is not None}
        cache_key = tuple(settings.get(k, "") for k in ("token_url", "client_id", "client_secret", "scope"))
        secrets = [settings.get("client_secret", "")]
        for secret in secrets:  # learnt before the request, whose failure may quote it
            _learn(run_auth, secret)
        token = await run_auth.tokens.token(cache_key, lambda: token_fetch(settings))
        value, secrets = f"Bearer {token}", [token]
    for secret in secrets:
        _learn(run_auth, secret)
    target = request.setdefault("headers" if where == "header" else "query", {})
    if name.lower() not in {existing.lower() for existing in target}:
        target[name] = value


def _learn(run_auth: RunAuth, secret: str) -> None:
    if len(secret) >= MIN_SECRET_LENGTH:
        run_auth.learn(secret)


async def fetch_client_credentials(
    client: httpx.AsyncClient, settings: Mapping[str, str], *, timeout_ms: float, pace: Pace | None
) -> tuple[str, float | None]:
    """The access token (and its seconds to live, if given) from the token endpoint."""
    form = {"grant_type": "client_credentials", "client_id": settings["client_id"]}
    form["client_secret"] = settings["client_secret"]
    if settings.get("scope"):
        form["scope"] = settings["scope"]
    url = settings["token_url"]
    try:
        request = client.build_request("POST", url, data=form, headers={"Accept": "application/json"})
        response, _ = await send(
            client, request, timeout_ms=timeout_ms, max_bytes=MAX_TOKEN_RESPONSE_BYTES, pace=pace
        )
    except httpx.HTTPError as error:
        raise AuthFailed(f"OAuth2 token: {describe_transport_error(error, url, timeout_ms)}") from None
    except (ResponseTooLarge, EgressRefused) as error:
        raise AuthFailed(f"OAuth2 token from {url}: {error}") from None
    if response.status_code != 200:
        raise AuthFailed(f"OAuth2 token from {url}: status {response.status_code}: {response.text[:200]}")
    try:
        payload = json.loads(response.content)
        token = payload["access_token"]
    except (ValueError, KeyError, TypeError):
        raise AuthFailed(f"OAuth2 token from {url}: the answer has no access_token") from None
    if not isinstance(token, str) or not token:
        raise AuthFailed(f"OAuth2 token from {url}: access_token is not text")
    expires_in = payload.get("expires_in")
    valid = isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0
    return token, float(expires_in) if valid else None
