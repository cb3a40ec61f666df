"""Property-based fuzzing of our own OpenAPI with schemathesis: the API does what its description says.

Every operation of ``/api/v1/openapi.json`` (the SSE streams aside: they never end) gets a bounded number of
generated requests: data that fits the schema, data that does not (wrong types, out-of-range numbers,
missing fields, odd strings), and, for operations under a project, the same again inside a seeded project
so that generated bodies reach the code behind the 404s. Every check schemathesis has runs (its
``--checks all``): no 5xx; every status code, content type, header and body is the documented one; data
that fits the schema is accepted (or refused for what a schema cannot know: a name that does not exist, a
conflict, the caller's role); data that does not fit it is refused with a 4xx; a request without its
credentials is refused.

Why a real server: schemathesis calls are synchronous. Its ASGI transport would run the app on an event
loop of its own, where the runtime's asyncpg pool (bound to the test's loop) cannot be used. So the app
runs under uvicorn on 127.0.0.1 in the test's loop, exactly as ``orchestra up`` serves it, and the
synchronous fuzzing runs in a worker thread. Hypothesis is derandomised with no example database, so CI
sends the same requests every time; the whole module takes about a minute.

Generated runs cannot reach the network: run bodies name random projects (404), and the seeded
environment points at a port that refuses connections and is reset before every operation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config._auth import AuthConfig
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.ports import refused_url

MAX_EXAMPLES = 10  # per operation and kind of data: about 1,000 requests in all
# Server-Sent Events: infinite streams. The assistant: a valid request is passed to the ai-service, which
# does not run here, so the answer is (rightly) 503; its input bounds are tested in test_assistant_api.py.
EXCLUDED = ("/events", "/explain", "/assistant/suggest", "/assistant/chat")
# Bodies that carry a document checked beyond what JSON Schema can say (a test case's templates and
# JSONPaths, a suite's members, YAML files, an OpenAPI description, curl command lines, HAR files):
# generated ones are rightly refused with a 422 that lists the problems, so "data that fits the schema is
# accepted" does not apply to them.
# A token's `expires_at` must be in the future: a schema cannot say "after now", so a generated past time is
# rightly refused (tests/integration/test_auth_api.py covers it); so is a mute's (test_quarantine_api.py).
NOW_DEPENDENT_BODIES = ("/tokens", "/mutes")
# A webhook's URL is checked beyond its schema (scheme, host, no credentials, the egress policy's addresses):
# a generated string is rightly refused (test_webhooks.py and tests/unit/test_webhooks.py cover it).
URL_BODIES = ("/webhooks",)
DOCUMENT_BODIES = (
    "/apply",
    "/apply/files",
    "/test-cases",
    "/test-cases/{name}",
    "/test-cases/{name}/yaml",
    "/suites",
    "/suites/{name}",
    "/openapi",
    "/import/curl",
    "/import/har",
    "/import/openapi",
    "/import/postman",
    "/import",  # a project document: its test cases, suites and schedules' references
)
SEEDED = {"project": "fuzz", "environment": "e", "test_case": "t", "suite": "s", "schedule": "nightly"}
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found, with curl
    suppress_health_check=list(HealthCheck),
    verbosity=hypothesis.Verbosity.quiet,
)


@pytest.fixture
def base_url(server_port: int) -> str:
    """The API under uvicorn on 127.0.0.1, served in the test's event loop."""
    return f"http://127.0.0.1:{server_port}"


def seed(session: requests.Session, base_url: str) -> None:
    """The objects SEEDED names, (re)created idempotently: earlier operations may have changed them."""
    api = f"{base_url}/api/v1"
    project = f"{api}/projects/{SEEDED['project']}"
    case = {"name": SEEDED["test_case"], "steps": [{"request": {"url": "{{ env.base_url }}/x"}}]}
    schedule = {"suite": "s", "environment": "e", "cron": "0 3 1 1 *", "enabled": False}
    for method, url, body, expected in [
        ("POST", f"{api}/projects", {"name": SEEDED["project"]}, (201, 409)),
        (
            "PUT",
            f"{project}/environments/{SEEDED['environment']}",
            {"base_url": refused_url()},
            (200, 201),
        ),
        (
            "POST",
            f"{project}/apply",
            {"test_cases": [case], "suites": [{"suite": "s", "tests": ["t"]}]},
            (200,),
        ),
        ("POST", f"{project}/schedules", {**schedule, "name": "nightly"}, (201, 409)),
        ("PATCH", f"{project}/schedules/nightly", schedule, (200,)),  # never due while fuzzing
    ]:
        response = session.request(method, url, json=body, timeout=30)
        assert response.status_code in expected, response.text


def variants(operation: APIOperation) -> list[tuple[str, dict[str, Any]]]:
    """Generated data that fits the schema and data that does not; inside the seeded project too."""
    found: list[tuple[str, dict[str, Any]]] = [("positive", {})]
    if operation.body or len(operation.query):  # a path segment of the wrong type is still just text
        found.append(("negative", {"generation_mode": GenerationMode.NEGATIVE}))
    names = {parameter.name for parameter in operation.path_parameters}
    if "project" in names:
        fixed = {name: value for name, value in SEEDED.items() if name in names}
        found.append(("seeded", {"path_parameters": fixed}))
    query = {parameter.name for parameter in operation.query}
    if "project" in query and "project" not in names:  # a project named in the query (insights)
        fixed = {name: value for name, value in SEEDED.items() if name in query}
        found.append(("seeded", {"query": fixed}))
    return found


def fuzz(schema: BaseSchema, base_url: str, headers: dict[str, str]) -> tuple[list[str], int]:
    """Failures (per operation and kind of data, with a curl command to reproduce) and requests sent."""
    failures: list[str] = []
    sent = 0
    with requests.Session() as seeding, requests.Session() as session:
        seeding.headers.update(headers)  # generated requests carry the credentials schemathesis puts in
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path.endswith(EXCLUDED):
                continue
            seed(seeding, base_url)
            exempt = operation.method in ("post", "put") and operation.path.endswith(
                DOCUMENT_BODIES + NOW_DEPENDENT_BODIES + URL_BODIES
            )
            excluded = [positive_data_acceptance] if exempt else []
            for label, options in variants(operation):

                def call(case: schemathesis.Case, excluded: list[Any] = excluded) -> None:
                    nonlocal sent
                    sent += 1
                    case.call_and_validate(  # every check but those excluded
                        base_url=base_url, session=session, timeout=30, excluded_checks=excluded
                    )

                failure = run_hypothesis(call, operation, options)
                if failure:
                    failures.append(f"{operation.label} [{label}]: {failure}")
    return failures, sent


def run_hypothesis(
    call: Callable[[schemathesis.Case], None], operation: APIOperation, options: dict[str, Any]
) -> str | None:
    @FUZZ_SETTINGS
    @hypothesis.given(case=operation.as_strategy(**options))
    def property_holds(case: schemathesis.Case) -> None:
        call(case)

    try:
        property_holds()
    except Unsatisfiable:
        return None  # e.g. no way to make an operation without parameters or body invalid
    except (Exception, BaseExceptionGroup) as error:  # schemathesis' FailureGroup is not an Exception
        return str(error)
    return None


@pytest.mark.timeout(600)  # about a minute alone; several on a loaded machine
async def test_generated_requests_get_no_5xx_and_documented_responses(
    api: httpx.AsyncClient, base_url: str, auth_headers: dict[str, str]
) -> None:
    openapi = await api.get("/openapi.json")
    assert openapi.status_code == 200, openapi.text
    schema = schemathesis.openapi.from_dict(openapi.json())
    token = auth_headers["Authorization"].removeprefix("Bearer ")
    schema.config.auth = AuthConfig(openapi={"bearer": {"bearer": token}})  # the scheme the API declares
    started = time.monotonic()
    failures, sent = await asyncio.to_thread(fuzz, schema, base_url, dict(auth_headers))
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures)
    assert sent > 500, f"only {sent} requests were generated"  # the fuzzer really ran
    print(f"fuzzed {sent} requests in {elapsed:.1f} s")  # noqa: T201 - shown with -s
    health = await api.get("/health/live")
    assert health.status_code == 200
