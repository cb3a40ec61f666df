"""Postman scripts run for real in the script workers: pm.test and chai as named checks, the legacy sandbox,
variables, and the limits — a throwing script reports its error and line, an endless loop and a memory hog are
stopped, and nothing but the pm API is reachable."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.egress_http import guarded_client
from orchestra.steps.outcome import NextRequest
from orchestra.steps.response import ResponseView
from orchestra.steps.scripts.runner import MAX_SCRIPT_REQUESTS, POOL
from orchestra.steps.scripts.step_scripts import ScriptRequests, run_scripts
from orchestra.steps.scripts.worker import CHAI, Libraries

pytestmark = pytest.mark.skipif(
    not CHAI.exists(), reason="chai is not fetched: run `make js-vendor` (needs npm)"
)

BODY = {"id": 5, "name": "pen", "tags": ["office", "blue"], "price": 2.5}
VIEW = ResponseView(
    status=201,
    headers={"Content-Type": "application/json", "X-Total": "3"},
    text=json.dumps(BODY),
    elapsed_ms=12,
)
REQUEST = {"method": "POST", "url": "http://h/items", "headers": {"X-A": "1"}, "json": {"name": "pen"}}


async def outcome_of(
    script: str, **variables: object
) -> tuple[list[tuple[str, bool, str]], dict[str, object], str | None]:
    outcome = await run_scripts(
        [script], phase="test", step_name="s", variables=variables, request=REQUEST, view=VIEW
    )
    checks = [(check.name or "", check.passed, check.message) for check in outcome.checks]
    return checks, outcome.variables, outcome.error


async def test_each_pm_test_is_a_named_check_with_chai_and_the_postman_assertions() -> None:
    checks, variables, error = await outcome_of(
        """
        const data = pm.response.json();
        pm.test("created", () => pm.response.to.have.status(201));
        pm.test("a success", () => { pm.response.to.be.success; });
        pm.test("header", () => pm.response.to.have.header("x-total", "3"));
        pm.test("chai chain", function () {
            pm.expect(data.tags).to.be.an("array").that.includes("blue").and.has.lengthOf(2);
            pm.expect(data).to.have.property("price").that.is.above(2);
            pm.expect(data.name).to.match(/^p/);
        });
        pm.test("wrong id", function () { pm.expect(data.id).to.eql(6); });
        pm.test("request seen", () => pm.expect(pm.request.headers.get("x-a")).to.equal("1"));
        pm.test("timing", () => pm.expect(pm.response.responseTime).to.be.below(1000));
        pm.environment.set("item_id", data.id);
        pm.collectionVariables.set("base-url", "http://other");
        """
    )
    assert error is None
    assert [(name, passed) for name, passed, _ in checks] == [
        ("created", True),
        ("a success", True),
        ("header", True),
        ("chai chain", True),
        ("wrong id", False),
        ("request seen", True),
        ("timing", True),
    ]
    assert checks[4][2] == "[wrong id] AssertionError: expected 5 to deeply equal 6"
    assert variables == {"item_id": 5, "base_url": "http://other"}  # Postman names as template names


async def test_the_legacy_sandbox_answers_like_postmans() -> None:
    checks, variables, error = await outcome_of(
        """
        var data = JSON.parse(responseBody);
        tests["status is 201"] = responseCode.code === 201;
        tests["fast"] = responseTime < 1000;
        tests["wrong name"] = data.name === "cup";
        tests["base64"] = btoa("ab") === "YWI=" && atob("YWI=") === "ab";
        tests["old variable"] = postman.getEnvironmentVariable("user") === "ann";
        postman.setEnvironmentVariable("seen", responseHeaders["X-Total"]);
        """,
        user="ann",
    )
    assert error is None
    assert [(name, passed) for name, passed, _ in checks] == [
        ("status is 201", True),
        ("fast", True),
        ("wrong name", False),
        ("base64", True),
        ("old variable", True),
    ]
    assert variables == {"seen": "3"}


async def test_pre_request_scripts_run_in_order_each_seeing_what_the_one_before_set() -> None:
    outcome = await run_scripts(
        ["pm.variables.set('a', 1)", "const a = pm.variables.get('a'); pm.environment.set('b', a + 1);"],
        phase="prerequest",
        step_name="s",
        variables={},
        request=REQUEST,
    )
    assert outcome.error is None
    assert outcome.variables == {"a": 1, "b": 2}


async def test_a_throwing_script_reports_the_javascript_error_and_its_line_and_keeps_earlier_tests() -> None:
    checks, _, error = await outcome_of("pm.test('first', () => {});\nvar x = null;\nx.field = 1;")
    assert checks == [("first", True, "[first] passed")]
    assert error == "test script: TypeError: Cannot set properties of null (setting 'field') (line 3)"


async def test_an_endless_loop_is_stopped_at_its_time_limit() -> None:
    started = time.monotonic()
    result = await POOL.run("while (true) {}", {"phase": "test", "variables": {}}, timeout_ms=300)
    assert result.error == "the script did not finish within 300 ms"
    assert time.monotonic() - started < 5


async def test_a_script_that_takes_memory_without_end_is_stopped_at_its_limit() -> None:
    hog = "var kept = []; while (true) { kept.push(new Array(100000).fill(1)); }"
    result = await POOL.run(hog, {"phase": "test", "variables": {}}, max_memory=32 * 1_048_576)
    assert result.error == "the script used more than 32 MB of memory"


async def test_a_script_reaches_nothing_but_the_pm_api_and_leaves_nothing_for_the_next() -> None:
    checks, _, error = await outcome_of(
        """
        pm.test("no modules but Postman's, no process, network or files", () => {
            pm.expect(() => require("fs")).to.throw("Cannot find module 'fs'");
            pm.expect(() => require("child_process")).to.throw("Cannot find module 'child_process'");
            pm.expect(() => require("http")).to.throw("Cannot find module 'http'");
            pm.expect(typeof process).to.equal("undefined");
            pm.expect(typeof fetch).to.equal("undefined");
            pm.expect(typeof XMLHttpRequest).to.equal("undefined");
            pm.expect(typeof Deno + typeof Bun).to.equal("undefinedundefined");
        });
        globalThis.leftBehind = 1;
        """
    )
    assert error is None
    assert checks[0][1] is True
    later, _, _ = await outcome_of(
        "pm.test('clean', () => pm.expect(typeof leftBehind).to.equal('undefined'));"
    )
    assert later[0][1] is True


# -- pm.sendRequest: sent by the step's HTTP layer under its egress policy -----------------------------------


class _Echo(BaseHTTPRequestHandler):
    """A real HTTP server on 127.0.0.1: answers every request with what it received, as JSON."""

    hits: ClassVar[list[str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        _Echo.hits.append(f"{self.command} {self.path}")
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/landed")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = json.dumps(
            {"method": self.command, "path": self.path, "body": body, "header": self.headers.get("X-Probe")}
        ).encode()
        self.send_response(404 if self.path.startswith("/missing") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Echo.hits = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def sent_by(
    script: str, policy: EgressPolicy, **variables: object
) -> tuple[list[tuple[str, bool, str]], list[str], str | None]:
    """The script's named tests, its recorded requests (the pm.sendRequest checks) and its error."""
    async with guarded_client() as client:
        requests = ScriptRequests(client, timeout_ms=3000, max_bytes=1_048_576)
        with egress.applying(policy):
            outcome = await run_scripts(
                [script],
                phase="test",
                step_name="s",
                variables=variables,
                request=REQUEST,
                view=VIEW,
                requests=requests,
            )
    named = [(c.name or "", c.passed, c.message) for c in outcome.checks if c.check != "pm.sendRequest"]
    recorded = [c.message for c in outcome.checks if c.check == "pm.sendRequest"]
    answered = [c.passed for c in outcome.checks if c.check == "pm.sendRequest"]
    assert answered == [" → not answered: " not in line for line in recorded]  # a check: was it answered
    return named, recorded, outcome.error


def local(url: str) -> EgressPolicy:
    return EgressPolicy.for_environment(url, [], True, "sut")


async def test_send_request_hands_its_callback_the_response_and_runs_the_tests_it_makes(echo: str) -> None:
    named, recorded, error = await sent_by(
        """
        pm.sendRequest(pm.environment.get("base") + "/first", function (err, res) {
            pm.test("no error", () => pm.expect(err).to.equal(null));
            pm.test("status", () => pm.expect(res.code).to.equal(200));
            pm.test("json", () => pm.expect(res.json().path).to.equal("/first"));
            pm.test("no pm.response assertions, as in newman", () => pm.expect(res.to).to.equal(undefined));
            pm.environment.set("first_path", res.json().path);
            pm.sendRequest({
                url: pm.environment.get("base") + "/second",
                method: "POST",
                header: { "X-Probe": "p-1", "Content-Type": "application/json" },
                body: { mode: "raw", raw: JSON.stringify({ after: res.json().path }) },
            }, function (err2, res2) {
                pm.test("nested", () => {
                    pm.expect(res2.json().method).to.equal("POST");
                    pm.expect(res2.json().header).to.equal("p-1");
                    pm.expect(JSON.parse(res2.json().body).after).to.equal("/first");
                    pm.expect(res2.headers.get("content-type")).to.include("json");
                });
            });
        });
        pm.sendRequest({ url: pm.environment.get("base") + "/form", method: "PUT",
                         body: { mode: "urlencoded", urlencoded: [{ key: "a b", value: "1&2" }] } },
                       (err, res) => pm.test("urlencoded",
                                             () => pm.expect(res.json().body).to.equal("a%20b=1%262")));
        pm.sendRequest(pm.environment.get("base") + "/missing", (err, res) => {
            pm.test("a 404 is a response, not an error", () => {
                pm.expect(err).to.equal(null); pm.expect(res.code).to.equal(404);
            });
        });
        pm.sendRequest(pm.environment.get("base") + "/redirect", (err, res) => {
            pm.test("redirects followed", () => pm.expect(res.json().path).to.equal("/landed"));
        });
        pm.test("the script goes on before the answers",
                () => pm.expect(pm.environment.get("first_path")).to.equal(undefined));
        """,
        local(echo),
        base=echo,
    )
    assert error is None
    assert [(name, passed) for name, passed, _ in named] == [
        ("the script goes on before the answers", True),
        ("no error", True),
        ("status", True),
        ("json", True),
        ("no pm.response assertions, as in newman", True),
        ("urlencoded", True),
        ("a 404 is a response, not an error", True),
        ("redirects followed", True),
        ("nested", True),
    ]
    assert _Echo.hits == [
        "GET /first",
        "PUT /form",
        "GET /missing",
        "GET /redirect",
        "GET /landed",
        "POST /second",
    ]
    assert [line.split(" → ")[0] for line in recorded] == [
        f"GET {echo}/first",
        f"PUT {echo}/form",
        f"GET {echo}/missing",
        f"GET {echo}/redirect",
        f"POST {echo}/second",
    ]
    assert recorded[2].split(" → ")[1].startswith("404 in ")


async def test_a_forbidden_or_private_host_is_never_contacted_and_the_callback_gets_the_error(
    echo: str,
) -> None:
    script = """
        pm.sendRequest("http://elsewhere.example/x", (err, res) => {
            pm.test("other host refused", () => {
                pm.expect(err).to.be.an("object").that.is.not.an("error");  // as newman's: a plain object
                pm.expect(err.code).to.equal("EGRESS_REFUSED"); pm.expect(res.code).to.equal(undefined);
            });
            pm.environment.set("refused", err.message);
        });
        pm.sendRequest("http://169.254.169.254/latest/meta-data/",
                       (err) => pm.environment.set("metadata", err.message));
        pm.sendRequest("http://10.0.0.5:9/internal", (err) => pm.environment.set("private", err.message));
    """
    # Only api.example and the two private addresses are allowed hosts, and private networks are not.
    strict = EgressPolicy.for_environment("http://api.example", ["169.254.169.254", "10.0.0.5"], False, "sut")
    named, recorded, error = await sent_by(script, strict)
    assert error is None
    assert named[0][:2] == ("other host refused", True), named
    assert len(recorded) == 3
    assert all(" → not answered: " in line for line in recorded)
    outcome = await _variables_of(script, strict)
    assert "host 'elsewhere.example' is not allowed" in str(outcome["refused"])
    assert "169.254.169.254" in str(outcome["metadata"])
    assert "10.0.0.5" in str(outcome["private"])
    assert _Echo.hits == []


async def _variables_of(script: str, policy: EgressPolicy) -> dict[str, object]:
    async with guarded_client() as client:
        with egress.applying(policy):
            outcome = await run_scripts(
                [script], phase="test", step_name="s", variables={}, request=REQUEST, view=VIEW,
                requests=ScriptRequests(client, timeout_ms=3000, max_bytes=1_048_576),
            )  # fmt: skip
    return outcome.variables


async def test_a_script_sending_requests_without_end_is_stopped_at_the_bound(echo: str) -> None:
    _, recorded, error = await sent_by(
        """
        function again() { pm.sendRequest(pm.environment.get("base") + "/again", again); }
        again();
        """,
        local(echo),
        base=echo,
    )
    bound = f"a script may send at most {MAX_SCRIPT_REQUESTS} requests"
    assert error == f"test script: Error: pm.sendRequest: {bound} (line 2)"
    assert len(_Echo.hits) == MAX_SCRIPT_REQUESTS == len(recorded)
    _, _, burst = await sent_by(
        "for (let i = 0; i < 1000; i++) pm.sendRequest(pm.environment.get('base') + '/burst');",
        local(echo),
        base=echo,
    )
    assert burst is not None
    assert bound in burst
    assert len(_Echo.hits) == MAX_SCRIPT_REQUESTS  # a refused burst sends nothing


async def test_a_callback_that_throws_ends_the_script_in_error_with_its_line(echo: str) -> None:
    _, recorded, error = await sent_by(
        "pm.sendRequest(pm.environment.get('base') + '/x', function (err, res) {\n  res.nothing.here();\n});",
        local(echo),
        base=echo,
    )
    assert len(recorded) == 1
    assert error == "test script: TypeError: Cannot read properties of undefined (reading 'here') (line 2)"


async def test_an_unreachable_host_is_the_callbacks_error() -> None:
    named, recorded, error = await sent_by(
        """pm.sendRequest("http://127.0.0.1:1/", (err, res) => {
            pm.test("connection refused", () => {
                pm.expect(err.code).to.equal("ECONNREFUSED");
                pm.expect(err.message).to.include("cannot connect");
            });
        });""",
        local("http://127.0.0.1"),
    )
    assert error is None
    assert named[0][:2] == ("connection refused", True), named
    assert "not answered: cannot connect" in recorded[0]


async def test_without_a_sender_send_request_is_refused_clearly() -> None:
    _, _, refused = await outcome_of("pm.sendRequest('http://h', () => {});")
    assert refused == "test script: Error: pm.sendRequest is not available here (line 1)"


async def test_set_next_request_is_the_last_call_of_the_scripts_pre_request_and_test() -> None:
    outcome = await run_scripts(
        ["postman.setNextRequest('b')", "pm.execution.setNextRequest('c'); pm.test('goes on', () => {});"],
        phase="prerequest",
        step_name="s",
        variables={},
        request=REQUEST,
    )
    assert outcome.next_request == NextRequest("c")
    assert [check.name for check in outcome.checks] == ["goes on"]  # the script went on after the call
    stop = await run_scripts(
        ["postman.setNextRequest(null)"],
        phase="test",
        step_name="s",
        variables={},
        request=REQUEST,
        view=VIEW,
    )
    assert stop.next_request == NextRequest(None)
    untouched = await run_scripts(
        ["1"], phase="test", step_name="s", variables={}, request=REQUEST, view=VIEW
    )
    assert untouched.next_request is None


async def test_postmans_libraries_are_there_as_require_and_as_the_globals_postman_has() -> None:
    checks, _, error = await outcome_of(
        r"""
        pm.test("_ is lodash 3", () => {
            pm.expect(_.VERSION).to.match(/^3\.10\./);
            pm.expect(_.pluck([{ a: 1 }, { a: 2 }], "a")).to.eql([1, 2]);
        });
        pm.test("require('lodash') is lodash 4", () => {
            const lodash = require("lodash");
            pm.expect(lodash.VERSION).to.equal("4.17.21");
            pm.expect(lodash.get({ a: { b: [5] } }, "a.b[0]")).to.equal(5);
        });
        pm.test("CryptoJS", () => {
            pm.expect(CryptoJS.MD5("abc").toString()).to.equal("900150983cd24fb0d6963f7d28e17f72");
            const mac = require("crypto-js").HmacSHA256("m", "k");
            pm.expect(mac.toString(CryptoJS.enc.Base64)).to.have.lengthOf(44);
            const secret = CryptoJS.AES.encrypt("text", "pass").toString();
            pm.expect(CryptoJS.AES.decrypt(secret, "pass").toString(CryptoJS.enc.Utf8)).to.equal("text");
        });
        pm.test("moment by require only", () => {
            const moment = require("moment");
            const later = moment.utc("2020-01-31T00:00:00Z").add(1, "month");
            pm.expect(later.format("YYYY-MM-DD")).to.equal("2020-02-29");
        });
        pm.test("tv4 and ajv", () => {
            const schema = { type: "object", required: ["id"], properties: { id: { type: "integer" } } };
            pm.expect(tv4.validate(pm.response.json(), schema)).to.equal(true);
            pm.expect(tv4.validate({ id: "5" }, schema)).to.equal(false);
            const Ajv = require("ajv");
            const validate = new Ajv({ allErrors: true }).compile(schema);
            pm.expect(validate({ id: "x" })).to.equal(false);
            pm.expect(validate.errors[0].keyword).to.equal("type");
        });
        pm.test("xml2Json", () => {
            const parsed = xml2Json("<r a='1'><i>x</i><i>y</i><n> t </n></r>");
            pm.expect(parsed).to.eql({ r: { $: { a: "1" }, i: ["x", "y"], n: "t" } });
            pm.expect(xml2Json("<r><open></r>")).to.equal(undefined);
            pm.expect(require("xml2js").parseString).to.be.a("function");
        });
        pm.test("atob and btoa", () => pm.expect(require("atob")(require("btoa")("hi"))).to.equal("hi"));
        pm.test("moment is no global in Postman", () => pm.expect(typeof moment).to.equal("undefined"));
        """
    )
    assert error is None
    assert [(name, passed) for name, passed, _ in checks] == [
        ("_ is lodash 3", True),
        ("require('lodash') is lodash 4", True),
        ("CryptoJS", True),
        ("moment by require only", True),
        ("tv4 and ajv", True),
        ("xml2Json", True),
        ("atob and btoa", True),
        ("moment is no global in Postman", True),
    ], checks


def test_only_the_libraries_a_script_names_are_loaded_into_its_context() -> None:
    from py_mini_racer import MiniRacer

    libraries = Libraries()
    for script, expected in [
        ("pm.test('plain', () => pm.expect(a_b).to.equal(1));", []),
        (
            "const m = require('moment'); _.each([], x => x); CryptoJS.MD5('');",
            ["lodash3", "crypto-js", "moment"],
        ),
        (
            "xml2Json('<a/>'); new (require('ajv'))(); require('lodash'); tv4;",
            ["lodash", "tv4", "ajv", "xml2js"],
        ),
    ]:
        context = MiniRacer()
        try:
            libraries.prepare(context)
            libraries.load(context, script)
            assert json.loads(str(context.eval("JSON.stringify(Object.keys(__orchestra_libs))"))) == expected
            assert context.eval("typeof _ + typeof CryptoJS + typeof moment") == "undefined" * 3
        finally:
            context.close()
