"""SUTs the project did not write, for the DataPlan benchmark: installed from their public registries into a
cache folder (never into the project's environment), started on a free port of 127.0.0.1 with a fresh
database, and described by their own OpenAPI documents.

- Prefect server (PyPI ``prefect``, Apache-2.0): FastAPI and SQLite; its description at
  ``/api/openapi.json``; no authentication in its default set-up.
- Directus (npm ``directus``, Business Source License 1.1, free for organisations under US$5M of yearly
  finances, Apache-2.0 after its change date): Node.js and SQLite; an administrator bootstrapped from
  environment variables; its description of what that user may call at ``/server/specs/oas``.

Each SUT also says how to count what is left in it (``listings``): the entities of every collection that
its description can delete, counted before and after a generator ran.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PREFECT_VERSION = "3.9.1"
DIRECTUS_VERSION = "11.3.5"
START_TIMEOUT_S = 180.0
INSTALL_TIMEOUT_S = 1200.0


class Unavailable(Exception):
    """The SUT cannot be installed or started here; the message says why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(
    command: list[str], log: Path, *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> None:
    """Run an installer step, its output into ``log``; Unavailable with the output's tail when it fails."""
    with log.open("a") as out:
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=dict(env) if env else None,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=INSTALL_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise Unavailable(f"{command[0]}: {error}") from None
    if done.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise Unavailable(f"{' '.join(command[:3])} failed ({done.returncode}): {' | '.join(tail)[:300]}")


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def wait_until_up(running: Running, health: str, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=running.base_url, trust_env=False, timeout=5) as client:
        while time.monotonic() < deadline:
            if running.process.poll() is not None:
                tail = running.log.read_text(errors="replace").strip().splitlines()[-3:]
                raise Unavailable(f"it exited with {running.process.returncode}: {' | '.join(tail)[:300]}")
            try:
                if (await client.get(health)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    running.stop()
    raise Unavailable(f"it did not answer {health} within {timeout_s:.0f} s")


@dataclass(frozen=True)
class Prepared:
    """What the generators get: the description, what the planner may use (variables and secrets), the
    headers Schemathesis sends (the same user's credentials), and operations left out with the reason."""

    document: dict[str, Any]
    variables: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    root: str = ""  # where the description's paths start on the server (its document names no server)


def _deletable_collections(document: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Collection paths (``/flows``) that have a ``DELETE <collection>/{id}`` in the description."""
    paths = document.get("paths") or {}
    found: list[str] = []
    for path, item in paths.items():
        if "delete" not in item:
            continue
        match = re.fullmatch(r"(/[^{}]+?)/\{[^/{}]+\}/?", path)
        if match and match.group(1).startswith(prefix):
            found.append(match.group(1))
    return sorted(set(found))


class Prefect:
    key = "prefect"
    title = "Prefect server"
    package = f"prefect=={PREFECT_VERSION} (PyPI)"
    licence = "Apache-2.0"

    def __init__(self, cache: Path) -> None:
        self.home = cache / f"prefect-{PREFECT_VERSION}"
        self.python = self.home / "venv" / "bin" / "python"

    def install(self) -> None:
        marker = self.home / "installed"
        if marker.exists():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        log = self.home / "install.log"
        _run([sys.executable, "-m", "venv", "--clear", str(self.home / "venv")], log)
        _run([str(self.python), "-m", "pip", "install", "--quiet", f"prefect=={PREFECT_VERSION}"], log)
        marker.write_text(PREFECT_VERSION)

    def start(self, workdir: Path) -> Running:
        port = free_port()
        env = {
            **os.environ,
            "PREFECT_HOME": str(workdir),
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{workdir / 'prefect.db'}",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_UI_ENABLED": "false",
            "PREFECT_LOGGING_SERVER_LEVEL": "WARNING",
        }
        log = workdir / "server.log"
        command = [
            str(self.python),
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-services",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
        return Running(process, f"http://127.0.0.1:{port}", log)

    health = "/api/health"

    async def prepare(self, client: httpx.AsyncClient) -> Prepared:
        document = (await client.get("/api/openapi.json")).raise_for_status().json()
        skipped = {
            key: why
            for key, why in {
                "POST /admin/database/clear": "empties the SUT's whole database (an admin tool)",
                "POST /admin/database/drop": "drops the SUT's database",
                "POST /admin/database/create": "creates the SUT's database (an admin tool)",
            }.items()
            if _has(document, key)
        }
        return Prepared(document, skipped=skipped, root="/api")

    async def count(self, client: httpx.AsyncClient, document: Mapping[str, Any]) -> dict[str, int]:
        """Entities per deletable collection (``POST <collection>/filter`` with the largest page)."""
        counts: dict[str, int] = {}
        for collection in _deletable_collections(document):
            if not _has(document, f"POST {collection}/filter"):
                continue
            total = 0
            for offset in range(0, 20_000, 200):
                answer = await client.post(f"/api{collection}/filter", json={"limit": 200, "offset": offset})
                if answer.status_code != 200 or not isinstance(answer.json(), list):
                    break
                total += len(answer.json())
                if len(answer.json()) < 200:
                    break
            counts[collection] = total
        return counts


class Directus:
    key = "directus"
    title = "Directus"
    package = f"directus@{DIRECTUS_VERSION} (npm)"
    licence = "BUSL-1.1 (free under US$5M yearly finances; Apache-2.0 after its change date)"
    email = "admin@example.com"

    def __init__(self, cache: Path) -> None:
        self.home = cache / f"directus-{DIRECTUS_VERSION}"
        self.password = "bench-" + secrets.token_hex(8)

    def install(self) -> None:
        marker = self.home / "installed"
        if marker.exists():
            return
        npm = shutil.which("npm")
        if npm is None:
            raise Unavailable("npm is not installed")
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "package.json").write_text('{"name": "directus-bench", "private": true}\n')
        log = self.home / "install.log"
        _run([npm, "install", "--no-audit", "--no-fund", f"directus@{DIRECTUS_VERSION}"], log, cwd=self.home)
        marker.write_text(DIRECTUS_VERSION)

    def _env(self, workdir: Path, port: int) -> dict[str, str]:
        return {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "DB_CLIENT": "sqlite3",
            "DB_FILENAME": str(workdir / "directus.db"),
            "KEY": secrets.token_hex(16),
            "SECRET": secrets.token_hex(32),
            "ADMIN_EMAIL": self.email,
            "ADMIN_PASSWORD": self.password,
            "ACCESS_TOKEN_TTL": "4h",
            "TELEMETRY": "false",
            "LOG_LEVEL": "warn",
            "RATE_LIMITER_ENABLED": "false",
            "STORAGE_LOCAL_ROOT": str(workdir / "uploads"),
            "EXTENSIONS_PATH": str(workdir / "extensions"),
            "CACHE_ENABLED": "false",
        }

    def start(self, workdir: Path) -> Running:
        port = free_port()
        env = self._env(workdir, port)
        cli = self.home / "node_modules" / "directus" / "cli.js"
        log = workdir / "server.log"
        _run(["node", str(cli), "bootstrap"], log, cwd=workdir, env=env)
        with log.open("ab") as out:
            process = subprocess.Popen(
                ["node", str(cli), "start"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir
            )
        return Running(process, f"http://127.0.0.1:{port}", log)

    health = "/server/ping"

    async def prepare(self, client: httpx.AsyncClient) -> Prepared:
        answer = await client.post("/auth/login", json={"email": self.email, "password": self.password})
        token = answer.raise_for_status().json()["data"]["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        document = (await client.get("/server/specs/oas", headers=headers)).raise_for_status().json()
        skipped = {
            key: why
            for key, why in {
                "PATCH /users/me": "would change the bench user's own password or e-mail (locks it out)",
                "POST /users/me/tfa/enable": "would turn on two-factor log-in for the bench user",
                "POST /auth/logout": "ends the bench user's session",
                "POST /auth/password/request": "sends a password-reset e-mail (no mail server here)",
                "POST /auth/password/reset": "needs the token of a password-reset e-mail",
            }.items()
            if _has(document, key)
        }
        return Prepared(
            document,
            secrets={"email": self.email, "password": self.password},
            headers=headers,
            skipped=skipped,
        )

    async def count(self, client: httpx.AsyncClient, document: Mapping[str, Any]) -> dict[str, int]:
        """Entities per deletable collection (``GET <collection>?limit=-1``), as the administrator sees."""
        answer = await client.post("/auth/login", json={"email": self.email, "password": self.password})
        headers = {"Authorization": f"Bearer {answer.raise_for_status().json()['data']['access_token']}"}
        counts: dict[str, int] = {}
        for collection in _deletable_collections(document):
            if not _has(document, f"GET {collection}"):
                continue
            found = await client.get(collection, params={"limit": "-1"}, headers=headers)
            data = found.json().get("data") if found.status_code == 200 else None
            if isinstance(data, list):
                counts[collection] = len(data)
        return counts


def _has(document: Mapping[str, Any], key: str) -> bool:
    method, path = key.split(" ", 1)
    return method.lower() in ((document.get("paths") or {}).get(path) or {})


SUTS = {"prefect": Prefect, "directus": Directus}
