"""Benchmark: the API's latency while the retention sweep deletes a million step rows.

An embedded Orchestra (API in this process, as the scheduler leader runs the sweep in the API process) with
one project of 20 test cases and ``--runs`` finished runs of ``--steps`` steps each, generated with SQL and
all past the project's retention rule. The same requests (a page of the run list, a run, the retention
policy, in turn) are timed ``--requests`` times without the sweep (the baseline), then again while the sweep
runs with its default batch size. Then the sweep is left to finish, and its rate reported. Ends with one line
of key=value figures (milliseconds; ratios are during / baseline).

    python bench/retention.py [--runs 100000] [--steps 10] [--requests 400]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.retention_rows import generate  # noqa: E402

from orchestra.app import create_app  # noqa: E402
from orchestra.auth.local_admin import ensure_local_admin_token  # noqa: E402
from orchestra.config import Settings  # noqa: E402
from orchestra.kit.logging import configure as configure_logging  # noqa: E402
from orchestra.retention.sweep import RetentionSweeper  # noqa: E402
from orchestra.runtime import Runtime  # noqa: E402

CASES = 20


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def timed_requests(api: httpx.AsyncClient, count: int, run_id: str) -> list[float]:
    paths = ["/runs?project=bench&limit=50", f"/runs/{run_id}", "/projects/bench/retention"]
    latencies = []
    for index in range(count):
        started = time.perf_counter()
        response = await api.get(paths[index % len(paths)])
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return latencies


async def main(runs: int, steps: int, requests: int) -> None:
    configure_logging("warning")
    data_dir = Path(tempfile.mkdtemp(prefix="orchestra-bench-retention-"))
    settings = Settings(data_dir=data_dir, retention_interval_s=0, ai_url="http://127.0.0.1:9")
    runtime = await Runtime.start(settings, run_executor=False)
    owner = create_async_engine(runtime.db.owner_url)
    try:
        admin = await ensure_local_admin_token(runtime.db, runtime.tenant_id, data_dir)
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        headers = {"Authorization": f"Bearer {admin.token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench/api/v1", headers=headers, timeout=60
        ) as api:
            (await api.post("/projects", json={"name": "bench"})).raise_for_status()
            environment = {"name": "sut", "base_url": "http://127.0.0.1:9", "allow_private_network": True}
            (await api.post("/projects/bench/environments", json=environment)).raise_for_status()
            cases = [
                {"name": f"case {n}", "steps": [{"request": {"url": "{{ env.base_url }}/x"}}]}
                for n in range(CASES)
            ]
            body = {"test_cases": cases, "suites": []}
            (await api.post("/projects/bench/apply", json=body)).raise_for_status()
            project = uuid.UUID((await api.get("/projects/bench")).json()["id"])
            started = time.perf_counter()
            await generate(owner, runtime.tenant_id, project, runs, steps)
            print(f"generated {runs} runs with {runs * steps} steps in {time.perf_counter() - started:.1f} s")
            async with owner.connect() as conn:
                newest = (
                    await conn.execute(text("SELECT id FROM test_runs ORDER BY created_at DESC LIMIT 1"))
                ).scalar_one()
            await timed_requests(api, 30, str(newest))  # warm-up
            baseline = await timed_requests(api, requests, str(newest))
            await api.put("/projects/bench/retention", json={"keep_days": 1})

            sweeper = RetentionSweeper(runtime.db, settings)
            sweep_started = time.perf_counter()
            sweep = asyncio.create_task(sweeper.run_once())
            # the newest run goes last (oldest first): it stays readable while the requests are timed
            during = await timed_requests(api, requests, str(newest))
            overlapped = not sweep.done()
            report = await sweep
            sweep_s = time.perf_counter() - sweep_started
    finally:
        await owner.dispose()
        await runtime.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    figures = {
        "baseline_p50_ms": statistics.median(baseline),
        "baseline_p99_ms": percentile(baseline, 0.99),
        "during_p50_ms": statistics.median(during),
        "during_p99_ms": percentile(during, 0.99),
        "during_max_ms": max(during),
    }
    print(f"{'':<10} {'p50 (ms)':>9} {'p99 (ms)':>9} {'max (ms)':>9}")
    print(
        f"{'baseline':<10} {figures['baseline_p50_ms']:>9.1f} {figures['baseline_p99_ms']:>9.1f} "
        f"{max(baseline):>9.1f}"
    )
    print(
        f"{'sweeping':<10} {figures['during_p50_ms']:>9.1f} {figures['during_p99_ms']:>9.1f} "
        f"{figures['during_max_ms']:>9.1f}"
    )
    print(
        f"sweep: {report.runs} runs, {report.steps} steps in {report.transactions} transactions, "
        f"{sweep_s:.1f} s ({report.steps / sweep_s:.0f} step rows/s); requests overlapped: {overlapped}"
    )
    print(
        f"runs={runs} steps={runs * steps} requests={requests} "
        + " ".join(f"{name}={value:.1f}" for name, value in figures.items())
        + f" p50_ratio={figures['during_p50_ms'] / figures['baseline_p50_ms']:.2f}"
        + f" p99_ratio={figures['during_p99_ms'] / figures['baseline_p99_ms']:.2f}"
        + f" sweep_s={sweep_s:.1f} step_rows_per_s={report.steps / sweep_s:.0f}"
        + f" transactions={report.transactions} overlapped={overlapped}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.steps, args.requests))
