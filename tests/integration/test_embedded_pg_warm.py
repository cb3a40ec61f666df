"""A warm data directory's embedded PostgreSQL (initialised and secured by an earlier start) is started and
stopped without pgserver: processes sharing it keep it running until the last one lets go, a process that
died without letting go does not keep it running, a server that was killed is started again, a start can
run in the background while the process does other work, and a start at head writes nothing to set the
application role's password again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

from orchestra.embedded_pg import HANDLES_FILE, PASSWORD_FILE, EmbeddedPostgres, EmbeddedPostgresError, alive
from orchestra.migrate import _scram_matches, migrate_database

# Another process joining the server: it starts, says so, and lets go when its stdin closes.
JOINER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from orchestra.embedded_pg import EmbeddedPostgres
    from orchestra.kit.logging import configure
    configure("warning")
    embedded = EmbeddedPostgres(Path(sys.argv[1]))
    embedded.start()
    print("joined", flush=True)
    sys.stdin.read()
    embedded.stop()
    """
)


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except FileNotFoundError:
        return None


async def can_query(url: str) -> bool:
    parts = make_url(url)
    conn = await asyncpg.connect(
        host=parts.query["host"], user=parts.username, password=parts.password, database="postgres"
    )
    try:
        return bool(await conn.fetchval("SELECT true"))
    finally:
        await conn.close()


@pytest.fixture
def warm_dir(tmp_path: Path) -> Path:
    """A data directory whose server was initialised and secured, then stopped."""
    data_dir = tmp_path / "data"
    first = EmbeddedPostgres(data_dir)
    first.start()
    first.stop()
    assert postmaster_pid(first.pgdata) is None
    return data_dir


async def test_processes_share_the_warm_server_and_the_last_one_stops_it(warm_dir: Path) -> None:
    pgdata = warm_dir / "pg"
    joiner = subprocess.Popen(
        [sys.executable, "-c", JOINER, str(warm_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert joiner.stdout is not None
        assert joiner.stdout.readline().strip() == "joined"
        server = postmaster_pid(pgdata)
        assert server is not None
        embedded = EmbeddedPostgres(warm_dir)
        url = embedded.start()
        assert postmaster_pid(pgdata) == server  # joined, not started again
        assert sorted(json.loads((pgdata / HANDLES_FILE).read_text())) == sorted([joiner.pid, os.getpid()])

        assert joiner.stdin is not None
        joiner.stdin.close()  # the other process lets go: the server keeps running for this one
        assert joiner.wait(timeout=60) == 0
        assert alive(server)
        assert await can_query(url)

        embedded.stop()  # the last one: the server is stopped, its pid file gone
        assert postmaster_pid(pgdata) is None
        assert not alive(server)
        assert json.loads((pgdata / HANDLES_FILE).read_text()) == []
    finally:
        if joiner.poll() is None:
            joiner.kill()
            joiner.wait()
        for pipe in (joiner.stdin, joiner.stdout):
            if pipe is not None:
                pipe.close()


async def test_a_dead_sharer_does_not_keep_the_server_running(warm_dir: Path) -> None:
    pgdata = warm_dir / "pg"
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    (pgdata / HANDLES_FILE).write_text(json.dumps([dead_pid]))  # killed before it could let go
    embedded = EmbeddedPostgres(warm_dir)
    embedded.start()
    server = postmaster_pid(pgdata)
    embedded.stop()
    assert postmaster_pid(pgdata) is None
    assert server is not None
    assert not alive(server)


async def test_a_killed_server_is_started_again(warm_dir: Path) -> None:
    pgdata = warm_dir / "pg"
    embedded = EmbeddedPostgres(warm_dir)
    embedded.start()
    killed = postmaster_pid(pgdata)
    assert killed is not None
    os.kill(killed, signal.SIGKILL)  # its postmaster.pid stays behind
    deadline = time.monotonic() + 30
    while alive(killed) and time.monotonic() < deadline:
        time.sleep(0.01)
    embedded.stop()  # nothing left to stop

    again = EmbeddedPostgres(warm_dir)
    url = again.start()  # crash recovery, then ready
    try:
        assert postmaster_pid(pgdata) not in (None, killed)
        assert await can_query(url)
    finally:
        again.stop()
    assert postmaster_pid(pgdata) is None


async def test_a_start_in_the_background_is_waited_for_by_start(warm_dir: Path) -> None:
    pgdata = warm_dir / "pg"
    embedded = EmbeddedPostgres(warm_dir)
    embedded.start_in_background()
    url = embedded.start()  # the background start's URL, once the server is ready
    try:
        assert postmaster_pid(pgdata) is not None
        assert json.loads((pgdata / HANDLES_FILE).read_text()) == [os.getpid()]
        assert await can_query(url)
        assert embedded.app_password
    finally:
        embedded.stop()
    assert postmaster_pid(pgdata) is None


def test_a_background_start_never_waited_for_is_stopped_by_stop(warm_dir: Path) -> None:
    """A command that stops before its engine starts (a test file with a typo) still lets go."""
    pgdata = warm_dir / "pg"
    embedded = EmbeddedPostgres(warm_dir)
    embedded.start_in_background()
    embedded.stop()
    assert postmaster_pid(pgdata) is None
    assert json.loads((pgdata / HANDLES_FILE).read_text()) == []
    embedded.stop()  # once is enough


def test_the_error_of_a_background_start_is_raised_by_start(warm_dir: Path) -> None:
    (warm_dir / "pg" / PASSWORD_FILE).write_text("short\n")  # damaged
    embedded = EmbeddedPostgres(warm_dir)
    embedded.start_in_background()
    with pytest.raises(EmbeddedPostgresError, match="damaged"):
        embedded.start()
    embedded.stop()
    assert postmaster_pid(warm_dir / "pg") is None


def test_a_first_start_is_not_made_in_the_background(tmp_path: Path) -> None:
    """Initialising and securing a new data directory goes through pgserver, in the caller's thread."""
    embedded = EmbeddedPostgres(tmp_path / "data")
    embedded.start_in_background()
    assert not embedded.pgdata.exists()
    embedded.stop()


async def test_a_start_at_head_does_not_set_the_app_password_again(tmp_path: Path) -> None:
    embedded = EmbeddedPostgres(tmp_path / "data")
    owner_url = embedded.start()
    try:
        await migrate_database(owner_url, app_password=embedded.app_password)
        parts = make_url(owner_url)
        conn = await asyncpg.connect(
            host=parts.query["host"], user="postgres", password=parts.password, database="postgres"
        )
        try:
            verifier = await conn.fetchval(
                "SELECT rolpassword FROM pg_authid WHERE rolname = 'orchestra_app'"
            )
            assert _scram_matches(verifier, embedded.app_password)
            assert not _scram_matches(verifier, embedded.app_password + "x")
            await migrate_database(owner_url, app_password=embedded.app_password)  # at head: nothing to set
            assert (
                await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = 'orchestra_app'")
                == verifier  # a new verifier would have a new salt
            )
            await conn.execute("ALTER ROLE orchestra_app PASSWORD 'something else'")
            await migrate_database(owner_url, app_password=embedded.app_password)  # set again
            verifier = await conn.fetchval(
                "SELECT rolpassword FROM pg_authid WHERE rolname = 'orchestra_app'"
            )
            assert _scram_matches(verifier, embedded.app_password)
        finally:
            await conn.close()
    finally:
        embedded.stop()


def test_only_a_scram_verifier_of_the_password_matches() -> None:
    # RFC 7677's example: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations
    verifier = (
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
        "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
    )
    assert _scram_matches(verifier, "pencil")
    assert not _scram_matches(verifier, "pencil ")
    for broken in (None, "", "md5abc", "SCRAM-SHA-256$4096:!!$a:b", verifier.replace("$4096:", "$x:")):
        assert not _scram_matches(broken, "pencil")
