"""A fake Ollama server: a real HTTP server on 127.0.0.1 speaking Ollama's wire protocol (as the ``ollama``
package sends and parses it), with scripted chat replies, deterministic embeddings and fault injection.

An LLM server is a boundary we cannot run in tests, so this fake stands in for it over real HTTP; the code
under test uses the real ``ollama`` client against it. It runs in its own thread (and event loop) so that a
slow reply never blocks the test's loop, and it works from sync and async tests alike::

    with FakeOllama() as ollama:
        ollama.script(tool_call("list_operations"), json_reply({"version": 1, ...}))
        ... settings.ollama_url = ollama.url ...
        assert ollama.chat_requests[1]["format"] == dataplan_json_schema()

Scripted items are consumed in order per endpoint; a callable item (or ``on_chat``) sees the request body and
returns the item to send. Without a scripted item a chat gets HTTP 500, so a test never passes on a reply it
did not write down. Embeddings are a hashed bag of words, L2-normalised: the same text gives the same vector
and texts sharing words are close.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.ports import refused_url

DEFAULT_MODELS = ("qwen2.5:3b", "nomic-embed-text")
OLLAMA_VERSION = "0.12.3"
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Reply:
    """An assistant message: text content and/or tool calls (each ``(name, arguments)``)."""

    content: str = ""
    tool_calls: Sequence[tuple[str, Mapping[str, Any]]] = ()


@dataclass(frozen=True)
class Fault:
    """An HTTP error (or a broken body) exactly as it leaves the server."""

    status: int
    body: str
    content_type: str = "application/json; charset=utf-8"

    @classmethod
    def server_error(cls, message: str = "llama runner process has terminated: exit status 2") -> Fault:
        return cls(500, json.dumps({"error": message}))

    @classmethod
    def model_not_found(cls, model: str) -> Fault:
        return cls(404, json.dumps({"error": f'model "{model}" not found, try pulling it first'}))

    @classmethod
    def malformed(cls, raw: str = '{"model": "qwen2.5:3b", "message": {"role": "assist') -> Fault:
        """HTTP 200 with a body that is not JSON (a truncated answer)."""
        return cls(200, raw)


@dataclass(frozen=True)
class Slow:
    """Wait ``seconds`` before sending ``then`` (for client timeouts)."""

    seconds: float
    then: Reply | Fault = field(default_factory=Reply)


Item = Reply | Fault | Slow
ScriptItem = Item | Callable[[dict[str, Any]], Item]


def text(content: str) -> Reply:
    return Reply(content=content)


def json_reply(value: Any) -> Reply:
    """What a model answers under ``format``: the JSON document as message content."""
    return Reply(content=json.dumps(value))


def tool_call(name: str, **arguments: Any) -> Reply:
    return Reply(tool_calls=[(name, arguments)])


def tool_calls(*calls: tuple[str, Mapping[str, Any]]) -> Reply:
    return Reply(tool_calls=list(calls))


def embedding(text_: str, dimensions: int) -> list[float]:
    """The fake's embedding of one text: hashed words into ``dimensions`` buckets with signs, unit length."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text_.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        index = int.from_bytes(digest[:4], "big") % dimensions
        vector[index] += 1.0 if digest[4] % 2 == 0 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


def unused_url() -> str:
    """A URL where every connection is refused (for 'Ollama unreachable'), whatever else runs here."""
    return refused_url()


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    raw: bytes
    headers: dict[str, str]


class FakeOllama:
    """Start with ``with FakeOllama() as ollama`` (or ``start()``/``stop()``); ``url`` is its base URL."""

    def __init__(self, models: Sequence[str] = DEFAULT_MODELS, dimensions: int = 768) -> None:
        self.models = list(models)
        self.dimensions = dimensions
        self.requests: list[Recorded] = []
        self.on_chat: Callable[[dict[str, Any]], Item] | None = None
        self._queues: dict[str, deque[ScriptItem]] = {"/api/chat": deque(), "/api/embed": deque()}
        self._closing = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # scripting ----------------------------------------------------------------------------------------
    def script(self, *items: ScriptItem, path: str = "/api/chat") -> None:
        """Queue replies for ``path`` (``/api/chat`` or ``/api/embed``; for embed only faults/slowness)."""
        self._queues[path].extend(items)

    @property
    def pending(self) -> int:
        """Scripted chat replies not consumed yet."""
        return len(self._queues["/api/chat"])

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == "/api/chat" and isinstance(r.body, dict)]

    @property
    def embed_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == "/api/embed" and isinstance(r.body, dict)]

    def all_request_text(self) -> str:
        """Every byte the server received, decoded: for 'this never reached the model' assertions."""
        return "\n".join(r.raw.decode("utf-8", "replace") for r in self.requests)

    # lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> FakeOllama:
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="fake-ollama", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake Ollama did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        self.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        return self

    def stop(self) -> None:
        self._closing.set()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # the protocol -------------------------------------------------------------------------------------
    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/chat", self._chat, methods=["POST"]),
                Route("/api/embed", self._embed, methods=["POST"]),
                Route("/api/tags", self._tags, methods=["GET"]),
                Route("/api/version", self._version, methods=["GET"]),
                Route("/", self._root, methods=["GET", "HEAD"]),
            ]
        )

    async def _record(self, request: Request) -> Recorded:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        recorded = Recorded(request.method, request.url.path, body, raw, dict(request.headers))
        self.requests.append(recorded)
        return recorded

    def _next(self, path: str, body: dict[str, Any]) -> Item | None:
        queue = self._queues[path]
        item: ScriptItem | None = queue.popleft() if queue else None
        if item is None and path == "/api/chat" and self.on_chat is not None:
            item = self.on_chat
        return item(body) if callable(item) else item

    async def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._closing.is_set():
            await asyncio.sleep(0.02)

    def _check(self, recorded: Recorded) -> Response | dict[str, Any]:
        body = recorded.body
        if not isinstance(body, dict):
            return _error(400, "invalid request body")
        model = body.get("model")
        if not model:
            return _error(400, "model is required")
        if model not in self.models:
            return _fault(Fault.model_not_found(str(model)))
        return body

    async def _chat(self, request: Request) -> Response:
        checked = self._check(await self._record(request))
        if isinstance(checked, Response):
            return checked
        item = self._next("/api/chat", checked)
        if isinstance(item, Slow):
            await self._wait(item.seconds)
            item = item.then
        if item is None:
            return _error(500, "fake ollama: no scripted reply for /api/chat")
        if isinstance(item, Fault):
            return _fault(item)
        model = str(checked["model"])
        if checked.get("stream", True) is False:
            return JSONResponse(_final_chunk(model, _message(item.content, item.tool_calls)))
        return StreamingResponse(_stream(model, item), media_type="application/x-ndjson")

    async def _embed(self, request: Request) -> Response:
        checked = self._check(await self._record(request))
        if isinstance(checked, Response):
            return checked
        item = self._next("/api/embed", checked)
        if isinstance(item, Slow):
            await self._wait(item.seconds)
            item = item.then
        if isinstance(item, Fault):
            return _fault(item)
        inputs = checked.get("input", "")
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        if not all(isinstance(t, str) for t in texts):
            return _error(400, "invalid input type")
        dimensions = checked.get("dimensions") or self.dimensions
        vectors = [embedding(t, self.dimensions)[:dimensions] for t in texts]
        return JSONResponse(
            {
                "model": checked["model"],
                "embeddings": vectors,
                "total_duration": 1000,
                "load_duration": 100,
                "prompt_eval_count": sum(len(t.split()) for t in texts),
            }
        )

    async def _tags(self, request: Request) -> Response:
        await self._record(request)
        return JSONResponse(
            {
                "models": [
                    {
                        "name": m,
                        "model": m,
                        "modified_at": "2026-01-01T00:00:00Z",
                        "size": 1_900_000_000,
                        "digest": hashlib.sha256(m.encode()).hexdigest(),
                        "details": {"format": "gguf", "family": m.split(":")[0], "parameter_size": "3B"},
                    }
                    for m in self.models
                ]
            }
        )

    async def _version(self, request: Request) -> Response:
        await self._record(request)
        return JSONResponse({"version": OLLAMA_VERSION})

    async def _root(self, request: Request) -> Response:
        return Response("Ollama is running", media_type="text/plain")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _message(content: str, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [
            {"function": {"index": i, "name": name, "arguments": dict(args)}}
            for i, (name, args) in enumerate(calls)
        ]
    return message


def _final_chunk(model: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": model,
        "created_at": _now(),
        "message": message,
        "done": True,
        "done_reason": "stop",
        "total_duration": 5_000_000,
        "load_duration": 1_000_000,
        "prompt_eval_count": 10,
        "prompt_eval_duration": 1_000_000,
        "eval_count": max(1, len(message.get("content", "")) // 4),
        "eval_duration": 2_000_000,
    }


def _stream(model: str, reply: Reply) -> Iterator[bytes]:
    """NDJSON as Ollama streams it: content in pieces, tool calls in one chunk, then a final ``done``."""
    content = reply.content
    for start in range(0, len(content), 8):
        chunk = {
            "model": model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": content[start : start + 8]},
            "done": False,
        }
        yield (json.dumps(chunk) + "\n").encode()
    if reply.tool_calls:
        chunk = {
            "model": model,
            "created_at": _now(),
            "message": _message("", reply.tool_calls),
            "done": False,
        }
        yield (json.dumps(chunk) + "\n").encode()
    yield (json.dumps(_final_chunk(model, {"role": "assistant", "content": ""})) + "\n").encode()


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _fault(fault: Fault) -> Response:
    return Response(fault.body, status_code=fault.status, media_type=fault.content_type)
