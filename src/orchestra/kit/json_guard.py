"""ASGI middleware refusing JSON request bodies that parse but are hostile, before any handler parses them.

Python's ``json`` recurses once per nesting level: 100,000 ``[`` raise RecursionError, and a few hundred
levels that do parse still break later layers (pydantic's serialiser gives up at about 255 levels, and
FastAPI answered both with a misleading "could not be parsed"). So a body nested deeper than
``MAX_JSON_DEPTH`` is refused with 400 before it is parsed, by a linear scan that never recurses. The limit
is above anything a definition needs: YAML files may nest 100 levels (``testcases.loader.MAX_DEPTH``), and
``orchestra apply --server`` sends them wrapped in two more.

Duplicate keys (``{"name": "a", "name": "b"}``) are refused with 422: JSON leaves their meaning open
(Python keeps the last, other parsers the first), so a proxy and Orchestra could read different requests;
YAML definitions refuse them too. Numbers longer than Python's 4300-digit limit get a clear 400 instead of
"could not be parsed".

Only bodies FastAPI would parse as JSON are looked at (``application/json`` and ``application/*+json``);
the outer ``BodyLimitMiddleware`` bounds how much is buffered here. Malformed JSON and invalid UTF-8 are
left to FastAPI, which reports them (422 with the position, 400).
"""

from __future__ import annotations

import itertools
import json
import operator
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_DEPTH = 128

# A JSON string, or an unterminated one up to the end (so a stray quote never makes the scan quadratic).
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_WEIGHTS = bytes.maketrans(b"[]", b"\x02\x00")


def is_json_media_type(content_type: str) -> bool:
    """What FastAPI parses as JSON: ``application/json`` and ``application/<anything>+json``."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    maintype, _, subtype = media_type.partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """Whether arrays and objects in ``body`` nest deeper than ``limit``; linear, without recursion.

    Brackets inside strings do not count. For malformed JSON the answer is approximate (that body is
    refused either way)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRINGS.sub(b"", body).translate(_AS_SQUARE, _NOT_BRACKETS)
    if b"[" * (limit + 1) in brackets:  # the usual attack, found without the scan below
        return True
    # Depth after the i-th bracket (1-based) = 2 * (opening brackets so far) - i.
    depths = map(operator.sub, itertools.accumulate(brackets.translate(_WEIGHTS)), itertools.count(1))
    return max(depths, default=0) > limit


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return result


def json_body_problem(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> tuple[int, str] | None:
    """``(status, detail)`` when ``body`` must be refused; None when it is fine or when FastAPI's own
    parsing reports the problem better (malformed JSON, invalid UTF-8)."""
    if nesting_exceeds(body, max_depth):
        return 400, f"the JSON body is nested deeper than {max_depth} levels of arrays and objects"
    try:
        json.loads(body, object_pairs_hook=_refuse_duplicates)
    except DuplicateKey as error:
        return 422, f"the JSON body has the key {error.key[:100]!r} twice in one object"
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    except ValueError as error:  # e.g. an integer beyond Python's 4300-digit limit
        return 400, f"the JSON body could not be read: {str(error).split(';')[0][:200]}"
    except RecursionError:  # not reached below the depth limit; kept so it can never become a 500
        return 400, f"the JSON body is nested deeper than {max_depth} levels of arrays and objects"
    return None


class JsonBodyGuardMiddleware:
    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_json(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if messages[-1]["type"] == "http.request":
            body = b"".join(message.get("body", b"") for message in messages)
            problem = json_body_problem(body, self.max_depth) if body else None
            if problem is not None:
                await _send_problem(send, *problem)
                return
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _is_json(scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                return is_json_media_type(value.decode("latin-1"))
        return False


async def _send_problem(send: Send, status: int, detail: str) -> None:
    title = {400: "Bad request", 422: "Invalid input"}[status]
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
