"""A script worker process: one JSON job per line on stdin, one JSON answer per line on stdout.

Every job gets a fresh V8 context (nothing one script leaves behind is seen by the next), the Postman
sandbox (pm_sandbox.js over chai), and runs under the job's time and heap limits. Making a context and
compiling chai in it is most of a short script's cost, so the worker makes the next job's context as soon as
it has answered, while the executor sends the step's request and commits its result. Jobs are
``{"script", "state", "timeout_ms", "max_memory"}``; answers ``{"tests", "changed", "removed", "error"}``.

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


def run_job(
    job: dict[str, Any], libraries: Libraries, ask: Ask | None = None, context: MiniRacer | None = None
) -> dict[str, Any]:
    """Run one job in ``context`` (a fresh one from :func:`fresh_context`, made here if not given), then
    close the context: it serves one job only."""
    from py_mini_racer import JSOOMException, JSTimeoutException

    timeout_ms = float(job["timeout_ms"])
    max_memory = int(job["max_memory"])
    if context is None:
        context = fresh_context(libraries)
    try:
        libraries.load(context, str(job["script"]))
        context.eval("this.__orchestra_state = " + json.dumps(job["state"]) + ";")
        context.eval(SANDBOX + "\n//# sourceURL=postman-sandbox.js")
        context.eval("delete this.self; delete this.__orchestra_state; delete this.__orchestra_libs;")
        error: str | None = None
        try:
            script = str(job["script"]) + f"\n//# sourceURL={_SCRIPT_NAME}"
            _run_turns(context, script, timeout_ms, max_memory, ask)
        except (JSTimeoutException, _OutOfTime):
            error = f"the script did not finish within {timeout_ms:g} ms"
        except JSOOMException:
            error = f"the script used more than {max_memory // 1_048_576} MB of memory"
        except Exception as failure:  # a JavaScript error: the script's own
            error = _error_text(failure)
        try:
            answer = json.loads(str(context.eval("__orchestra_result()", timeout=1000)))
        except Exception:
            answer = {"tests": [], "changed": {}, "removed": []}
        answer["error"] = error
        return dict(answer)
    finally:
        context.close()


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
    libraries = Libraries()
    spare = _prepared(libraries)
    while line := sys.stdin.readline():
        context, spare = spare, None
        try:
            answer = run_job(json.loads(line), libraries, _ask_parent, context)
        except Exception as failure:  # the worker stays up for the next job
            if context is not None:
                context.close()
            answer = {"tests": [], "changed": {}, "removed": [], "error": f"script worker: {failure}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        spare = _prepared(libraries)  # made while the executor does the rest of its step


def _prepared(libraries: Libraries) -> MiniRacer | None:
    try:
        return fresh_context(libraries)
    except Exception:  # the job makes its own, and reports why that fails
        return None


if __name__ == "__main__":
    main()
