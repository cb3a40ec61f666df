"""How tests generated from an OpenAPI description authenticate: each security scheme mapped to the
environment secrets that satisfy it, never to a value.

- HTTP bearer (also OAuth2 and OpenID Connect): when the description has a log-in (found as the built-in
  planner finds it, ``testdata/planner/login.py``: a token at any depth of its answer, ``$.user.token``,
  or in a response header), a log-in first (a setup step sending its required body fields, at their
  place, ``{"user": {"email", "password"}}``, from the secrets named after them), then its token;
  otherwise ``auth: {bearer: …}`` with the secret ``token``.
- HTTP basic: ``auth: {basic: …}`` with the secrets ``username`` and ``password``.
- API key in a header or the query: ``auth: {api_key: …}`` with a secret named after the key
  (``X-Api-Key`` → ``x_api_key``); in a cookie, a ``Cookie`` header.

The names are the ones the built-in planner looks for, so the data a test plans is created with the
same credentials the test sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from orchestra.importers.requests import escape_template
from orchestra.openapi.operations import Catalogue, Operation, SecurityScheme
from orchestra.testdata.planner.login import Login, choose_login
from orchestra.testdata.values.name_hints import snake

_RESERVED = {"env", "secrets", "data", "vars", "run", "step", "response", "suite"}


@dataclass(frozen=True)
class NeededSecret:
    name: str  # read as {{ secrets.<name> }}
    purpose: str  # e.g. "security scheme bearerAuth: sent to issueToken for a token"


@dataclass
class Credentials:
    """What a generated test does to satisfy one security scheme."""

    scheme: str
    setup: list[dict[str, Any]] = field(default_factory=list)  # steps run first (a log-in)
    variables: dict[str, str] = field(default_factory=dict)  # what the setup captures, empty until then
    auth: dict[str, Any] | None = None  # the request defaults' auth helper
    headers: dict[str, str] = field(default_factory=dict)  # what a cleanup call sends
    query: dict[str, str] = field(default_factory=dict)  # an API key a cleanup URL carries
    secrets: list[NeededSecret] = field(default_factory=list)


def secret_name(text: str) -> str:
    """A secret (and variable) name made of ``text``: ``X-Api-Key`` → ``x_api_key``."""
    name = re.sub(r"[^a-z0-9_]+", "_", snake(text).lower()).strip("_")[:60] or "secret"
    name = name if re.match(r"[a-z_]", name) else f"_{name}"
    return f"{name}_" if name in _RESERVED else name


def _secret(name: str) -> str:
    return "{{ secrets." + name + " }}"


def token_operation(catalogue: Catalogue) -> Login | None:
    """The description's log-in, as the built-in planner finds it (None when there is none, or two are
    equally likely)."""
    return choose_login(catalogue, {})[0]


def login_body(login: Login) -> dict[str, Any]:
    """The log-in's required body fields at their place, each from the secret named after it."""
    body: dict[str, Any] = {}
    for path in login.required:
        place = body
        for key in path[:-1]:
            place = place.setdefault(escape_template(key), {})
        place[escape_template(path[-1])] = _secret(secret_name(path[-1]))
    return body


def login_inputs(login: Login) -> list[str]:
    """The secrets the log-in's body is sent from."""
    return list(dict.fromkeys(secret_name(path[-1]) for path in login.required))


def token_capture(login: Login) -> str | dict[str, str]:
    """Where a test captures the log-in's token: its JSONPath, or the response header holding it."""
    return login.token if login.in_body else {"header": login.token[len("header:") :]}


def credentials_for(catalogue: Catalogue, operation: Operation) -> Credentials | None:
    """How a test of ``operation`` authenticates: the first of its security schemes that can be mapped;
    None when it needs none (or none is described)."""
    for name in operation.security:
        scheme = catalogue.security_schemes.get(name)
        if scheme is not None:
            mapped = _map(catalogue, scheme)
            if mapped is not None:
                return mapped
    return None


def _map(catalogue: Catalogue, scheme: SecurityScheme) -> Credentials | None:
    kind = scheme.type
    if kind == "apiKey":
        return _api_key(scheme)
    if kind == "http" and scheme.scheme == "basic":
        purpose = f"security scheme {scheme.name} (HTTP basic)"
        basic = "Basic {{ (secrets.username ~ ':' ~ secrets.password) | b64encode }}"
        return Credentials(
            scheme.name,
            auth={"basic": {"username": _secret("username"), "password": _secret("password")}},
            headers={"Authorization": basic},
            secrets=[NeededSecret("username", purpose), NeededSecret("password", purpose)],
        )
    if kind in ("http", "oauth2", "openIdConnect"):
        return _bearer(catalogue, scheme)
    return None


def _api_key(scheme: SecurityScheme) -> Credentials | None:
    if not scheme.parameter or scheme.location not in ("header", "query", "cookie"):
        return None
    name = secret_name(scheme.parameter)
    needed = [NeededSecret(name, f"security scheme {scheme.name} (API key in the {scheme.location})")]
    parameter = escape_template(scheme.parameter)
    if scheme.location == "cookie":
        cookie = {"Cookie": f"{parameter}={_secret(name)}"}
        return Credentials(scheme.name, headers=cookie, secrets=needed)
    helper = {"api_key": {"name": parameter, "value": _secret(name), "in": scheme.location}}
    if scheme.location == "query":
        return Credentials(scheme.name, auth=helper, query={parameter: _secret(name)}, secrets=needed)
    return Credentials(scheme.name, auth=helper, headers={parameter: _secret(name)}, secrets=needed)


def _bearer(catalogue: Catalogue, scheme: SecurityScheme) -> Credentials:
    login = token_operation(catalogue)
    if login is None:
        purpose = f"security scheme {scheme.name} (bearer token)"
        return Credentials(
            scheme.name,
            auth={"bearer": {"token": _secret("token")}},
            headers={"Authorization": f"Bearer {_secret('token')}"},
            secrets=[NeededSecret("token", purpose)],
        )
    operation = login.operation
    variable = secret_name(f"{scheme.name}_token")
    purpose = f"sent to the log-in {operation.operation_id} for a token ({scheme.name})"
    request: dict[str, Any] = {"method": "POST", "url": escape_template(operation.path), "auth": None}
    if login.required or operation.request_schema is not None:
        request["json"] = login_body(login)
    step = {
        "name": f"log in ({escape_template(operation.operation_id)})"[:200],
        "request": request,
        "expect": {"status": "2xx"},
        "capture": {variable: token_capture(login)},
    }
    token = "{{ " + variable + " }}"
    return Credentials(
        scheme.name,
        setup=[step],
        variables={variable: ""},  # the defaults are rendered for the log-in too, before it captures
        auth={"bearer": {"token": token}},
        headers={"Authorization": f"Bearer {token}"},
        secrets=[NeededSecret(name, purpose) for name in login_inputs(login)],
    )
