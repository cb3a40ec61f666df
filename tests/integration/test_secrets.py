"""Environment secrets: encrypted at rest, never returned, masked in every stored or returned artefact.

The central test uses a secret in headers (plain, Bearer, base64 inside a longer value), in a URL's path
and query string and in a JSON body, against the demo SUT's /echo that reflects all of it; it captures the
reflected secret, derives a variable from it, fails an expectation that quotes it, errors a teardown whose
URL holds it, and runs both as a run and a suite run. Then it searches every row of every table, a
pg_dump, every API response about it, the SSE streams, the CLI's JUnit/JSON files and console output, and
the logs written meanwhile, for the secret in every form it could take.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import structlog
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.actor import Actor
from orchestra.cli.backends import LocalBackend
from orchestra.cli.display import finished_line, print_summary
from orchestra.cli.runner import RunOptions, write_reports
from orchestra.environments import service as environments
from orchestra.environments.schemas import EnvironmentCreate
from orchestra.environments.secret_migration import encrypt_plaintext_secrets
from orchestra.kit.logging import configure as configure_logging
from orchestra.kit.secret_box import SecretBox, new_key
from orchestra.models.run_states import TERMINAL
from orchestra.projects import service as projects
from orchestra.projects.schemas import ProjectCreate
from orchestra.runtime import Runtime
from orchestra.tenants.repository import ensure_tenant
from tests.integration.conftest import Harness, assert_problem
from tests.ports import refused_url

SECRET = "s3cr3t-Zebra-7781"
# Characters that URL encoding, JSON escaping and HTML escaping all change.
ODD = 'Zebra p@ss/w0rd "&" <7781>'
DISTINCTIVE = "Zebra"  # in both secrets: catches a partial leak too


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


FORBIDDEN = sorted(
    {
        DISTINCTIVE,
        SECRET,
        b64(SECRET),
        b64(SECRET).rstrip("="),
        b64(f"user:{SECRET}"),
        base64.urlsafe_b64encode(SECRET.encode()).decode(),
        ODD,
        quote(ODD, safe=""),
        quote_plus(ODD),
        quote(ODD, safe="!$'()*,;:@/?~"),
        json.dumps(ODD)[1:-1],
        json.dumps(ODD).replace("/", "\\/")[1:-1],
        b64(ODD),
    }
)


def leaks(artefact: str | bytes) -> list[str]:
    """The forms of the secrets found in ``artefact`` (none, hopefully)."""
    content = artefact.decode("utf-8", errors="replace") if isinstance(artefact, bytes) else artefact
    return [form for form in FORBIDDEN if form in content]


def assert_clean(where: str, artefact: str | bytes) -> None:
    found = leaks(artefact)
    if found:
        content = artefact.decode("utf-8", errors="replace") if isinstance(artefact, bytes) else artefact
        at = content.index(found[0])
        pytest.fail(f"{where} holds {found}: …{content[max(0, at - 300) : at + 300]}…")


CASE: dict[str, Any] = {
    "name": "uses a token everywhere",
    "steps": [
        {
            "name": "echo it",
            "request": {
                "method": "POST",
                "url": "{{ env.base_url }}/echo",
                "query": {
                    "key": "{{ secrets.token }}",
                    "odd": "{{ secrets.odd }}",
                    "wrapped": "a{{ secrets.token }}b",
                },
                "headers": {
                    "X-Api-Key": "{{ secrets.token }}",
                    "Authorization": "Bearer {{ secrets.token }}",
                    "X-Encoded": "{{ ('user:' ~ secrets.token) | b64encode }}",
                    "X-Wrapped": "before-{{ secrets.token }}-after",
                },
                "json": {
                    "password": "{{ secrets.token }}",
                    "note": "prefix-{{ secrets.token }}-suffix",
                    "odd": "{{ secrets.odd }}",
                },
            },
            "expect": {"status": 200},
            "capture": {
                "echoed": "$.json.password",
                "echoed_header": "$.headers['x-api-key']",
                "whole": {"body": True},
            },
        },
        {
            "name": "in the path",
            "request": {
                "url": "{{ env.base_url }}/items/{{ secrets.token }}",
                "headers": {"Authorization": "Bearer {{ secrets.token }}"},
            },
            "expect": {"status": [401, 403, 404]},
        },
        {
            "name": "reflected in a header",
            "request": {"url": "{{ env.base_url }}/redirect?to=/items/{{ secrets.token }}"},
            "expect": {"status": 302},
            "capture": {"location": {"header": "location"}},
        },
        {"name": "derive", "set": {"derived": "x-{{ secrets.token }}-y", "number": 7781}},
        {
            "name": "quote it in a failure",
            "request": {
                "method": "POST",
                "url": "{{ env.base_url }}/echo",
                "json": {"again": "{{ echoed }}", "derived": "{{ derived }}"},
            },
            "expect": {"json": {"$.json.again": "wrong-{{ echoed }}"}},
        },
    ],
    "teardown": [
        {
            "name": "unreachable",
            "request": {"url": refused_url() + "/closed/{{ secrets.token }}?t={{ secrets.token }}"},
        }
    ],
}


async def configure_environment(api: httpx.AsyncClient, harness: Harness) -> None:
    response = await api.patch(
        f"/projects/{harness.project}/environments/sut",
        json={"secrets": {"token": SECRET, "odd": ODD}, "allow_private_network": True},
    )
    assert response.status_code == 200, response.text
    assert_clean("PATCH response", response.text)


async def wait_suite_run(api: httpx.AsyncClient, suite_run_id: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            suite_run: dict[str, Any] = (await api.get(f"/suite-runs/{suite_run_id}")).json()
            if suite_run["status"] in TERMINAL:
                return suite_run
            await asyncio.sleep(0.05)


async def read_stream(api: httpx.AsyncClient, path: str) -> str:
    async with asyncio.timeout(30), api.stream("GET", path) as response:
        assert response.status_code == 200
        return "".join([chunk async for chunk in response.aiter_text()])


async def database_rows(owner_url: str) -> dict[str, list[str]]:
    """Every row of every table of the schema, as JSON text (read as the owner, a superuser: no RLS)."""
    engine = create_async_engine(owner_url)
    try:
        async with engine.connect() as conn:
            tables = (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
                )
            ).scalars()
            dump: dict[str, list[str]] = {}
            for table in list(tables):
                rows = await conn.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" t'))
                dump[table] = list(rows.scalars())
    finally:
        await engine.dispose()
    return dump


async def pg_dump(owner_url: str) -> str | None:
    """The database as pg_dump writes it, when the embedded server's pg_dump is there and works."""
    try:
        import pgserver  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the embedded server is a dependency
        return None
    binary = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
    if not binary.exists():
        return None
    url = make_url(owner_url).set(drivername="postgresql").render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        str(binary),
        "--data-only",
        "--no-owner",
        f"--dbname={url}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    out, _ = await process.communicate()
    return out.decode("utf-8", errors="replace") if process.returncode == 0 else None


async def test_secrets_are_stored_encrypted_and_never_returned(
    api: httpx.AsyncClient, runtime: Runtime, owner_database_url: str
) -> None:
    assert (await api.post("/projects", json={"name": "vault"})).status_code == 201
    base = "/projects/vault/environments"
    responses = [
        await api.post(base, json={"name": "a", "base_url": "http://a.test", "secrets": {"token": SECRET}}),
        await api.put(f"{base}/b", json={"base_url": "http://b.test", "secrets": {"token": SECRET}}),
        await api.put(
            f"{base}/a", json={"base_url": "http://a.test", "secrets": {"token": SECRET, "o": ODD}}
        ),
        await api.patch(f"{base}/b", json={"secrets": {"odd": ODD, "gone": None}}),
        await api.patch(f"{base}/b", json={"name": "c"}),
        await api.get(f"{base}/a"),
        await api.get(f"{base}/c"),
        await api.get(base),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert_clean(f"{response.request.method} {response.request.url}", response.text)
    assert responses[5].json()["secret_names"] == ["o", "token"]
    assert responses[6].json()["secret_names"] == ["odd", "token"]

    rows = await database_rows(owner_database_url)
    assert len(rows["environments"]) == 2
    for row in rows["environments"]:
        assert_clean("environments row", row)
        stored = json.loads(row)["secrets"]
        assert stored
        assert all(SecretBox.is_encrypted(value) for value in stored.values()), stored
    # Equal plaintexts do not look equal at rest (a random nonce per value).
    values = [value for row in rows["environments"] for value in json.loads(row)["secrets"].values()]
    assert len(set(values)) == len(values)
    # Bad input is refused without echoing the value.
    refused = await api.put(f"{base}/d", json={"base_url": "http://d.test", "secrets": {"t": SECRET * 1000}})
    assert_problem(refused, 422)
    assert_clean("422 response", refused.text)


async def test_a_secret_never_appears_in_any_stored_or_returned_artefact(
    harness: Harness,
    api: httpx.AsyncClient,
    runtime: Runtime,
    owner_database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await configure_environment(api, harness)
    logs = io.StringIO()
    saved = structlog.get_config()  # restored as it was: a stream bound now is closed after this test
    configure_logging("debug", json_lines=True, stream=logs)
    try:
        await harness.apply(CASE, suites=[{"suite": "vault-suite", "tests": [CASE["name"]]}])
        run = await harness.wait(await harness.start(CASE["name"]))
        created = await api.post(
            "/suite-runs", json={"project": harness.project, "environment": "sut", "suite": "vault-suite"}
        )
        assert created.status_code == 201, created.text
        suite_run_id = created.json()["id"]
        suite_run = await wait_suite_run(api, suite_run_id)
    finally:
        structlog.configure(**saved)

    # The run did what it should: the secret was sent and reflected, then masked on the way to storage.
    assert run["status"] == "FAILED", run
    assert "quote it in a failure" in run["status_reason"]
    assert "wrong-********" in run["status_reason"]
    steps = {step["name"]: step for step in run["steps"]}
    echo = steps["echo it"]
    assert echo["status"] == "passed"
    assert echo["request"]["headers"]["x-api-key"] == "********"
    assert echo["request"]["headers"]["authorization"] == "Bearer ********"
    assert echo["request"]["headers"]["x-wrapped"] == "before-********-after"
    assert "********" in echo["request"]["headers"]["x-encoded"]
    assert "key=********" in echo["request"]["url"]
    assert '"password":"********"' in echo["request"]["body"].replace(" ", "")
    assert '"x-api-key":"********"' in echo["response"]["body"].replace(" ", "")
    assert "/items/********" in steps["in the path"]["request"]["url"]
    assert steps["reflected in a header"]["response"]["headers"]["location"] == "/items/********"
    assert steps["quote it in a failure"]["status"] == "failed"
    assert steps["unreachable"]["status"] == "error"
    assert "/closed/********?t=********" in steps["unreachable"]["error"]
    assert suite_run["status"] == "FAILED"

    run_id, run_ids = run["id"], [run["id"], *(item["id"] for item in suite_run["runs"])]

    # 1. Every row of every table, and a pg_dump of the database.
    for table, rows in (await database_rows(owner_database_url)).items():
        assert_clean(f"table {table}", "\n".join(rows))
    dumped = await pg_dump(owner_database_url)
    if dumped is None:  # another server version than the embedded one's pg_dump: the rows above suffice
        assert os.environ.get("ORCHESTRA_TEST_DATABASE_URL"), "pg_dump of the embedded server failed"
    else:
        assert "step_results" in dumped
        assert_clean("pg_dump", dumped)

    # 2. Every API response about it, the event streams read to their end included.
    paths = [
        f"/runs/{run_id}",
        f"/runs?project={harness.project}",
        f"/runs?suite_run={suite_run_id}",
        f"/runs/{run_id}/report?format=junit",
        f"/runs/{run_id}/report?format=json",
        f"/suite-runs/{suite_run_id}",
        f"/suite-runs?project={harness.project}",
        f"/suite-runs/{suite_run_id}/report?format=junit",
        f"/suite-runs/{suite_run_id}/report?format=json",
        f"/projects/{harness.project}/environments/sut",
        f"/projects/{harness.project}/environments",
        f"/projects/{harness.project}/test-cases/{CASE['name']}",
        f"/projects/{harness.project}/suites/vault-suite",
        "/audit",
        *(f"/runs/{each}" for each in run_ids),
    ]
    for path in paths:
        response = await api.get(path)
        assert response.status_code == 200, (path, response.text)
        assert_clean(path, response.content)
    for path in (f"/runs/{run_id}/events", f"/suite-runs/{suite_run_id}/events"):
        stream = await read_stream(api, path)
        assert "event: end" in stream
        assert_clean(path, stream)
    assert "********" in await read_stream(api, f"/runs/{run_id}/events")

    # 3. The CLI's JUnit and JSON files and its console output (read from the stored records).
    backend = LocalBackend(runtime)
    options = RunOptions(
        paths=[], junit=tmp_path / "out" / "junit.xml", json_path=tmp_path / "out" / "r.json"
    )
    await write_reports(backend, [uuid.UUID(suite_run_id)], options)
    assert_clean("JUnit file", options.junit.read_bytes())  # type: ignore[union-attr]
    assert_clean("JSON file", options.json_path.read_bytes())  # type: ignore[union-attr]
    assert "********" in options.junit.read_text()  # type: ignore[union-attr]
    console = Console(file=io.StringIO(), width=300, color_system=None)
    result = await backend.suite_run(uuid.UUID(suite_run_id), with_steps=True)
    print_summary(console, [result])
    for each in result.runs:
        console.print(finished_line(each))
    assert_clean("console output", console.file.getvalue())  # type: ignore[attr-defined]

    # 4. The logs written meanwhile (structlog at debug level, and anything through the logging module).
    assert "run.finished" in logs.getvalue()
    assert_clean("structlog output", logs.getvalue())
    assert_clean("logging records", caplog.text)

    # 5. The SUT did receive the real value: masking happened on the way to storage, not before sending.
    async with httpx.AsyncClient() as client:
        reflected = (await client.post(f"{harness.base_url}/echo", json={"v": SECRET})).text
    assert SECRET in reflected


async def test_a_ciphertext_copied_into_another_environment_does_not_decrypt(
    harness: Harness, api: httpx.AsyncClient, owner_database_url: str
) -> None:
    await configure_environment(api, harness)
    copy = await api.post(
        f"/projects/{harness.project}/environments",
        json={"name": "copy", "base_url": harness.base_url, "allow_private_network": True},
    )
    assert copy.status_code == 201, copy.text
    engine = create_async_engine(owner_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE environments SET secrets = (SELECT secrets FROM environments WHERE id = :source)"
                    " WHERE id = :target"
                ),
                {
                    "source": (await api.get(f"/projects/{harness.project}/environments/sut")).json()["id"],
                    "target": copy.json()["id"],
                },
            )
    finally:
        await engine.dispose()
    await harness.apply(CASE)
    response = await api.post(
        "/runs", json={"project": harness.project, "environment": "copy", "test_case": CASE["name"]}
    )
    assert response.status_code == 201, response.text
    run = await harness.wait(uuid.UUID(response.json()["id"]))
    assert run["status"] == "ERROR"
    assert "of environment 'copy'" in run["status_reason"]
    assert "cannot be decrypted" in run["status_reason"]
    assert "secret '" in run["status_reason"]
    assert_clean("status reason", run["status_reason"])


async def test_plaintext_secrets_from_before_are_encrypted_at_start_for_every_tenant(
    harness: Harness, api: httpx.AsyncClient, runtime: Runtime, owner_database_url: str
) -> None:
    # An environment of another tenant, made through the services as that tenant.
    async with runtime.db.transaction(None) as session:
        other = Actor(tenant_id=await ensure_tenant(session, "other-tenant"))
    async with runtime.db.transaction(other.tenant_id) as session:
        await projects.create(session, other, ProjectCreate(name="theirs"))
        await environments.create(
            session,
            other,
            "theirs",
            EnvironmentCreate(name="prod", base_url="http://prod.test", secrets={"k": "their-value"}),
            runtime.secrets,
        )
    # Databases from before encryption at rest held values in clear.
    engine = create_async_engine(owner_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    """UPDATE environments SET secrets = CASE name
                        WHEN 'sut' THEN '{"api_password": "demo-password", "legacy": "old-plain-value"}'
                        ELSE secrets || '{"legacy": "their-old-value"}' END"""
                )
            )
    finally:
        await engine.dispose()

    assert await encrypt_plaintext_secrets(owner_database_url, runtime.secrets, runtime.db.context_key) == 3
    assert (
        await encrypt_plaintext_secrets(owner_database_url, runtime.secrets, runtime.db.context_key) == 0
    )  # idempotent
    rows = (await database_rows(owner_database_url))["environments"]
    assert len(rows) == 2
    for row in rows:
        for value in ("demo-password", "old-plain-value", "their-value", "their-old-value"):
            assert value not in row
        assert all(SecretBox.is_encrypted(value) for value in json.loads(row)["secrets"].values())

    # The upgraded secrets still work.
    login = {
        "name": "log in",
        "steps": [
            {
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/auth/token",
                    "json": {"username": "demo", "password": "{{ secrets.api_password }}"},
                },
                "expect": {"status": 200},
            }
        ],
    }
    await api.patch(f"/projects/{harness.project}/environments/sut", json={"allow_private_network": True})
    run = await harness.run(login)
    assert run["status"] == "PASSED", run["status_reason"]


async def test_a_runtime_with_another_key_cannot_read_the_secrets(
    harness: Harness, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Every process must share the key: an executor with another one fails the run with a clear reason."""
    await configure_environment(api, harness)
    runtime.executor.secrets = SecretBox(new_key())
    run = await harness.run(CASE)
    assert run["status"] == "ERROR"
    assert "cannot be decrypted" in run["status_reason"]
    assert "of environment 'sut'" in run["status_reason"]
    assert "ORCHESTRA_SECRET_KEY" in run["status_reason"]
    assert_clean("status reason", run["status_reason"])
