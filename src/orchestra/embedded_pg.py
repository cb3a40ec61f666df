"""Embedded PostgreSQL 16 (with pgvector) from the ``pgserver`` wheel, kept under the data directory.

Several Orchestra processes on one data directory share one server; it stops when the last one exits.

The server listens on a Unix socket only (no TCP port). ``pgserver`` initialises it with ``trust``
authentication, which would let any local user who reaches the socket connect as the superuser; so the
first start replaces ``pg_hba.conf`` with password authentication (scram-sha-256) for every connection,
and sets the superuser's password, kept in ``<data-dir>/pg/orchestra-password`` (mode 0600, inside the
server's own 0700 directory). The application role's password is derived from it. A data directory from
an earlier release is converted the same way at its next start.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import re
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import structlog

log = structlog.get_logger(__name__)

PASSWORD_FILE = "orchestra-password"
HBA = """# Written by Orchestra (embedded_pg.py): every connection needs a password; none is trusted.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""
_TRUST = re.compile(r"^\s*(local|host\w*)\s.*\btrust\b", re.M)
_PASSWORD = re.compile(r"^[A-Za-z0-9_-]{32,}$")


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be reached safely (its password file is missing or unreadable)."""


def _import_pgserver() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless for a local lock file.
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self._server: Any = None
        self._password: str | None = None

    @property
    def password_file(self) -> Path:
        return self.pgdata / PASSWORD_FILE

    @property
    def app_password(self) -> str:
        """The application role's password on this server (derived from the superuser's)."""
        if self._password is None:
            raise EmbeddedPostgresError("the embedded server is not started")
        return hmac.new(self._password.encode(), b"orchestra_app", hashlib.sha256).hexdigest()

    def start(self) -> str:
        """Start (or join) the server, make sure it trusts no connection, and return an asyncpg SQLAlchemy
        URL for it as its superuser."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        pgserver = _import_pgserver()
        log.info("embedded_postgres.starting", pgdata=str(self.pgdata))
        with _locked(self.pgdata.parent / ".pg-auth.lock"):  # processes starting together: one at a time
            self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
            self._password = self._secure()
        return to_asyncpg_url(self._server.get_uri(), self._password)

    def _secure(self) -> str:
        """The superuser's password; on a server that still trusts connections, set it first and then
        require it (and every role's) from every connection."""
        hba = self.pgdata / "pg_hba.conf"
        if not _TRUST.search(hba.read_text()):
            return self._read_password()
        password = self._read_password() if self.password_file.exists() else self._new_password()
        # Still trusted: set the password, then require it. pg_hba.conf is rewritten in place, keeping the
        # owner that the server runs as; the reload applies it to every later connection.
        self._server.psql(f"ALTER ROLE postgres PASSWORD '{password}';")
        hba.write_text(HBA)
        self._server.psql("SELECT pg_reload_conf();")
        log.info("embedded_postgres.password_required", password_file=str(self.password_file))
        return password

    def _new_password(self) -> str:
        password = secrets.token_urlsafe(32)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, password.encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return password

    def _read_password(self) -> str:
        try:
            password = self.password_file.read_text().strip()
        except OSError as error:
            raise EmbeddedPostgresError(
                f"the embedded database under {self.pgdata} requires a password and its file "
                f"{self.password_file} cannot be read ({error.strerror}): restore the file, or start with "
                "a new data directory"
            ) from None
        if not _PASSWORD.match(password):
            raise EmbeddedPostgresError(f"the password file {self.password_file} is damaged: restore it")
        return password

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def to_asyncpg_url(uri: str, password: str | None = None) -> str:
    """``postgresql://user:@/db?host=/socket`` (pgserver's form) → ``postgresql+asyncpg://user@/db?host=…``,
    with ``password`` when given."""
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    user = parts.username or "postgres"
    database = parts.path.lstrip("/") or "postgres"
    host = query.get("host", [""])[0]
    password = password or parts.password
    netloc = (
        f"{user}:{quote(password, safe='')}@{parts.hostname or ''}"
        if password
        else f"{user}@{parts.hostname or ''}"
    )
    if parts.port:
        netloc += f":{parts.port}"
    url = f"postgresql+asyncpg://{netloc}/{database}"
    return f"{url}?host={host}" if host else url


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgresql://`` / ``postgres://`` forms and select the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('://')[0]}://…")
