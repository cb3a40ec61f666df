"""Turn the text of an OpenAPI description (JSON or YAML, uploaded or fetched) into a checked document.

The text comes from users or from a server on the network, so it is treated as hostile: its size is capped
before parsing, JSON nesting is checked without recursion before ``json`` sees it, and YAML goes through
the test-definition loader's composer (safe, YAML 1.2 core scalars, no aliases so no alias bombs, bounded
nesting). Fetching goes through the egress-guarded client under the environment's policy, like a test step.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from orchestra.definitions.loader import MAX_DEPTH, DefinitionError, DefinitionIssue, _compose, _construct
from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy, EgressRefused
from orchestra.kit.egress_http import guarded_client
from orchestra.kit.json_guard import nesting_exceeds
from orchestra.openapi import swagger2
from orchestra.openapi.errors import DescriptionTooLarge, FetchFailed, InvalidDescription

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
FETCH_TIMEOUT_S = 15.0
_SOURCE = "openapi"


def parse_text(text: str) -> dict[str, Any]:
    """The checked document in ``text`` (JSON or YAML)."""
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_DOCUMENT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise DescriptionTooLarge(f"the description is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    if not text.strip():
        raise InvalidDescription("the description is empty")
    data = _parse_json(text) if text.lstrip()[:1] in ("{", "[") else _parse_yaml(text)
    return check_document(data)


def _parse_json(text: str) -> Any:
    if nesting_exceeds(text.encode("utf-8", "surrogatepass"), MAX_DEPTH):
        raise InvalidDescription(f"the description nests deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates)
    except json.JSONDecodeError as error:
        raise InvalidDescription(
            f"not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except ValueError as error:  # a duplicate key, or a number beyond Python's digit limit
        raise InvalidDescription(f"not valid JSON: {str(error)[:200]}") from None


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        keys = [key for key, _ in pairs]
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"the key {duplicate[:100]!r} appears twice in one object")
    return result


def _parse_yaml(text: str) -> Any:
    issues: list[DefinitionIssue] = []
    try:
        root = _compose(text, _SOURCE)
    except DefinitionError as error:
        issues, root = error.issues, None
    if root is None and not issues:
        raise InvalidDescription("the description is empty")
    data = _construct(root, _SOURCE, issues) if root is not None else None
    if issues:
        first = issues[0]
        message = first.message.replace(" in test definitions", "")
        raise InvalidDescription(
            f"not valid JSON or YAML: line {first.line}, column {first.column}: {message}"
        )
    return data


def check_document(data: Any) -> dict[str, Any]:
    """``data`` if it looks like an OpenAPI 3.x document (a Swagger 2.0 one converted to 3.0); a clear
    refusal otherwise."""
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        raise InvalidDescription(f"an OpenAPI description must be an object, not {kind}")
    if "swagger" in data:  # Swagger 2.0: read as the OpenAPI 3.0 document it describes
        data = swagger2.convert(data)
    document: dict[str, Any] = data
    version = data.get("openapi")
    if not isinstance(version, str):
        raise InvalidDescription("the 'openapi' field (the version, e.g. \"3.1.0\") is missing")
    if not version.startswith("3."):
        raise InvalidDescription(f"OpenAPI 3.x required, this is version {version[:20]!r}")
    if not isinstance(data.get("paths"), dict):
        raise InvalidDescription("the 'paths' object is missing: there are no operations to import")
    if "info" in data and not isinstance(data["info"], dict):
        raise InvalidDescription("'info' must be an object")
    return document


async def fetch_text(
    url: str, policy: EgressPolicy, *, timeout_s: float = FETCH_TIMEOUT_S, max_bytes: int = MAX_DOCUMENT_BYTES
) -> str:
    """The body of ``url``, fetched under the environment's egress policy, at most ``max_bytes``."""
    if not url.startswith(("http://", "https://")):
        raise FetchFailed("the URL must start with http:// or https://")
    try:
        with egress.applying(policy):
            return await _fetch(url, timeout_s, max_bytes)
    except EgressRefused as error:
        raise FetchFailed(f"refused by the environment's egress policy: {error.reason}") from None
    except (httpx.InvalidURL, ValueError) as error:  # ValueError: a URL even the parsers cannot split
        raise FetchFailed(f"invalid URL: {str(error)[:300]}") from None
    except httpx.TimeoutException:
        raise FetchFailed(f"GET {url[:500]} did not answer within {timeout_s:g} s") from None
    except httpx.HTTPError as error:
        raise FetchFailed(f"GET {url[:500]} failed: {str(error)[:300] or type(error).__name__}") from None


async def _fetch(url: str, timeout_s: float, max_bytes: int) -> str:
    async with guarded_client() as client, client.stream("GET", url, timeout=timeout_s) as response:
        if response.status_code != 200:
            raise FetchFailed(f"GET {url[:500]} answered {response.status_code}, expected 200")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > max_bytes:
                raise DescriptionTooLarge(
                    f"the description at {url[:500]} is larger than {max_bytes // (1024 * 1024)} MiB"
                )
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidDescription("the fetched description is not UTF-8 text") from None


async def fetch_document(
    url: str, policy: EgressPolicy, *, timeout_s: float = FETCH_TIMEOUT_S
) -> dict[str, Any]:
    """The checked document at ``url`` (see :func:`fetch_text`)."""
    return parse_text(await fetch_text(url, policy, timeout_s=timeout_s))
