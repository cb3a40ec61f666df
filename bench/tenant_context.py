"""Benchmark: what the signed tenant context (migration 0012) costs a transaction, against the plain setting
it replaced (revision 0011), on one embedded PostgreSQL, alternating the two schemas round by round.

Each transaction is what a short request or a step commit does: enter the tenant, read a row and update it
(two statements that the policies check), without waiting for the disk at commit. Prints the median and the
fastest round of each (the machine's other load only ever adds time), their ratio, and ends with one line of
key=value figures.

    python bench/tenant_context.py [--transactions 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg  # type: ignore[import-untyped]
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.embedded_pg import EmbeddedPostgres
from orchestra.migrate import alembic_config
from orchestra.tenant_context import ContextKey

APP_PASSWORD = "bench-app-password"
OLD_ENTER = (
    "SELECT set_config('orchestra.tenant_id', $1::text, true), set_config('orchestra.project_id', '', true)"
)
NEW_ENTER = "SELECT orchestra_enter($1, NULL, $2, false)"


def _migrate(conn: Connection, revision: str, key: ContextKey) -> None:
    config = alembic_config()
    config.attributes["connection"] = conn
    current = (
        conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar()
        and conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    )
    if current and current > revision:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)
    if revision >= "0012":
        inner, outer = key.pads
        conn.execute(
            text(
                "INSERT INTO tenant_context_key (id, inner_pad, outer_pad, fingerprint)"
                " VALUES (true, :i, :o, :f) ON CONFLICT (id) DO NOTHING"
            ),
            {"i": inner, "o": outer, "f": key.fingerprint},
        )


async def migrate(owner_url: str, revision: str, key: ContextKey) -> None:
    """Up or down to ``revision`` as the owner (0012: with the context key registered)."""
    engine = create_async_engine(owner_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_migrate, revision, key)
    finally:
        await engine.dispose()


async def timed(
    conn: asyncpg.Connection,
    transactions: int,
    enter: str,
    enter_args: tuple[object, ...],
    project: uuid.UUID,
) -> float:
    """Microseconds per transaction: enter, read the project, update it."""
    started = time.perf_counter()
    for i in range(transactions):
        async with conn.transaction():
            await conn.execute(enter, *enter_args)
            found = await conn.fetchval("SELECT count(*) FROM projects WHERE id = $1", project)
            if found != 1:
                raise AssertionError("the tenant's project is not visible")
            await conn.execute("UPDATE projects SET description = $2 WHERE id = $1", project, str(i))
    return (time.perf_counter() - started) / transactions * 1e6


async def main(transactions: int, rounds: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="orchestra-bench-context-"))
    embedded = EmbeddedPostgres(data_dir)
    key = ContextKey.from_secret_key(os.urandom(32))
    tenant, project = uuid.uuid4(), uuid.uuid4()
    try:
        owner_url = embedded.start()
        host = parse_qs(urlsplit(owner_url).query)["host"][0]
        owner_password = make_url(owner_url).password
        await migrate(owner_url, "0011", key)
        owner = await asyncpg.connect(
            host=host, user="postgres", password=owner_password, database="postgres"
        )
        await owner.execute(f"ALTER ROLE orchestra_app LOGIN PASSWORD '{APP_PASSWORD}'")
        await owner.execute("INSERT INTO tenants (id, name) VALUES ($1, 'bench')", tenant)
        await owner.execute(
            "INSERT INTO projects (id, tenant_id, name) VALUES ($1, $2, 'bench')", project, tenant
        )
        await owner.close()
        old_times: list[float] = []
        new_times: list[float] = []
        for _ in range(rounds):
            for revision, times in (("0011", old_times), ("0012", new_times)):
                await migrate(owner_url, revision, key)
                conn = await asyncpg.connect(
                    host=host,
                    user="orchestra_app",
                    password=APP_PASSWORD,
                    database="postgres",
                    # commits do not wait for the disk: what is measured is the work, not fsync's
                    server_settings={"synchronous_commit": "off"},
                )
                enter, enter_args = (
                    (OLD_ENTER, (str(tenant),))
                    if revision == "0011"
                    else (NEW_ENTER, (tenant, key.proof(tenant)))
                )
                try:
                    await timed(conn, 100, enter, enter_args, project)  # warm-up: plans, caches
                    times.append(await timed(conn, transactions, enter, enter_args, project))
                finally:
                    await conn.close()
    finally:
        embedded.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    old_us, new_us = statistics.median(old_times), statistics.median(new_times)
    old_best, new_best = min(old_times), min(new_times)
    print(f"rounds: {rounds}, transactions per round: {transactions}")
    print(
        f"plain setting (0011) median: {old_us:.0f} µs   rounds: {', '.join(f'{t:.0f}' for t in old_times)}"
    )
    print(
        f"signed context (0012) median: {new_us:.0f} µs   rounds: {', '.join(f'{t:.0f}' for t in new_times)}"
    )
    print(
        f"transactions={transactions} plain_us={old_us:.0f} signed_us={new_us:.0f} "
        f"ratio={new_us / old_us:.2f} best_plain_us={old_best:.0f} best_signed_us={new_best:.0f} "
        f"best_ratio={new_best / old_best:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.transactions, args.rounds))
