"""The topology of deploy/compose/compose.yaml, started as local processes, as the images would start it.

Containers cannot be run on every machine the tests run on, so this test proves the same topology with the
same parts: PostgreSQL 16 with pgvector (standalone, on a TCP port) set up by the Compose file's own
first-start script, the real RabbitMQ, the migration, two API replicas, two executors and the ai-service,
each started through the image's entry point (``deploy/images/entrypoint.sh``) with its secrets read from
files (``ORCHESTRA_<NAME>_FILE``) and its readiness asked by the image's health check, and Debian's Nginx
with the web image's production configuration in front. The demo suite runs through Nginx; the run is
counted in the executors' metrics; no secret appears in any log; an API replica stopped does not stop the
service."""

# ruff: noqa: F811

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from orchestra.web import security_headers
from tests.e2e.conftest import REPO, free_port
from tests.e2e.conftest import ServiceProcess as Service
from tests.e2e.nginx_front import MISSING, NGINX, NginxFront, write_configuration
from tests.e2e.standalone_postgres import BIN as POSTGRES_BIN
from tests.e2e.standalone_postgres import SUPERUSER, StandalonePostgres
from tests.integration.amqp import amqp_url, delete_queue, unique_queue_name  # noqa: F401

pytestmark = pytest.mark.e2e
IMAGES = REPO / "deploy" / "images"
ENTRYPOINT = IMAGES / "entrypoint.sh"
HEALTHCHECK = IMAGES / "healthcheck.py"
INIT_POSTGRES = REPO / "deploy" / "compose" / "postgres" / "init-orchestra.sh"
WEB_BUILD = REPO / "src" / "orchestra" / "web_dist"
EXPECTED = {"PASSED": 12, "FAILED": 2, "ERROR": 1}  # the demo suite: three tests fail on purpose


@dataclass
class Topology:
    """The Compose services as processes under ``root``, sharing the settings of compose.yaml's
    ``x-orchestra`` block: secrets as files, everything else as variables."""

    root: Path
    settings: dict[str, str]
    services: list[Service] = field(default_factory=list)

    def environment(self, name: str, **extra: str) -> dict[str, str]:
        data_dir = self.root / name / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        base = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRA_")}
        # the image puts its virtual environment first on the PATH: `orchestra` is the one under test
        base["PATH"] = f"{Path(sys.executable).parent}:{base.get('PATH', '/usr/bin:/bin')}"
        return {**base, "NO_COLOR": "1", "ORCHESTRA_DATA_DIR": str(data_dir), **self.settings, **extra}

    def run(self, name: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(ENTRYPOINT), *args],
            cwd=self.root,
            env=self.environment(name, **extra),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start(self, name: str, *args: str, probe: dict[str, str], **extra: str) -> Service:
        log = self.root / f"{name}.log"
        with log.open("wb") as output:
            popen = subprocess.Popen(
                ["sh", str(ENTRYPOINT), *args],
                cwd=self.root,
                env=self.environment(name, **extra),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        service = Service(name, popen, log)
        self.services.append(service)
        role = args[0]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the image's HEALTHCHECK, as the container runtime runs it
            assert popen.poll() is None, f"{name} exited {popen.returncode}:\n{service.output()}"
            healthy = subprocess.run(
                [sys.executable, str(HEALTHCHECK), role],
                env={**os.environ, **probe},
                capture_output=True,
                timeout=30,
            )
            if healthy.returncode == 0:
                return service
            time.sleep(0.3)
        raise AssertionError(f"{name} not healthy within 120 s:\n{service.output()}")

    def stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()


def nginx_configuration(root: Path, port: int, api_ports: list[int]) -> Path:
    """The web image's configuration (deploy/nginx/orchestra.conf behind the image's upstream template), as
    its start fills it in, for this machine: its own port, the web build, and both API replicas (Compose's
    DNS name ``api`` resolves to both)."""
    html = WEB_BUILD if (WEB_BUILD / "index.html").exists() else root / "html"
    if html != WEB_BUILD:  # the web application is not built here (no npm): a stand-in page
        html.mkdir(parents=True)
        (html / "index.html").write_text("<!doctype html><title>Orchestra</title>")
    apis = [f"127.0.0.1:{api_port}" for api_port in api_ports]
    return write_configuration(root / "nginx", port, apis, html, image=True)


@pytest.fixture
def standalone_postgres(tmp_path: Path) -> Iterator[StandalonePostgres]:
    pg = StandalonePostgres(tmp_path / "postgres")
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()


@pytest.mark.timeout(600)
async def test_the_compose_topology_runs_the_demo_suite_through_nginx(
    standalone_postgres: StandalonePostgres, amqp_url: str, demo_sut: str, tmp_path: Path
) -> None:
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    pg = standalone_postgres
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    passwords = {name: secrets.token_hex(12) for name in ("owner", "svc")}
    secret_files = {
        "orchestra_owner_password": passwords["owner"],
        "orchestra_svc_password": passwords["svc"],
        "migration_database_url": pg.url("orchestra_owner", passwords["owner"], "orchestra"),
        "database_url": pg.url("orchestra_svc", passwords["svc"], "orchestra"),
        "broker_url": amqp_url,
        "secret_key": base64.b64encode(os.urandom(32)).decode(),
        "metrics_token": secrets.token_hex(16),
    }
    for name, value in secret_files.items():
        (secrets_dir / name).write_text(value + "\n")

    # PostgreSQL's first start, by the Compose file's own script: owner, database, pgvector, roles, login
    init = subprocess.run(
        ["sh", str(INIT_POSTGRES)],
        env={
            "PATH": f"{POSTGRES_BIN}:/usr/bin:/bin",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(pg.port),
            "PGPASSWORD": pg.password,
            "POSTGRES_USER": SUPERUSER,
            "ORCHESTRA_SECRETS_DIR": str(secrets_dir),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stdout + init.stderr

    api_ports, health_ports, ai_port = [free_port(), free_port()], [free_port(), free_port()], free_port()
    queue = unique_queue_name()
    settings = {  # compose.yaml's x-orchestra environment, for this machine
        "ORCHESTRA_DATABASE_URL_FILE": str(secrets_dir / "database_url"),
        "ORCHESTRA_BROKER_URL_FILE": str(secrets_dir / "broker_url"),
        "ORCHESTRA_SECRET_KEY_FILE": str(secrets_dir / "secret_key"),
        "ORCHESTRA_METRICS_TOKEN_FILE": str(secrets_dir / "metrics_token"),
        "ORCHESTRA_AI_URL": f"http://127.0.0.1:{ai_port}",
        "ORCHESTRA_API_URL": f"http://127.0.0.1:{api_ports[0]}",
        "ORCHESTRA_HOST": "127.0.0.1",
        "ORCHESTRA_LOG_JSON": "true",
        "ORCHESTRA_BROKER_QUEUE": queue,
    }
    topology = Topology(tmp_path / "services", settings)
    nginx: NginxFront | None = None
    try:
        migrated = topology.run(
            "migrate",
            "migrate",
            ORCHESTRA_MIGRATION_DATABASE_URL_FILE=str(secrets_dir / "migration_database_url"),
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        for index, port in enumerate(api_ports, start=1):
            topology.start(f"api-{index}", "api", "--port", str(port), probe={"ORCHESTRA_PORT": str(port)})
        for index, port in enumerate(health_ports, start=1):
            topology.start(
                f"executor-{index}",
                "executor",
                "--health-port",
                str(port),
                probe={"ORCHESTRA_EXECUTOR_HEALTH_PORT": str(port)},
            )
        topology.start("ai", "ai", "--port", str(ai_port), probe={"ORCHESTRA_AI_PORT": str(ai_port)})

        web_port = free_port()
        nginx = NginxFront.start(nginx_configuration(tmp_path, web_port, api_ports), web_port)
        web = nginx.url

        # the web application, its client-side routes, the API behind /api, and no /metrics
        page = httpx.get(f"{web}/runs/0b8a1f", timeout=10)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        for name, value in security_headers().items():  # `orchestra up`'s own, without single sign-on
            assert page.headers[name] == value, name
        assert page.headers["cache-control"] == "no-cache"
        assert httpx.get(f"{web}/metrics", timeout=10).status_code == 404
        ready = httpx.get(f"{web}/api/v1/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert httpx.get(f"{web}/api/v1/projects", timeout=10).status_code == 401

        # the demo suite through Nginx, with the admin token the first replica issued
        token = (topology.root / "api-1" / "data" / "admin-token").read_text().strip()
        report = tmp_path / "suite.json"
        run = subprocess.run(
            [sys.executable, "-m", "orchestra.cli", "run", str(REPO / "examples" / "demo"),
             "--server", web, "--base-url", demo_sut, "--json", str(report)],
            env={**topology.environment("ci"), "ORCHESTRA_TOKEN": token},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert run.returncode == 1, run.stdout + run.stderr  # three tests fail on purpose
        assert json.loads(report.read_text())["counts"] == EXPECTED

        # both executors' metrics, behind the token from its file, count the suite's runs
        bearer = {"Authorization": f"Bearer {secret_files['metrics_token']}"}
        finished: dict[str, float] = {}
        for port in health_ports:
            scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=bearer, timeout=10)
            assert scraped.status_code == 200
            for outcome, value in re.findall(
                r'^orchestra_runs_finished_total\{outcome="(\w+)"\} (\S+)$', scraped.text, re.MULTILINE
            ):
                finished[outcome] = finished.get(outcome, 0) + float(value)
        assert finished == {outcome: float(count) for outcome, count in EXPECTED.items()}
        unauthorised = httpx.get(f"http://127.0.0.1:{health_ports[0]}/metrics", timeout=10)
        assert unauthorised.status_code == 401

        # one API replica stopped: Nginx sends the requests to the other
        topology.services[0].stop()
        single = subprocess.run(
            [sys.executable, "-m", "orchestra.cli", "run", str(REPO / "examples" / "demo" / "01-health.yaml"),
             "--server", web, "--base-url", demo_sut],
            env={**topology.environment("ci"), "ORCHESTRA_TOKEN": token},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert single.returncode == 0, single.stdout + single.stderr

        # the services log JSON lines, and no secret of theirs shows in any log
        for service in topology.services:
            output = service.output()
            for name, value in secret_files.items():
                assert value not in output, f"{service.name}'s log shows the {name}"
            lines = [line for line in output.splitlines() if line.startswith("{")]
            if service.name != "ai":  # the ai-service logs only problems: it had none
                assert lines, f"{service.name} wrote no JSON line:\n{output}"
            for line in lines:
                assert "event" in json.loads(line)
        executed = [
            json.loads(line)
            for service in topology.services
            if service.name.startswith("executor")
            for line in service.output().splitlines()
            if line.startswith("{") and "run_id" in json.loads(line)
        ]
        assert executed, "no executor logged a line naming its run"
        ended = [line for line in executed if line["event"] == "run.finished"]
        assert len(ended) == sum(EXPECTED.values()) + 1  # the suite, then the single test
        assert all(line["tenant_id"] and line["status"] in EXPECTED for line in ended)
    finally:
        if nginx is not None:
            nginx.stop()
        topology.stop_all()
        await delete_queue(amqp_url, queue)
