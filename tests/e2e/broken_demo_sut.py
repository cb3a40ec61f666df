"""A variant of the demo SUT that breaks its own OpenAPI description in three places, to prove that the
contract checks of an imported suite catch a deviating answer: ``GET /items/{item_id}`` answers a price
that is text, ``GET /health`` answers ``text/plain``, ``POST /customers`` answers 200 instead of 201.
Its description (``/openapi.json``) is the demo's, unchanged.

Served like the demo: ``python -m tests.e2e.broken_demo_sut --port 0``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from orchestra.demo.__main__ import main as serve
from orchestra.demo.sut import create_app

_ITEM = re.compile(r"^/items/[^/]+$")


async def _body(response: Response) -> bytes:
    chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
    return b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks)


def create_broken_app() -> FastAPI:
    app = create_app()

    @app.middleware("http")
    async def deviate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        path, method = request.url.path, request.method
        if method == "GET" and path == "/health":
            return Response("ok", media_type="text/plain")
        if method == "GET" and _ITEM.match(path) and response.status_code == 200:
            item = json.loads(await _body(response))
            item["price"] = "cheap"
            return Response(json.dumps(item), media_type="application/json")
        if method == "POST" and path == "/customers" and response.status_code == 201:
            body = await _body(response)
            headers = {"Location": response.headers.get("location", "")}
            return Response(body, status_code=200, media_type="application/json", headers=headers)
        return response

    return app


if __name__ == "__main__":
    sys.exit(serve(app_factory=create_broken_app))
