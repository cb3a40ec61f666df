"""The embedded PostgreSQL trusts no connection: another local user who reaches its socket cannot connect
(as the superuser or any role) without the password kept in the 0600 file of the data directory — also
when the data directory was made by a release whose server trusted every local connection."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

from orchestra.embedded_pg import PASSWORD_FILE, EmbeddedPostgres, _import_pgserver


def rules(hba: str) -> list[list[str]]:
    return [line.split() for line in hba.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def socket_dir(url: str) -> str:
    return parse_qs(urlsplit(url).query)["host"][0]


async def connect(url: str, user: str = "postgres", password: str | None = None) -> asyncpg.Connection:
    return await asyncpg.connect(host=socket_dir(url), user=user, password=password, database="postgres")


async def assert_refused(url: str, user: str, password: str | None) -> None:
    with pytest.raises(
        (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)
    ) as caught:
        await connect(url, user, password)
    assert "password" in str(caught.value)


async def test_a_trusting_data_directory_is_converted_and_no_connection_is_trusted(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    pgdata = data_dir / "pg"
    pgdata.mkdir(parents=True)
    # a data directory of an earlier release: pgserver's own initialisation, trust for every local user
    old = _import_pgserver().get_server(pgdata.resolve(), cleanup_mode="stop")
    assert any(rule[-1] == "trust" for rule in rules((pgdata / "pg_hba.conf").read_text()))
    old.cleanup()

    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()
    try:
        hba = (pgdata / "pg_hba.conf").read_text()
        assert rules(hba)
        assert all(rule[-1] == "scram-sha-256" for rule in rules(hba)), hba
        password_file = pgdata / PASSWORD_FILE
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(pgdata.stat().st_mode) & 0o077 == 0  # the server's directory is its own
        password = make_url(url).password
        assert password
        assert password == password_file.read_text().strip()

        # the attack: a local connection without the password, as the superuser or any other role
        await assert_refused(url, "postgres", None)
        await assert_refused(url, "postgres", "guess")
        await assert_refused(url, "orchestra_app", None)
        conn = await connect(url, "postgres", password)
        try:
            assert await conn.fetchval("SELECT current_user") == "postgres"
            verifier = await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'")
            assert verifier.startswith("SCRAM-SHA-256$")
        finally:
            await conn.close()
    finally:
        embedded.stop()

    # a later start (the server stopped, or another process joining) reads the password and changes nothing
    again = EmbeddedPostgres(data_dir)
    url = again.start()
    try:
        assert make_url(url).password == password
        assert (pgdata / "pg_hba.conf").read_text() == hba
        await (await connect(url, "postgres", password)).close()
        await assert_refused(url, "postgres", None)
    finally:
        again.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another OS user")
async def test_another_os_user_cannot_connect(tmp_path: Path) -> None:
    """As root, pgserver runs the server as the OS user ``pgserver``, the one other user who can reach
    its socket (in the server's 0700 directory): it gets no connection without the password either."""
    embedded = EmbeddedPostgres(tmp_path / "data")
    url = embedded.start()
    try:
        psql = str(Path(_import_pgserver().__file__).parent / "pginstall" / "bin" / "psql")
        refusals = {"pgserver": "no password supplied", "nobody": "Permission denied"}
        for user, reason in refusals.items():
            pwd.getpwnam(user)
            result = subprocess.run(
                [
                    "runuser",
                    "-u",
                    user,
                    "--",
                    psql,
                    "-h",
                    socket_dir(url),
                    "-U",
                    "postgres",
                    "-w",
                    "-c",
                    "SELECT 1",
                ],
                capture_output=True,
                text=True,
                timeout=30,
                env={"PATH": os.environ.get("PATH", "")},
                check=False,
            )
            assert result.returncode != 0, (user, result.stdout)
            assert reason in result.stderr, (user, result.stderr)
    finally:
        embedded.stop()
