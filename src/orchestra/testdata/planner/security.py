"""How a credential is sent for a security scheme, exactly as the description declares it.

- HTTP bearer, OAuth 2 and OpenID Connect: ``Authorization: Bearer <token>``.
- HTTP basic: ``Authorization: Basic base64(username:password)`` from the secrets ``username`` and
  ``password``.
- API key: in the header, query parameter or cookie the scheme names, with its value written as the
  scheme's description shows it (``Token xxxxx.yyyyy.zzzzz`` → ``Token <token>``) or as the environment
  variable ``token_prefix`` says (``Token``; it wins over the description); a log-in's token in the
  ``Authorization`` header without either goes after ``Bearer``.

Values are templates (``{{ secrets.token }}``, ``{{ data.auth.token }}``), never credentials.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestra.openapi.operations import SecurityScheme

TOKEN_PREFIX_VARIABLE = "token_prefix"
# A word written before a placeholder of the credential: "Token <jwt>", "Bearer {token}",
# "Token xxxxxx.yyyyyyy.zzzzzz", "JWT eyJhbGciOi…".
_SHOWN_PREFIX = re.compile(
    r"(?<![\w:/.-])([A-Z][A-Za-z-]{1,19})[ \t]+"
    r"(?=<[^<>\n]{1,40}>|\{\{?[^{}\n]{1,40}\}|x{3,}|\.\.\.|\$\{?[A-Z_]{3,}|ey[A-Za-z0-9_-]{8,})"
)
_BASIC = "Basic {{ (secrets.username ~ ':' ~ secrets.password) | b64encode }}"


@dataclass(frozen=True)
class Sent:
    """What a request carries for a scheme."""

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    def described(self) -> str:
        parts = [f"{key}: {value}" for key, value in self.headers.items()]
        return ", ".join(parts + [f"?{key}={value}" for key, value in self.query.items()])


def takes_token(scheme: SecurityScheme) -> bool:
    """Whether the scheme sends one token or key (not basic, not an unknown HTTP scheme)."""
    if scheme.type == "apiKey":
        return bool(scheme.parameter) and scheme.location in ("header", "query", "cookie")
    if scheme.type == "http":
        return scheme.scheme == "bearer"
    return scheme.type in ("oauth2", "openIdConnect")


def is_basic(scheme: SecurityScheme) -> bool:
    return scheme.type == "http" and scheme.scheme == "basic"


def basic_usable(secret_names: Collection[str]) -> bool:
    return {"username", "password"} <= set(secret_names)


def shown_prefix(scheme: SecurityScheme) -> str | None:
    """The word the scheme's description writes before the credential (``Token``), if it shows one."""
    found = _SHOWN_PREFIX.search(scheme.description)
    if found is None or found.group(1).lower() == scheme.parameter.lower():
        return None
    return found.group(1)


def send_token(
    scheme: SecurityScheme, token: str, variables: Mapping[str, Any], *, from_login: bool = False
) -> tuple[Sent, str]:
    """What a request carries for a token-taking scheme (``token`` a template; ``from_login``: the token
    of the API's log-in), and how the value is written (for the plan's notes)."""
    if scheme.type != "apiKey":
        return Sent(headers={"Authorization": f"Bearer {token}"}), "as a bearer token"
    value, how = token, "as it is"
    if isinstance(variables.get(TOKEN_PREFIX_VARIABLE), str) and variables[TOKEN_PREFIX_VARIABLE]:
        value, how = "{{ env." + TOKEN_PREFIX_VARIABLE + " }} " + token, f"after {TOKEN_PREFIX_VARIABLE}"
    elif (prefix := shown_prefix(scheme)) is not None:
        value, how = f"{prefix} {token}", f"after '{prefix}' (as its description shows)"
    elif from_login and scheme.location == "header" and scheme.parameter.lower() == "authorization":
        # The Authorization header names its scheme first (RFC 9110): a log-in's token is a bearer
        # token. A key from the environment goes as it is (some APIs take a bare key there).
        value, how = f"Bearer {token}", "after 'Bearer' (the Authorization header names its scheme)"
    if scheme.location == "query":
        return Sent(query={scheme.parameter: value}), how
    if scheme.location == "cookie":
        return Sent(headers={"Cookie": f"{scheme.parameter}={value}"}), how
    return Sent(headers={scheme.parameter: value}), how


def send_basic() -> Sent:
    return Sent(headers={"Authorization": _BASIC})


def in_query(scheme: SecurityScheme) -> bool:
    return scheme.type == "apiKey" and scheme.location == "query"
