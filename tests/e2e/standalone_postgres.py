"""A standalone PostgreSQL 16 with pgvector, as an operator's shared database server would be: the `pgserver`
wheel's binaries, initialised in a directory of the test's own, serving on a free TCP port of 127.0.0.1 with
password authentication (scram-sha-256) for a superuser ``postgres``. Unlike the embedded server (a local
socket, trusted), every client here logs in as a named role with its password, over TCP."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.conftest import free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
    import pgserver

BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"
SUPERUSER = "postgres"


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as pgserver's own system user."""
    return "pgserver" if os.geteuid() == 0 else None


@dataclass
class StandalonePostgres:
    root: Path
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_hex(12))

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    def url(self, user: str, password: str, database: str, scheme: str = "postgresql") -> str:
        return f"{scheme}://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def superuser_url(self, database: str = "postgres", scheme: str = "postgresql") -> str:
        return self.url(SUPERUSER, self.password, database, scheme)

    def _run(self, program: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        user = _system_user()
        return subprocess.run(
            [str(BIN / program), *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.root,
            **({"user": user} if user else {}),
            **kwargs,
        )

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        user = _system_user()
        if user:
            from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(user)
            ensure_prefix_permissions(self.root)
            self.root.chmod(0o755)
            shutil.chown(self.root, user)
        password_file = self.root / "superuser-password"
        password_file.write_text(self.password + "\n")
        if user:
            shutil.chown(password_file, user)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--encoding=utf8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={password_file}",
        )
        password_file.unlink()
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-w",
            "-l",
            str(self.root / "server.log"),
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.root}",
            "start",
        )

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "fast", "stop")

    def psql(
        self, script: str, *, user: str, password: str, database: str
    ) -> subprocess.CompletedProcess[str]:
        """``script`` through psql, as an operator would paste it (stops at the first error)."""
        return subprocess.run(
            [
                str(BIN / "psql"),
                "--no-psqlrc",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                user,
                "-d",
                database,
            ],
            input=script,
            env={**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""
