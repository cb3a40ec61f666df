"""Requests found in other tools' files (a curl command line, a browser's HAR), written as Orchestra test
cases: the URL relative to the environment's base URL, credentials moved into environment secrets, every
text that looks like template markup escaped so it is sent exactly as it was captured."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from orchestra.definitions.testcase_model import has_template
from orchestra.errors import InvalidInput

# Headers that carry credentials or a session: never written into YAML. Authorization and cookies are left
# out unless asked for (then they become secrets too); the others always become secrets.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_SECRET_WORDS = re.compile(r"token|secret|api[-_]?key|apikey|password|passwd|session|signature|auth", re.I)
_SECRET_QUERY = re.compile(
    r"^(api[-_]?key|apikey|key|token|access[-_]?token|password|secret|signature|sig)$", re.I
)
# Added by the client or the browser for the connection, not by the test.
_CONNECTION_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "keep-alive", "transfer-encoding", "te"}
)
_TEMPLATE_START = re.compile(r"\{(?=[{%#])")


class ImportRefused(InvalidInput):
    """The input cannot be imported; the message says why (a 422 from the API, exit 2 from the CLI)."""


@dataclass
class ImportedRequest:
    """One request as another tool recorded it."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    content_type: str | None = None
    follow_redirects: bool = False
    timeout_ms: int | None = None
    status: int | None = None  # observed (HAR): becomes the expected status
    response_type: str | None = None  # observed media type, e.g. application/json
    multipart: dict[str, str | dict[str, str]] | None = None  # text fields and file parts (MultipartFile)


@dataclass
class ImportedFile:
    name: str  # file name, e.g. "get-items.yaml"
    definition: dict[str, Any]


@dataclass
class FoundSecret:
    name: str  # the secret's name: the YAML reads it as {{ secrets.<name> }}
    source: str  # where it was found, e.g. "header Authorization"
    value: str


@dataclass
class ImportResult:
    files: list[ImportedFile]
    secrets: list[FoundSecret]
    base_url: str | None
    notes: list[str]


def escape_template(text: str) -> str:
    """``text`` written so that rendering gives it back unchanged (``{{``, ``{%``, ``{#`` are not markup)."""
    return _TEMPLATE_START.sub("{{ '{' }}", text) if has_template(text) else text


def _escape_json(value: Any) -> Any:
    if isinstance(value, str):
        return escape_template(value)
    if isinstance(value, list):
        return [_escape_json(item) for item in value]
    if isinstance(value, dict):
        return {escape_template(key): _escape_json(item) for key, item in value.items()}
    return value


class _Secrets:
    """Secrets found while converting, one name per distinct value."""

    def __init__(self) -> None:
        self.found: list[FoundSecret] = []

    def reference(self, label: str, source: str, value: str) -> str:
        for secret in self.found:
            if secret.value == value:
                return f"{{{{ secrets.{secret.name} }}}}"
        base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "secret"
        base = base if base[0].isalpha() else f"s_{base}"
        taken = {secret.name for secret in self.found}
        name = (
            base
            if base not in taken
            else next(f"{base}_{n}" for n in range(2, 10_000) if f"{base}_{n}" not in taken)
        )
        self.found.append(FoundSecret(name, source, value))
        return f"{{{{ secrets.{name} }}}}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "request"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _body(request: ImportedRequest) -> dict[str, Any]:
    if request.body is None or request.body == "":
        return {}
    media = _media_type(request.content_type)
    if media == "application/json" or media.endswith("+json") or not media:
        try:
            return {"json": _escape_json(json.loads(request.body))}
        except ValueError:
            pass
    if media == "application/x-www-form-urlencoded":
        pairs = parse_qsl(request.body, keep_blank_values=True)
        unique = len({name for name, _ in pairs}) == len(pairs)
        if pairs and unique and urlencode(pairs) == request.body:  # a form sends these very bytes
            return {"form": {escape_template(name): escape_template(value) for name, value in pairs}}
    return {"body": escape_template(request.body)}


class _Converter:
    def __init__(self, base_url: str | None, keep_credentials: bool) -> None:
        self.base_url = base_url
        self.keep_credentials = keep_credentials
        self.secrets = _Secrets()
        self.notes: list[str] = []

    def url_and_query(self, url: str) -> tuple[str, dict[str, Any]]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImportRefused(f"not an http(s) URL: {url[:200]!r}")
        path = escape_template(parts.path or "/")
        origin = _origin(url)
        target = (
            f"{{{{ env.base_url }}}}{path}" if origin == self.base_url else escape_template(origin) + path
        )
        query: dict[str, Any] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if _SECRET_QUERY.match(name):
                value = self.secrets.reference(name, f"query parameter {name}", value)
            else:
                value = escape_template(value)
            key = escape_template(name)
            if key in query:
                earlier = query[key]
                query[key] = [*earlier, value] if isinstance(earlier, list) else [earlier, value]
            else:
                query[key] = value
        return target, query

    def headers(self, request: ImportedRequest) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in request.headers:
            lower = name.lower()
            if lower.startswith(":") or lower in _CONNECTION_HEADERS or lower.startswith("sec-"):
                continue
            if lower == "content-type" and request.body is None:  # with multipart: its boundary is new
                continue
            if lower in CREDENTIAL_HEADERS and not self.keep_credentials:
                self.note_once(f"the {name} header was left out (import with credentials kept to use it)")
                continue
            if lower in CREDENTIAL_HEADERS or _SECRET_WORDS.search(lower):
                value = self.secrets.reference(name, f"header {name}", value)
            else:
                value = escape_template(value)
            headers[escape_template(name)] = value
        return headers

    def note_once(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def step(self, request: ImportedRequest) -> dict[str, Any]:
        url, query = self.url_and_query(request.url)
        call: dict[str, Any] = {"method": request.method, "url": url}
        headers = self.headers(request)
        if headers:
            call["headers"] = headers
        if query:
            call["query"] = query
        call.update(_body(request))
        if request.multipart is not None:
            call["multipart"] = {
                escape_template(name): escape_template(part) if isinstance(part, str) else part
                for name, part in request.multipart.items()
            }
        if request.timeout_ms is not None:
            call["timeout_ms"] = request.timeout_ms
        if request.follow_redirects:
            call["follow_redirects"] = True
        expect: dict[str, Any] = {"status": request.status if request.status else "2xx"}
        media = _media_type(request.response_type)
        if media and request.status and request.status != 204:
            expect["headers"] = {"Content-Type": {"contains": escape_template(media)}}
        return {"name": _step_name(request), "request": call, "expect": expect}


def _step_name(request: ImportedRequest) -> str:
    path = urlsplit(request.url).path or "/"
    return escape_template(f"{request.method} {path}")[:200]


def common_origin(requests: list[ImportedRequest]) -> str | None:
    """The origin most requests go to: it becomes the environment's base URL."""
    origins = Counter(_origin(request.url) for request in requests if urlsplit(request.url).hostname)
    return origins.most_common(1)[0][0] if origins else None


def test_cases_of(
    groups: list[tuple[str, list[ImportedRequest]]], *, keep_credentials: bool, description: str
) -> ImportResult:
    """One test case per group (its name and its requests, as steps in order)."""
    every = [request for _, requests in groups for request in requests]
    base_url = common_origin(every)
    converter = _Converter(base_url, keep_credentials)
    files: list[ImportedFile] = []
    used: set[str] = set()
    for name, requests in groups:
        steps = [converter.step(request) for request in requests]
        slug = _slug(name)
        file_slug = (
            slug
            if slug not in used
            else next(f"{slug}-{n}" for n in range(2, 100_000) if f"{slug}-{n}" not in used)
        )
        used.add(file_slug)
        test_name = (
            escape_template(name)[:200]
            if file_slug == slug
            else f"{escape_template(name)[:190]} ({file_slug.rsplit('-', 1)[-1]})"
        )
        definition = {"name": test_name, "description": description, "steps": steps}
        files.append(ImportedFile(f"{file_slug}.yaml", definition))
    others = sorted({_origin(r.url) for r in every} - {base_url} - {""})
    if others:
        converter.notes.append(
            "requests to other hosts keep their absolute URL and need the environment's allowed hosts: "
            + ", ".join(others)
        )
    return ImportResult(files, converter.secrets.found, base_url, converter.notes)
