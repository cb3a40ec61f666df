"""A script worker process: one JSON job per line on stdin, one JSON answer per line on stdout.

Every job runs in a V8 context in which nothing a script before it did is seen, with the Postman sandbox
(pm_sandbox.js over chai), under the job's time and heap limits. Making a context and compiling chai in it
is most of a short script's cost, so a worker reuses its context from job to job while no job changes what
they share: after each job (once it has answered, while the executor sends the step's request and commits
its result), context_guard.js removes the globals the job added and checks every object the context had
before any job (the built-ins, chai) against what it recorded then; a job that changed any of them (a
prototype, chai, a global replaced) gets the context thrown away and a fresh one made, as does a job that
timed out or ran out of memory, and every ``_MAX_REUSES`` jobs. A script runs as a function body, as in
Postman's sandbox (its declarations are its own, ``return`` ends it); one that is not a valid one (a syntax
error: reported as before), or that names what could run code after it returned (timers,
``Atomics.waitAsync``, WebAssembly's compilation, finalisers, which a reused context does not have), runs
in a fresh context of its own. Jobs are ``{"script", "state", "timeout_ms", "max_memory"}``; answers
``{"tests", "changed", "removed", "error"}``.

``pm.sendRequest``: the sandbox queues the request; when the script has returned, the worker writes
``{"send": {"method", "url", "headers", "body"}}`` and reads the parent's ``{"response": {…}}`` or
``{"error": "…"}`` (the parent sends the request through Orchestra's HTTP layer and its egress policy), hands
it to the script's callback, and so on until no request is queued. The time limit is the script's own
JavaScript time, over all of these turns (the requests' time is the parent's, under the step's timeout).

The libraries of Postman's sandbox (vendor/, fetched from npm at build time) are read once per worker and
put in a job's context only when its script names them (``_``, ``lodash``, ``CryptoJS``, ``moment``, …):
a script that uses none pays nothing for them. The sandbox then offers them as Postman does: ``require``
and, for ``_`` (lodash 3), ``CryptoJS``, ``tv4`` and ``xml2Json``, globals.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from py_mini_racer import MiniRacer

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
CHAI = VENDOR / "chai.js"
SANDBOX = (HERE / "pm_sandbox.js").read_text(encoding="utf-8")
GUARD = (HERE / "context_guard.js").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class _Library:
    file: str  # in vendor/
    defines: str  # the global the file defines, taken from it and removed
    named_by: re.Pattern[str]  # a script that matches this may use it


# name (as the sandbox's require knows it) → library. lodash3 is the `_` global (Postman's is lodash 3);
# require('lodash') is lodash 4, as in Postman.
LIBRARIES: dict[str, _Library] = {
    "lodash": _Library("lodash.js", "_", re.compile(r"lodash")),
    "lodash3": _Library("lodash3.js", "_", re.compile(r"(?<![\w$])_(?![\w$])")),
    "crypto-js": _Library("crypto-js.js", "CryptoJS", re.compile(r"CryptoJS|crypto-js")),
    "moment": _Library("moment.js", "moment", re.compile(r"\bmoment\b")),
    "tv4": _Library("tv4.js", "tv4", re.compile(r"\btv4\b")),
    "ajv": _Library("ajv.js", "Ajv", re.compile(r"\bajv\b", re.IGNORECASE)),
    "xml2js": _Library("xml2js.js", "xml2js", re.compile(r"xml2js", re.IGNORECASE)),
}


class Libraries:
    """The vendored libraries' sources, read once (those missing are left out: npm was not there)."""

    def __init__(self, folder: Path = VENDOR) -> None:
        chai = folder / "chai.js"
        self.chai = chai.read_text(encoding="utf-8") if chai.exists() else None
        self.sources = {
            name: (folder / library.file).read_text(encoding="utf-8")
            for name, library in LIBRARIES.items()
            if (folder / library.file).exists()
        }

    def prepare(self, context: Any) -> None:
        """What every job's context holds before its script is known: chai, and room for libraries."""
        context.eval("var self = this; this.__orchestra_libs = {};")
        if self.chai is not None:
            context.eval(self.chai)

    def load(self, context: Any, script: str) -> None:
        """Put the libraries ``script`` names into a prepared ``context`` (as ``__orchestra_libs``)."""
        for name, source in self.sources.items():
            library = LIBRARIES[name]
            if not library.named_by.search(script):
                continue
            # Each file defines its global (a var for the bundled xml2js: kept inside a function here);
            # it is taken into __orchestra_libs and removed, so only what Postman shows is seen.
            wrapped = f"(function () {{ {source}\n; this.xml2js = xml2js; }}).call(this);"
            context.eval(wrapped if name == "xml2js" else source)
            context.eval(
                f"this.__orchestra_libs[{json.dumps(name)}] = this[{json.dumps(library.defines)}];"
                f"delete this[{json.dumps(library.defines)}];"
            )


_SCRIPT_NAME = "script.js"  # the script's name in V8's stack traces (a sourceURL comment gives it)
_FIRST_LINE = re.compile(r"^[^\s:]+:\d+: (.*)$")
_SCRIPT_LINE = re.compile(r"\bscript\.js:(\d+)")


def _error_text(error: Exception) -> str:
    """``TypeError: x is not a function (line 3)`` from V8's report: the line is the script's own, also
    when the error was thrown inside the sandbox (pm.response.to… called on that line)."""
    report = str(error)
    first = report.split("\n", 1)[0]
    match = _FIRST_LINE.match(first)
    message = (match.group(1) if match else first)[:500]
    line = _SCRIPT_LINE.search(report)
    return f"{message} (line {line.group(1)})" if line else message


Ask = Callable[[dict[str, Any]], dict[str, Any]]


class _OutOfTime(Exception):
    """The script's JavaScript time, over its turns, reached its limit."""


def _run_turns(context: Any, script: str, timeout_ms: float, max_memory: int, ask: Ask | None) -> None:
    """The script, then each queued request's callback, all within ``timeout_ms`` of JavaScript time."""
    spent = 0.0
    code = script
    while True:
        started = time.perf_counter()
        context.eval(code, timeout=max(timeout_ms - spent, 1.0), max_memory=max_memory)
        spent += (time.perf_counter() - started) * 1000
        if spent >= timeout_ms:
            raise _OutOfTime
        queued = context.eval("__orchestra_next_request()", timeout=1000)
        if queued is None:
            return
        spec = json.loads(str(queued))
        answer = ask(spec) if ask is not None else {"error": "pm.sendRequest is not available here"}
        code = f"__orchestra_deliver({json.dumps(answer)});\n//# sourceURL=postman-sandbox-turn.js"


def fresh_context(libraries: Libraries) -> MiniRacer:
    """A new V8 context, prepared (chai loaded): nothing in it yet that a job has touched."""
    from py_mini_racer import MiniRacer

    context = MiniRacer()
    try:
        libraries.prepare(context)
    except BaseException:
        context.close()
        raise
    return context


def _run_in(
    context: MiniRacer, libraries: Libraries, job: dict[str, Any], code: str, ask: Ask | None
) -> tuple[dict[str, Any], bool]:
    """Run ``job`` (its script as ``code``) in a prepared ``context``: its answer, and whether the script
    ended by itself (False: stopped at its time or memory limit, maybe with something half done)."""
    from py_mini_racer import JSOOMException, JSTimeoutException

    timeout_ms = float(job["timeout_ms"])
    max_memory = int(job["max_memory"])
    script = str(job["script"])
    context.eval("this.__orchestra_libs = {}; this.__orchestra_state = " + json.dumps(job["state"]) + ";")
    libraries.load(context, script)
    context.eval(SANDBOX + "\n//# sourceURL=postman-sandbox.js")
    context.eval("delete this.self; delete this.__orchestra_state; delete this.__orchestra_libs;")
    error: str | None = None
    ended = True
    try:
        _run_turns(context, code, timeout_ms, max_memory, ask)
    except (JSTimeoutException, _OutOfTime):
        error, ended = f"the script did not finish within {timeout_ms:g} ms", False
    except JSOOMException:
        error, ended = f"the script used more than {max_memory // 1_048_576} MB of memory", False
    except Exception as failure:  # a JavaScript error: the script's own
        error = _error_text(failure)
    try:
        answer = json.loads(str(context.eval("__orchestra_result()", timeout=1000)))
    except Exception:
        answer, ended = {"tests": [], "changed": {}, "removed": []}, False
    answer["error"] = error
    return dict(answer), ended


def run_job(
    job: dict[str, Any], libraries: Libraries, ask: Ask | None = None, context: MiniRacer | None = None
) -> dict[str, Any]:
    """Run one job in ``context`` (a fresh one from :func:`fresh_context`, made here if not given), then
    close the context: it serves one job only. The script runs as a function body, as in a reused context
    and in Postman; one that is not a valid function body runs as a script of its own, so that its syntax
    error reads as ever."""
    if context is None:
        context = fresh_context(libraries)
    try:
        script = str(job["script"])
        compiles: Any = context.eval(_COMPILES)
        code = _as_function(script) if compiles(script, timeout_sec=5.0) is True else script
        return _run_in(context, libraries, job, code + f"\n//# sourceURL={_SCRIPT_NAME}", ask)[0]
    finally:
        context.close()


def _as_function(script: str) -> str:
    """A script (a valid function body) run as the body of a function, as Postman runs it: its declarations
    are its own and a top-level ``return`` ends it."""
    return f"(function () {{{script}\n}}).call(this);"


_MAX_REUSES = 500  # jobs in one context, at most (it is then made anew: whatever a job kept stays bounded)

# What can run code after the script has returned (MiniRacer's setTimeout rests on Atomics.waitAsync and
# SharedArrayBuffer): taken out of a reused context, so that nothing of a job runs during the next one. A
# script naming one of them runs in a fresh context of its own, where they are as they always were.
_DEFERRING = ("Atomics", "SharedArrayBuffer", "WebAssembly", "FinalizationRegistry")
_NAMES_DEFERRING = re.compile(
    r"Atomics|SharedArrayBuffer|WebAssembly|FinalizationRegistry|[sS]etTimeout|[tT]imer"
)
_WITHOUT_DEFERRING = "".join(f"delete this.{name};" for name in _DEFERRING)
# Globals each job has its own of (the sandbox sets console; self and the room for libraries are chai's and
# the loader's): out of what a reused context records, so that a job's are removed after it.
_JOBS_OWN = "delete this.self; delete this.__orchestra_libs; delete this.console;"
# Whether a script is a valid function body (new Function parses it as one, running nothing): only then is
# it run wrapped in a function, which it cannot close early.
_COMPILES = (
    "(function (F) { return function (text) {"
    " try { new F(text); return true; } catch (e) { return false; } }; })(Function)"
)


class Sandbox:
    """A worker's context, reused from job to job while no job changes what they share (context_guard.js
    checks it after each one) and the jobs are of one scope (a tenant's: the worker pool is shared, and no
    tenant's script ever runs in a context another tenant's scripts ran in); jobs it cannot take run in a
    fresh context of their own."""

    def __init__(self, libraries: Libraries) -> None:
        self.libraries = libraries
        self._context: MiniRacer | None = None
        self._compiles: Any = None
        self._settle: Any = None
        self._used = False  # a job ran since the last check
        self.jobs = 0  # jobs run in the current context
        self.scope: str | None = None  # the scope of the jobs run in the current context
        self.made = 0  # contexts made so far

    def prepare(self) -> None:
        """Have a context ready for the next job: the current one if the last job left it as it found it,
        else a new one."""
        if self._context is not None:
            if not self._used:
                return
            if self.jobs < _MAX_REUSES and self._settled():
                self._used = False
                return
            self.discard()
        context = fresh_context(self.libraries)
        try:
            context.eval(_JOBS_OWN + _WITHOUT_DEFERRING)
            self._compiles = context.eval(_COMPILES)
            self._settle = context.eval(GUARD + "\n//# sourceURL=context-guard.js")
        except BaseException:
            context.close()
            raise
        self._context, self._used, self.jobs = context, False, 0
        self.made += 1

    def _settled(self) -> bool:
        try:
            return self._settle(timeout_sec=5.0) is True
        except Exception:  # a job that left the guard unable to check: the context goes
            return False

    def discard(self) -> None:
        if self._context is not None:
            self._context.close()
        self._context = self._compiles = self._settle = None

    def run(self, job: dict[str, Any], ask: Ask | None = None) -> dict[str, Any]:
        script = str(job["script"])
        if _NAMES_DEFERRING.search(script):
            return run_job(job, self.libraries, ask)
        scope = job.get("scope")
        if self._context is not None and self.jobs and scope != self.scope:
            self.discard()  # another scope's jobs ran in it
        self.prepare()
        assert self._context is not None
        self.scope = None if scope is None else str(scope)
        if self._compiles(script, timeout_sec=5.0) is not True:  # a syntax error, reported as ever
            return run_job(job, self.libraries, ask)
        self._used = True
        self.jobs += 1
        code = _as_function(script) + f"\n//# sourceURL={_SCRIPT_NAME}"
        answer, ended = _run_in(self._context, self.libraries, job, code, ask)
        if not ended:
            self.discard()
        return answer


def _ask_parent(spec: dict[str, Any]) -> dict[str, Any]:
    """One pm.sendRequest: the parent sends it and answers with the response or the error."""
    sys.stdout.write(json.dumps({"send": spec}) + "\n")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        raise SystemExit(0)  # the parent went away
    answer: dict[str, Any] = json.loads(line)
    if answer.get("error") is not None:
        return {"error": str(answer["error"]), "code": str(answer.get("code") or "EREQUEST")}
    return answer


def main() -> None:
    sandbox = Sandbox(Libraries())
    _prepare(sandbox)
    while line := sys.stdin.readline():
        try:
            answer = sandbox.run(json.loads(line), _ask_parent)
        except Exception as failure:  # the worker stays up for the next job, in a new context
            sandbox.discard()
            answer = {"tests": [], "changed": {}, "removed": [], "error": f"script worker: {failure}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        _prepare(sandbox)  # checked (or made anew) while the executor does the rest of its step


def _prepare(sandbox: Sandbox) -> None:
    try:
        sandbox.prepare()
    except Exception:  # the job tries again, and reports why that fails
        sandbox.discard()


if __name__ == "__main__":
    main()
