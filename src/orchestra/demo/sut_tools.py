"""Endpoints of the demo SUT that exist to exercise a test runner: health, slow, html, big, echo, chain,
flaky, redirect and the request log. None of them needs authentication."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from orchestra.demo.sut_http import State
from orchestra.demo.sut_models import ChainStep
from orchestra.demo.sut_values import JsonObject

router = APIRouter()

ECHO_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
BIG_CHUNK_CHARS = 1021  # a quoted chunk plus its comma is exactly 1 KiB of JSON

DEMO_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Orchestra demo shop</title></head>
<body>
<h1>Orchestra demo shop</h1>
<p>This is the System Under Test that ships with Orchestra. It answers HTML here, JSON elsewhere.</p>
<ul><li><a href="/health">/health</a></li><li><a href="/docs">/docs</a></li></ul>
</body>
</html>
"""


@router.get("/health", operation_id="health")
async def health() -> JsonObject:
    return {"status": "ok"}


@router.get("/slow", operation_id="slow")
async def slow(ms: Annotated[int, Query(ge=0, le=30_000)] = 1000) -> JsonObject:
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms}


@router.get("/html", response_class=HTMLResponse, operation_id="htmlPage")
async def html_page() -> str:
    return DEMO_PAGE


@router.get("/big", operation_id="big")
async def big(kb: Annotated[int, Query(ge=1, le=20_000)] = 1) -> Response:
    """A JSON body of about ``kb`` KiB: ``{"kb": kb, "chunks": [<kb strings of ~1 KiB>]}``."""
    chunks = ",".join(f'"{index:08d}{"x" * (BIG_CHUNK_CHARS - 8)}"' for index in range(kb))
    return Response(f'{{"kb":{kb},"chunks":[{chunks}]}}', media_type="application/json")


def _single_or_list(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Collapse repeated keys into lists, keep single ones as plain strings."""
    collected: dict[str, list[str]] = {}
    for key, value in pairs:
        collected.setdefault(key, []).append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in collected.items()}


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def echo(request: Request) -> JSONResponse:
    """Everything about the request: method, path, headers (lower-cased names), query and body.

    ``body`` is the raw body as text; ``json`` is it parsed when the content type is JSON; ``form``
    holds the fields of a URL-encoded form body.
    """
    raw = await request.body()
    content_type = request.headers.get("content-type", "").lower()
    text = raw.decode("utf-8", errors="replace")
    echoed = {
        "method": request.method,
        "path": request.url.path,
        "headers": {name.lower(): value for name, value in request.headers.items()},
        "query": _single_or_list(list(request.query_params.multi_items())),
        "content_type": content_type or None,
        "json": _parse_json(raw) if "json" in content_type and raw else None,
        "form": _single_or_list(parse_qsl(text, keep_blank_values=True))
        if content_type.startswith("application/x-www-form-urlencoded")
        else None,
        "body": text,
    }
    headers = {"Allow": ", ".join(ECHO_METHODS)} if request.method == "OPTIONS" else None
    return JSONResponse(echoed, headers=headers)


for _method in ECHO_METHODS:  # one route per method, so each operation has an id of its own
    router.add_api_route("/echo", echo, methods=[_method], operation_id=f"echo{_method.title()}")


@router.post("/chain", operation_id="chain")
async def chain(step: ChainStep) -> JsonObject:
    return {"value": step.value, "next": step.value + 1}


@router.get("/flaky", operation_id="flaky")
async def flaky(
    state: State,
    key: Annotated[str, Query(min_length=1, max_length=200)],
    fail_times: Annotated[int, Query(ge=0, le=100)] = 1,
) -> JSONResponse:
    """The first ``fail_times`` calls for ``key`` answer 503 with ``Retry-After: 0``, later ones 200."""
    calls = state.count_flaky_call(key)
    if calls <= fail_times:
        return JSONResponse(
            {"detail": "temporarily unavailable"}, status_code=503, headers={"Retry-After": "0"}
        )
    return JSONResponse({"key": key, "calls": calls})


@router.get("/redirect", operation_id="redirect")
async def redirect(
    to: Annotated[str, Query(min_length=1, max_length=2000)] = "/health",
    status: Annotated[int, Query()] = 302,
) -> RedirectResponse:
    """Redirect to a path on this server (never elsewhere) with the given 3xx status."""
    if not to.startswith("/") or to.startswith("//"):
        raise HTTPException(status_code=422, detail="'to' must be a path on this server, like /health")
    if status not in REDIRECT_STATUSES:
        raise HTTPException(status_code=422, detail=f"'status' must be one of {list(REDIRECT_STATUSES)}")
    return RedirectResponse(to, status_code=status)


@router.get("/_log", operation_id="readRequestLog")
async def read_request_log(state: State) -> JsonObject:
    return {"count": len(state.request_log), "entries": list(state.request_log)}


@router.delete("/_log", status_code=204, operation_id="clearRequestLog")
async def clear_request_log(state: State) -> Response:
    state.request_log.clear()
    return Response(status_code=204)
