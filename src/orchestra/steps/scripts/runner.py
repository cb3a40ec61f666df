"""Running a Postman script from the executor: a small pool of worker processes (worker.py), a job each.

A script costs its own run time, never the executor's responsiveness: it runs in another process, under a
time limit (V8 stops it) and a heap limit, and a worker that does not answer in time (or dies) is killed and
replaced. The event loop only waits on a pipe.

A script's ``pm.sendRequest`` comes back up the pipe as ``{"send": …}``: the pool hands it to the ``send``
the caller gave (the step's HTTP layer, under its egress policy), at most ``MAX_SCRIPT_REQUESTS`` a script,
and writes the answer back; the worker resumes the script with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

SCRIPT_TIMEOUT_MS = 5000  # one script's time limit
SCRIPT_MAX_MEMORY = 64 * 1_048_576  # one script's V8 heap limit
MAX_SCRIPT_CHARS = 65_536  # as the test language allows
_GRACE_S = 10.0  # beyond the time limit, before a silent worker is killed
_WORKERS = 2
_MAX_ANSWER = 16 * 1_048_576
MAX_SCRIPT_REQUESTS = 10  # pm.sendRequest calls one script may make

Send = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""Sends a script's request (``{"method", "url", "headers", "body"}``); answers ``{"response": …}`` or
``{"error": "…"}``."""


@dataclass
class ScriptResult:
    """What a script did: its named tests, the variables it set or removed, its error if it threw, and the
    request it named with setNextRequest (``next_set``; ``next_request`` None: stop)."""

    tests: list[dict[str, Any]] = field(default_factory=list)
    changed: dict[str, Any] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    error: str | None = None
    next_set: bool = False
    next_request: str | None = None


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "orchestra.steps.scripts.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            limit=_MAX_ANSWER,
        )
        return cls(process)

    async def ask(self, job: dict[str, Any], wait_s: float, send: Send | None) -> dict[str, Any]:
        """The job's answer; the script's requests on the way are sent with ``send`` (``wait_s`` is the
        wait for each message of the worker, not counting the requests' own time)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        message = json.dumps(job).encode()
        sent = 0
        while True:
            self.process.stdin.write(message + b"\n")
            await self.process.stdin.drain()
            line = await asyncio.wait_for(self.process.stdout.readline(), wait_s)
            if not line:
                raise ConnectionError("the script worker stopped")
            answer: dict[str, Any] = json.loads(line)
            if "send" not in answer:
                return answer
            sent += 1
            if send is None or sent > MAX_SCRIPT_REQUESTS:  # the sandbox refuses first; this holds anyway
                reply: dict[str, Any] = {"error": "pm.sendRequest: no more requests are allowed"}
            else:
                reply = await send(dict(answer["send"]))
            message = json.dumps(reply).encode()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()


class ScriptPool:
    """Worker processes shared by the runs of one process; started on first use."""

    def __init__(self, size: int = _WORKERS) -> None:
        self.size = size
        self._idle: asyncio.Queue[_Worker | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _queue(self) -> asyncio.Queue[_Worker | None]:
        loop = asyncio.get_running_loop()
        if self._idle is not None and self._loop is not loop:  # pipes belong to the loop that made them
            while not self._idle.empty():
                stale = self._idle.get_nowait()
                if stale is not None:
                    stale.kill()
            self._idle = None
        if self._idle is None:
            self._loop = loop
            self._idle = asyncio.Queue()
            for _ in range(self.size):
                self._idle.put_nowait(None)  # a worker to start when first needed
        return self._idle

    async def run(
        self,
        script: str,
        state: dict[str, Any],
        *,
        timeout_ms: float = SCRIPT_TIMEOUT_MS,
        max_memory: int = SCRIPT_MAX_MEMORY,
        send: Send | None = None,
        scope: str | None = None,
    ) -> ScriptResult:
        """``send``: performs the script's pm.sendRequest calls (none: the script may not send any).
        ``scope``: whose script it is (a tenant); a worker reuses a context only for scripts of one scope."""
        idle = self._queue()
        worker = await idle.get()
        try:
            if worker is None or worker.process.returncode is not None:
                worker = await _Worker.start()
            state = {**state, "maxRequests": MAX_SCRIPT_REQUESTS if send is not None else 0}
            job = {
                "script": script,
                "state": state,
                "timeout_ms": timeout_ms,
                "max_memory": max_memory,
                "scope": scope,
            }
            try:
                answer = await worker.ask(job, timeout_ms / 1000 + _GRACE_S, send)
            except (TimeoutError, ConnectionError, ValueError, asyncio.LimitOverrunError) as failure:
                worker.kill()
                worker = None
                reason = "did not finish" if isinstance(failure, TimeoutError) else f"failed ({failure})"
                return ScriptResult(error=f"the script worker {reason}; it was stopped")
            except BaseException:
                worker.kill()  # cancelled mid-job: its answer would be read by the next job
                worker = None
                raise
        finally:
            idle.put_nowait(worker)
        return ScriptResult(
            tests=list(answer.get("tests") or []),
            changed=dict(answer.get("changed") or {}),
            removed=list(answer.get("removed") or []),
            error=answer.get("error"),
            next_set="next" in answer,
            next_request=None if answer.get("next") is None else str(answer["next"]),
        )

    async def close(self) -> None:
        if self._idle is None:
            return
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            if worker is not None:
                worker.kill()
                with contextlib.suppress(ProcessLookupError):
                    await worker.process.wait()


POOL = ScriptPool()
