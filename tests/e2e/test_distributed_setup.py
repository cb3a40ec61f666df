"""The distributed set-up exactly as documented, so the docs cannot drift from what works: the SQL blocks of
docs/security.md ("Setting up a shared PostgreSQL"), read from that file and run with psql against a
standalone PostgreSQL 16 with pgvector on a TCP port, then the commands of the README's "Distributed mode"
block, read from the README — `orchestra migrate`, two `orchestra api` replicas (each in a working directory,
so a data directory, of its own), an `orchestra executor`, `orchestra admin-token` — with the real RabbitMQ
(ORCHESTRA_TEST_AMQP_URL). Only what cannot be literal is replaced: the `…` placeholders (passwords, the
secret key), host names and ports. A run of the demo suite goes through it, and both replicas accept the
local admin token; a process with another secret key is refused."""

# ruff: noqa: F811

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shlex
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from orchestra.migrate import head_revision
from tests.e2e.conftest import ORCHESTRA, REPO, ServiceProcess, free_port
from tests.e2e.standalone_postgres import SUPERUSER, StandalonePostgres
from tests.integration.amqp import amqp_url, delete_queue, unique_queue_name  # noqa: F401

pytestmark = pytest.mark.e2e
README = REPO / "README.md"
SECURITY = REPO / "docs" / "security.md"
PLACEHOLDER = "…"
EXPECTED = {"PASSED": 12, "FAILED": 2, "ERROR": 1}  # the demo suite: three tests fail on purpose


def section(path: Path, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level (a ``#`` inside a
    fenced code block is a comment, not a heading)."""
    lines = path.read_text().splitlines(keepends=True)
    start = lines.index(heading + "\n") + 1
    level = len(heading.split(" ", 1)[0])
    fenced = False
    for index in range(start, len(lines)):
        line = lines[index]
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#+) ", line)) and len(match.group(1)) <= level:
            return "".join(lines[start:index])
    return "".join(lines[start:])


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


@dataclass
class Documented:
    """The documented set-up, with each placeholder filled in for this machine."""

    sql: list[str]  # the SQL blocks of docs/security.md, in order, passwords filled in
    env: dict[str, str]  # the README's exports
    commands: list[list[str]]  # the README's `orchestra …` lines, without comments
    database: str
    passwords: dict[str, str] = field(default_factory=dict)


def documented_setup(pg: StandalonePostgres, amqp: str) -> Documented:
    passwords: dict[str, str] = {}

    def fill_password(match: re.Match[str]) -> str:
        role = match.group(1)
        passwords[role] = secrets.token_hex(12)
        return f"CREATE ROLE {role} LOGIN PASSWORD '{passwords[role]}'"

    blocks = code_blocks(section(SECURITY, "### Setting up a shared PostgreSQL (distributed mode)"), "sql")
    assert len(blocks) == 2, "docs/security.md: the owner and database, then the services' login"
    sql = [re.sub(rf"CREATE ROLE (\w+) LOGIN PASSWORD '{PLACEHOLDER}'", fill_password, b) for b in blocks]
    for block in sql:
        assert block.startswith("-- as a superuser"), block  # who runs it: the test connects as that
        assert PLACEHOLDER not in block, f"a placeholder this test does not fill in:\n{block}"
    created = re.search(r"CREATE DATABASE (\w+) OWNER (\w+);", sql[0])
    assert created is not None
    database = created.group(1)
    assert "CREATE EXTENSION IF NOT EXISTS vector;" in sql[0]  # a superuser's, before the migration

    (block,) = code_blocks(section(README, "## Distributed mode"), "sh")[:1]
    env: dict[str, str] = {}
    commands: list[list[str]] = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] == "export":
            name, value = words[1].split("=", 1)
            if "optional" in line and name == "ORCHESTRA_OIDC_ISSUER":
                continue  # no identity provider here: the local admin token instead
            env[name] = fill_setting(name, value, pg, database, passwords, amqp)
        else:
            assert words[0] == "orchestra", line
            commands.append(words)
    return Documented(sql, env, commands, database, passwords)


def fill_setting(
    name: str, value: str, pg: StandalonePostgres, database: str, passwords: dict[str, str], amqp: str
) -> str:
    if value.startswith("postgresql://"):
        match = re.fullmatch(rf"postgresql://(\w+):{PLACEHOLDER}@[\w.-]+:5432/(\w+)", value)
        assert match is not None, value
        role, named = match.groups()
        assert role in passwords, f"{name} logs in as {role}, which docs/security.md does not create"
        assert named == database, f"{name} names database {named}, docs/security.md creates {database}"
        return pg.url(role, passwords[role], database)
    if value.startswith("amqp://"):
        return amqp
    if name == "ORCHESTRA_SECRET_KEY":
        assert value == PLACEHOLDER
        return base64.b64encode(os.urandom(32)).decode()
    assert PLACEHOLDER not in value, f"{name}: a placeholder this test does not fill in"
    return value


@dataclass
class Process(ServiceProcess):
    url: str


@dataclass
class Operator:
    """Runs the documented commands, each in a working directory of its own under ``root``."""

    root: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)

    def environment(self, **extra: str) -> dict[str, str]:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRA_")}
        environment.update({"NO_COLOR": "1", "COLUMNS": "200", **self.env, **extra})
        return environment

    def directory(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, words: list[str], where: str, **extra: str) -> subprocess.CompletedProcess[str]:
        assert words[0] == "orchestra"
        return subprocess.run(
            [*ORCHESTRA, *words[1:]],
            cwd=self.directory(where),
            env=self.environment(**extra),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start(self, words: list[str], where: str, url: str, ready: str) -> Process:
        assert words[0] == "orchestra"
        log = self.root / f"{where}.log"
        with log.open("wb") as output:
            popen = subprocess.Popen(
                [*ORCHESTRA, *words[1:]],
                cwd=self.directory(where),
                env=self.environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        process = Process(where, popen, log, url)
        self.processes.append(process)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert popen.poll() is None, f"{where} exited {popen.returncode}:\n{process.output()}"
            try:
                if httpx.get(url + ready, timeout=2).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{where} not ready within 120 s:\n{process.output()}")

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def with_option(words: list[str], option: str, value: str) -> list[str]:
    """The command with ``option``'s value replaced (ports and addresses of this machine)."""
    index = words.index(option)
    return [*words[: index + 1], value, *words[index + 2 :]]


def accepted(url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{url}/api/v1/projects", headers=headers, timeout=10).status_code


@pytest.fixture
def standalone_postgres(tmp_path: Path) -> Iterator[StandalonePostgres]:
    pg = StandalonePostgres(tmp_path / "postgres")
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()


@pytest.mark.timeout(600)
async def test_the_documented_distributed_setup_works(
    standalone_postgres: StandalonePostgres, amqp_url: str, demo_sut: str, tmp_path: Path
) -> None:
    pg = standalone_postgres
    docs = documented_setup(pg, amqp_url)
    assert [words[1] for words in docs.commands] == ["migrate", "api", "executor", "admin-token"], (
        "the README's distributed commands changed: make this test follow them"
    )
    migrate, api, executor, admin_token = docs.commands
    queue = unique_queue_name()  # this test's own queue on the shared RabbitMQ
    operator = Operator(tmp_path / "operator", {**docs.env, "ORCHESTRA_BROKER_QUEUE": queue})
    try:
        # docs/security.md: a superuser creates the owner, the database and the vector extension ...
        done = pg.psql(docs.sql[0], user=SUPERUSER, password=pg.password, database="postgres")
        assert done.returncode == 0, done.stdout + done.stderr + pg.log()

        # ... the owner migrates (the README's first command) ...
        migrated = operator.run(migrate, "ops")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert f"database at revision {head_revision()}: " in migrated.stdout
        assert f"@127.0.0.1:{pg.port}/{docs.database} (ORCHESTRA_MIGRATION_DATABASE_URL)" in migrated.stdout
        assert not (tmp_path / "operator" / "ops" / ".orchestra").exists()  # no embedded database

        # ... and a superuser gives the services their login
        done = pg.psql(docs.sql[1], user=SUPERUSER, password=pg.password, database=docs.database)
        assert done.returncode == 0, done.stdout + done.stderr

        # two API replicas, one after the other, each with a data directory of its own
        replicas = []
        for name in ("api-1", "api-2"):
            port = free_port()
            words = with_option(with_option(api, "--port", str(port)), "--host", "127.0.0.1")
            replicas.append(operator.start(words, name, f"http://127.0.0.1:{port}", "/api/v1/health/ready"))
        first, second = replicas
        token_file = operator.root / "api-1" / ".orchestra" / "admin-token"
        token = token_file.read_text().strip()
        assert token in first.output()  # printed once by the replica that issued it
        assert "another server of this database issued" in second.output()
        assert not (operator.root / "api-2" / ".orchestra" / "admin-token").exists()
        # the second replica did not replace (and so revoke) the first one's token: both accept it
        assert [accepted(replica.url, token) for replica in replicas] == [200, 200]

        health_port = free_port()
        operator.start(
            with_option(executor, "--health-port", str(health_port)),
            "executor",
            f"http://127.0.0.1:{health_port}",
            "/health/ready",
        )

        # the demo suite through the second replica, from a directory of its own: the CLI finds the
        # token in the data directory it is pointed at (ORCHESTRA_DATA_DIR), as the README says
        report = operator.root / "suite.json"
        run = [
            "orchestra", "run", str(REPO / "examples" / "demo"), "--server", second.url,
            "--base-url", demo_sut, "--json", str(report),
        ]  # fmt: skip
        without = operator.run(run, "ci")
        assert without.returncode == 2, without.stdout + without.stderr
        assert "HTTP 401" in without.stderr
        assert f"{operator.root / 'ci' / '.orchestra' / 'admin-token'} does not exist" in without.stderr
        ran = operator.run(run, "ci", ORCHESTRA_DATA_DIR=str(token_file.parent))
        assert ran.returncode == 1, ran.stdout + ran.stderr  # three tests fail on purpose
        assert json.loads(report.read_text())["counts"] == EXPECTED

        # `orchestra admin-token` where no valid token is kept: a new one, for every replica
        printed = operator.run(admin_token, "ops")
        assert printed.returncode == 0, printed.stdout + printed.stderr
        renewed = printed.stdout.strip()
        assert renewed.startswith("orc_")
        assert renewed != token
        assert "the previous one is revoked" in printed.stderr
        assert [accepted(replica.url, renewed) for replica in replicas] == [200, 200]
        assert [accepted(replica.url, token) for replica in replicas] == [401, 401]
        again = operator.run(admin_token, "ops")  # kept in its data directory: the same one
        assert again.stdout.strip() == renewed
        single = ["orchestra", "run", str(REPO / "examples" / "demo" / "01-health.yaml")]
        ran = operator.run(
            [*single, "--server", first.url, "--base-url", demo_sut], "ci", ORCHESTRA_TOKEN=renewed
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr

        # every service signs tenant contexts with a key derived from ORCHESTRA_SECRET_KEY: one with
        # another key is refused in one line (exit 2), and migrating with it keeps the database's key
        stranger = {"ORCHESTRA_SECRET_KEY": base64.b64encode(os.urandom(32)).decode()}
        refused = operator.run(admin_token, "stranger", **stranger)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "refuses this process's tenant context key" in refused.stderr
        refused = operator.run(migrate, "stranger", **stranger)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "--replace-context-key" in refused.stderr
        assert [accepted(replica.url, renewed) for replica in replicas] == [200, 200]
    finally:
        operator.stop_all()
        await delete_queue(amqp_url, queue)
