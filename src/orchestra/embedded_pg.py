"""Embedded PostgreSQL 16 (with pgvector) from the ``pgserver`` wheel, kept under the data directory.

Several Orchestra processes on one data directory share one server; it stops when the last one exits.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import structlog

log = structlog.get_logger(__name__)


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

    def start(self) -> str:
        """Start (or join) the server and return an asyncpg SQLAlchemy URL for it."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        pgserver = _import_pgserver()
        log.info("embedded_postgres.starting", pgdata=str(self.pgdata))
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        return to_asyncpg_url(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def to_asyncpg_url(uri: str) -> str:
    """``postgresql://user:@/db?host=/socket`` (pgserver's form) → ``postgresql+asyncpg://user@/db?host=…``."""
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    user = parts.username or "postgres"
    database = parts.path.lstrip("/") or "postgres"
    host = query.get("host", [""])[0]
    netloc = (
        f"{user}:{parts.password}@{parts.hostname}" if parts.password else f"{user}@{parts.hostname or ''}"
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
