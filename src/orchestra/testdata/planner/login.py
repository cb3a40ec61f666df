"""Finding an API's log-in in its description: the operation that answers a token for credentials, the path
of that token in its answer, and the body fields the environment's credentials fill.

A candidate is a POST on a fixed path whose success response holds a token — a token-like field at any
depth of its JSON body (``$.access_token``, ``$.user.token`` through an envelope) or, without one, a
token-like response header (``X-Auth-Token``) — and that either asks for a password-like field (at any
depth: ``{"user": {"email", "password"}}``), answers a token at the top of its body (the OAuth 2 shape), or
is named like a log-in. An undocumented answer of a POST named like a log-in is taken to be OAuth 2's
``access_token``.

Candidates are ranked: one that a security scheme's description names (``… by logging in via
/users/login``), then one named like a log-in (``login``, ``signin``, ``token``, ``session``), then one that
asks for a password, a documented token before one guessed for an undocumented answer (a password reset
is no log-in), a token in the body before one in a header, and the fewest required fields (a sign-up asks
for more than a log-in). Two candidates still level are not guessed between: the note names them, and the
environment variable ``login_operation`` chooses one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestra.openapi.operations import Catalogue, JsonSchema, Operation
from orchestra.testdata.planner.entities import properties_of
from orchestra.testdata.values.generator import merge_all_of
from orchestra.testdata.values.name_hints import snake

LOGIN_OPERATION_VARIABLE = "login_operation"
TOKEN_NAMES = (
    "access_token",
    "token",
    "id_token",
    "jwt",
    "auth_token",
    "bearer_token",
    "session_token",
    "api_token",
)
_PASSWORD_NAMES = ("password", "passwd", "pwd", "passphrase", "pass")
_LOGIN_WORDS = re.compile(r"log_?in|sign_?in|token|session|auth", re.IGNORECASE)
_TOKEN_HEADER = re.compile(r"^(?!.*[cx]srf)(authorization|(x-)?token|.*-token)$", re.IGNORECASE)
MAX_DEPTH = 4
Path = tuple[str, ...]


@dataclass(frozen=True)
class Login:
    operation: Operation
    token: str  # where the answer holds the token: ``$.user.token`` or ``header:X-Auth-Token``
    fields: tuple[Path, ...]  # the body's fields, as paths from its root (``("user", "email")``)
    required: tuple[Path, ...]  # those the body must have

    @property
    def operation_id(self) -> str:
        return self.operation.operation_id

    @property
    def in_body(self) -> bool:
        return self.token.startswith("$.")

    @property
    def member(self) -> str:
        """Where the token is in the log-in call's value: its path in the answer (``user.token``), or
        ``token`` for a header's, which the call captures under that name."""
        return self.token[2:] if self.in_body else "token"


def login_candidates(catalogue: Catalogue) -> list[Login]:
    """Every operation that answers a token for credentials, the most plausible log-in first."""
    found = [login for op in catalogue.operations.values() if (login := _candidate(op)) is not None]
    mentioned = _mentioned(catalogue)
    return sorted(found, key=lambda login: (*_rank(login, mentioned), login.operation_id))


def signs_in(operation: Operation) -> bool:
    """Whether ``operation`` is a log-in rather than a sign-up: it answers a token for credentials and is
    named like a log-in (``POST /users/login``, ``POST /auth/token``). Such a call creates nothing to undo."""
    return (
        _candidate(operation) is not None
        and _LOGIN_WORDS.search(f"{operation.operation_id} {operation.path}") is not None
    )


def choose_login(catalogue: Catalogue, variables: Mapping[str, Any]) -> tuple[Login | None, str]:
    """The log-in to plan and a note why; None with the reason when there is none or two are level."""
    candidates = login_candidates(catalogue)
    chosen = variables.get(LOGIN_OPERATION_VARIABLE)
    if isinstance(chosen, str) and chosen:
        named = next((login for login in candidates if login.operation_id == chosen), None)
        if named is not None:
            return named, f"the log-in is {chosen} ({LOGIN_OPERATION_VARIABLE})"
        listed = ", ".join(login.operation_id for login in candidates) or "none"
        return None, (
            f"{LOGIN_OPERATION_VARIABLE} names {chosen}, which answers no token for credentials "
            f"(candidates: {listed})"
        )
    if not candidates:
        return None, "no operation answers a token for credentials"
    mentioned = _mentioned(catalogue)
    best = _rank(candidates[0], mentioned)
    level = [login.operation_id for login in candidates if _rank(login, mentioned) == best]
    if len(level) > 1:
        return None, (
            f"{' and '.join(level)} could both be the log-in; set the variable "
            f"{LOGIN_OPERATION_VARIABLE} to the one to use"
        )
    login = candidates[0]
    return login, f"the log-in is {login.operation_id} (it answers a token at {login.token})"


def token_path(schema: JsonSchema | None) -> Path | None:
    """The shallowest token-like field of a response schema, through objects (never into arrays)."""
    level: list[tuple[Path, JsonSchema | None]] = [((), schema)]
    for _ in range(MAX_DEPTH):
        deeper: list[tuple[Path, JsonSchema | None]] = []
        for path, part in level:
            properties = properties_of(_merged(part))
            for name in TOKEN_NAMES:
                found = next((prop for prop in properties if snake(prop) == name), None)
                if found is not None:
                    return (*path, found)
            deeper += [((*path, name), sub) for name, sub in properties.items() if isinstance(sub, dict)]
        level = deeper
    return None


def body_fields(schema: JsonSchema | None) -> tuple[list[Path], list[Path]]:
    """The leaf fields of a request body (through objects, ``readOnly`` left out), and those it requires
    (required at every level)."""
    fields: list[Path] = []
    required: list[Path] = []

    def walk(part: JsonSchema | None, path: Path, needed: bool) -> None:
        merged = _merged(part)
        properties = properties_of(merged)
        if not properties or len(path) >= MAX_DEPTH:
            if path:
                fields.append(path)
                if needed:
                    required.append(path)
            return
        wanted = set((merged or {}).get("required") or [])
        for name, sub in properties.items():
            if isinstance(sub, dict) and not sub.get("readOnly"):
                walk(sub, (*path, name), needed and name in wanted)

    walk(schema, (), True)
    return fields, required


def is_password(name: str, schema: Any = None) -> bool:
    words = snake(name).split("_")
    return words[-1] in _PASSWORD_NAMES or (isinstance(schema, dict) and schema.get("format") == "password")


def _candidate(operation: Operation) -> Login | None:
    if operation.method != "POST" or "{" in operation.path:
        return None
    fields, required = body_fields(operation.request_schema)
    schema = operation.success_schema()
    found = token_path(schema)
    named = _LOGIN_WORDS.search(f"{operation.operation_id} {operation.path}") is not None
    if found is not None:
        token = "$." + ".".join(found)
    elif (
        header := next((h for h in operation.response_headers if _TOKEN_HEADER.match(h)), None)
    ) is not None:
        token = f"header:{header}"
    elif named and not properties_of(schema) and not operation.response_headers:
        token = "$.access_token"  # undocumented: the OAuth 2 convention
    else:
        return None
    asks_password = any(is_password(path[-1], _field_schema(operation, path)) for path in fields)
    if not (asks_password or named or (found is not None and len(found) == 1)):
        return None
    return Login(operation, token, tuple(fields), tuple(required))


def _rank(login: Login, mentioned: set[str]) -> tuple[int, ...]:
    operation = login.operation
    return (
        0 if operation.operation_id in mentioned or operation.path in mentioned else 1,
        0 if _LOGIN_WORDS.search(f"{operation.operation_id} {operation.path}") else 1,
        0 if any(is_password(path[-1]) for path in login.fields) else 1,
        # A documented token before the OAuth 2 guess for an undocumented answer (a password reset
        # that answers nothing is no log-in).
        0 if token_path(operation.success_schema()) is not None or not login.in_body else 1,
        0 if login.token.startswith("$") else 1,
        len(login.required),
    )


def _mentioned(catalogue: Catalogue) -> set[str]:
    """Paths and operationIds that a security scheme's description names."""
    text = " ".join(scheme.description for scheme in catalogue.security_schemes.values())
    if not text:
        return set()
    words = set(re.findall(r"[/\w{}.-]+", text))
    return {
        name
        for operation in catalogue.operations.values()
        for name in (operation.operation_id, operation.path)
        if name in words or name.rstrip("/") in words
    }


def _field_schema(operation: Operation, path: Path) -> JsonSchema | None:
    part: JsonSchema | None = operation.request_schema
    for name in path:
        part = properties_of(_merged(part)).get(name)
    return part


def _merged(schema: JsonSchema | None) -> JsonSchema | None:
    if not isinstance(schema, dict):
        return None
    return merge_all_of(schema) if "allOf" in schema else schema
