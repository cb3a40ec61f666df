"""A Postman collection with pre-request and test scripts, a secret environment value and a form-data file,
run once embedded and once with `--server` against real `orchestra api` and `orchestra executor` processes
sharing a PostgreSQL database and the real RabbitMQ (ORCHESTRA_TEST_AMQP_URL; skipped with the reason when
there is none): the executor's verdicts, step by step and check by check, are the embedded run's."""

# ruff: noqa: F811

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.conftest import Cluster
from tests.e2e.conftest import orchestra
from tests.integration.amqp import amqp_url, delete_queue, unique_queue_name  # noqa: F401

pytestmark = pytest.mark.e2e
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
SECRET = "Dist-s3cret-0815-token"


def item(name: str, request: dict[str, Any], test: list[str], prerequest: list[str] | None = None) -> dict:
    events = [{"listen": "test", "script": {"exec": test}}]
    if prerequest:
        events.insert(0, {"listen": "prerequest", "script": {"exec": prerequest}})
    return {"name": name, "event": events, "request": request}


def scripted_collection() -> dict[str, Any]:
    echo = {"method": "GET", "url": "{{base-url}}/echo"}
    upload = {
        "method": "POST",
        "url": "{{base-url}}/echo",
        "body": {"mode": "formdata", "formdata": [{"key": "report", "type": "file", "src": "report.csv"}]},
    }
    greeted = {**echo, "header": [{"key": "X-Greeting", "value": "{{greeting}}"}]}
    return {
        "info": {"name": "scripts everywhere", "schema": SCHEMA},
        "item": [
            item(
                "greet",
                greeted,
                [
                    "const seen = pm.response.json().headers;",
                    "pm.test('the greeting was sent', () => {",
                    "  pm.expect(seen['x-greeting']).to.eql('hello demo');",
                    "});",
                    "pm.test('the token is the secret ' + pm.environment.get('token'), () => {",
                    "  pm.expect(pm.environment.get('token').length).to.eql(22);",
                    "});",
                    "pm.environment.set('seen_path', pm.response.json().path);",
                ],
                ["pm.variables.set('greeting', 'hello ' + pm.environment.get('name'));"],
            ),
            item(
                "fails on purpose",
                echo,
                [
                    "pm.test('the earlier variable is kept', () => {",
                    "  pm.expect(pm.environment.get('seen_path')).to.eql('/echo');",
                    "});",
                    "pm.test('a wrong status on purpose', () => pm.response.to.have.status(201));",
                ],
            ),
            item("throws", echo, ["pm.test('before the throw', () => {});", "undefinedFunction();"]),
            item(
                "upload",
                upload,
                [
                    "const body = pm.response.json().body;",
                    "pm.test('the file arrived', () => pm.expect(body).to.include('id,name\\n1,first'));",
                ],
            ),
        ],
    }


def the_run(report: Path) -> dict[str, Any]:
    (run,) = json.loads(report.read_text())["runs"]
    return dict(run)


def verdicts(report: Path) -> list[tuple[Any, ...]]:
    """The run's status and reason; each step's name, status and error, and each of its checks' name,
    outcome and message."""
    run = the_run(report)
    return [(run["status"], run["status_reason"])] + [
        (
            step["name"],
            step["status"],
            step["error"],
            [(check["name"], check["outcome"], check["message"]) for check in step["assertions"]],
        )
        for step in run["steps"]
    ]


@pytest.mark.timeout(300)
async def test_scripts_run_by_an_executor_give_the_embedded_runs_verdicts(
    owner_database_url: str, database_url: str, amqp_url: str, demo_sut: str, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "report.csv").write_text("id,name\n1,first\n")
    (work / "c.postman_collection.json").write_text(json.dumps(scripted_collection()))
    environment = {
        "name": "demo",
        "values": [
            {"key": "base-url", "value": demo_sut, "enabled": True},
            {"key": "name", "value": "demo", "enabled": True},
            {"key": "token", "value": SECRET, "type": "secret", "enabled": True},
        ],
    }
    (work / "e.postman_environment.json").write_text(json.dumps(environment))
    command = ["run", "c.postman_collection.json", "-e", "e.postman_environment.json", "--json"]

    embedded = orchestra(*command, str(tmp_path / "embedded.json"), data_dir=tmp_path / "alone", cwd=work)
    assert embedded.returncode == 1, embedded.stdout + embedded.stderr  # one check fails, one script throws
    expected = verdicts(tmp_path / "embedded.json")
    assert expected[0] == (
        "ERROR",
        "step 'throws': test script: ReferenceError: undefinedFunction is not defined (line 2)",
    )
    expected_steps = expected[1:]
    assert [(name, status) for name, status, _, _ in expected_steps] == [
        ("greet", "passed"),
        ("fails on purpose", "failed"),
        ("throws", "error"),
        ("upload", "passed"),
    ]
    assert expected_steps[0][3][1][0] == "the token is the secret ********"

    queue = unique_queue_name()
    cluster = Cluster(database_url, owner_database_url, amqp_url, queue, tmp_path / "cluster")
    (tmp_path / "cluster").mkdir()
    try:
        api = cluster.start_api()  # it registers the tenant context key the executor checks
        await asyncio.to_thread(cluster.wait_ready, api, "/api/v1/health/ready")
        executor = cluster.start_executor(concurrency=1)
        await asyncio.to_thread(cluster.wait_ready, executor, "/health/ready")
        token = (cluster.logs / "data" / "admin-token").read_text().strip()
        server = await asyncio.to_thread(
            orchestra,
            *command,
            str(tmp_path / "server.json"),
            "--server",
            api.url,
            data_dir=tmp_path / "client",
            cwd=work,
            ORCHESTRA_TOKEN=token,
        )
        assert server.returncode == 1, server.stdout + server.stderr
        assert verdicts(tmp_path / "server.json") == expected
        run_id = the_run(tmp_path / "server.json")["id"]
        ran = executor.log.read_text(errors="replace")
        assert f"run_id={run_id}" in ran  # leased and finished by the executor process, through the broker
        logs = "".join(service.log.read_text(errors="replace") for service in cluster.services)
        assert SECRET not in logs + (tmp_path / "server.json").read_text()
    finally:
        await asyncio.to_thread(cluster.stop_all)
        await delete_queue(amqp_url, queue)
