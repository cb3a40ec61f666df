"""Benchmark: the web application's figures that users feel.

1. The gzipped size of the JavaScript the first page load needs (index.html's module script and the chunks
   it preloads), target <= 300 KB.
2. The time to first render of the run list with 100,000 runs in the database (server-side paging): a real
   `orchestra up`, the runs inserted with SQL, Debian's chromium loading /runs (median of 5 loads, from
   navigation to the first row shown); the API's first page is also timed before the runs are added (the
   same process, the demo's runs only), and the ratio printed.
3. The time for a step to appear in a run's timeline after the executor commits it (target p50 <= 300 ms):
   a run of 20 steps, 300 ms apart, watched live; each step's appearance in the page against its commit time
   (``started_at + duration``, the moment the executor writes it), on the same machine's clock.
4. A run of 500 steps in its run detail page (a virtualised timeline): the time to first render (navigation
   to the first step shown, median of 5 loads) against a run of 5 of the same steps opened in the same way
   (ratio), the step rows in the page, and the time from scrolling the timeline to its end until the last
   step is painted.

Ends with one line of key=value figures. Needs the built web application, chromium and web/node_modules.

    python bench/web.py [--runs 100000] [--big-steps 500]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import start_up  # noqa: E402

from orchestra.embedded_pg import EmbeddedPostgres  # noqa: E402

WEB_DIST = REPO / "src" / "orchestra" / "web_dist"
STEPS = 20
STEP_GAP = "300ms"
SMALL_STEPS = 5


def initial_js_gzip_kb() -> float:
    html = (WEB_DIST / "index.html").read_text()
    scripts = re.findall(r'(?:src|href)="(/assets/[^"]+\.js)"', html)
    return sum(len(gzip.compress((WEB_DIST / s.lstrip("/")).read_bytes())) for s in scripts) / 1024


async def add_runs(data_dir: Path, count: int) -> int:
    """``count`` copies of the runs ``orchestra up`` made (new ids, spread over the last days); the total."""
    embedded = EmbeddedPostgres(data_dir)  # the server `orchestra up` runs; let go of it afterwards
    url = embedded.start().replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        columns = [
            row["column_name"]
            for row in await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'test_runs' "
                "ORDER BY ordinal_position"
            )
        ]
        chosen = {"id": "gen_random_uuid()", "created_at": "now() - n * interval '3 seconds'"}
        values = ", ".join(chosen.get(column, f"r.{column}") for column in columns)
        source = await connection.fetchval("SELECT count(*) FROM test_runs WHERE suite_phase IS NULL")
        await connection.execute(
            f"INSERT INTO test_runs ({', '.join(columns)}) SELECT {values} FROM generate_series(1, $1) AS n "
            "JOIN LATERAL (SELECT * FROM test_runs WHERE suite_phase IS NULL "
            "OFFSET (n % $2) LIMIT 1) AS r ON true",
            count,
            source,
        )
        await connection.execute("ANALYZE test_runs")
        return int(await connection.fetchval("SELECT count(*) FROM test_runs"))
    finally:
        await connection.close()
        embedded.stop()


def step_commits(url: str, token: str, run_id: str) -> list[float]:
    """Each step's commit time (epoch ms): when it started plus how long it took."""
    answer = httpx.get(f"{url}/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {token}"})
    steps = answer.json()["steps"]
    return [datetime.fromisoformat(s["started_at"]).timestamp() * 1000 + s["duration_ms"] for s in steps]


def ping_test(name: str, count: int) -> dict[str, object]:
    """A test case of ``count`` steps, each a GET of the demo's health check (one loop step)."""
    ping = {
        "name": "ping",
        "repeat": count,
        "request": {"url": "{{ env.base_url }}/health?ping={{ item }}"},
        "expect": {"status": 200},
    }
    return {"name": name, "steps": [ping]}


def finished_run(url: str, headers: dict[str, str], test_case: str) -> str:
    """Start a run of ``test_case`` in the demo environment and wait (up to 10 minutes) until it passed."""
    body = {"project": "examples", "environment": "demo", "test_case": test_case}
    created = httpx.post(f"{url}/api/v1/runs", json=body, headers=headers)
    created.raise_for_status()
    run_id = str(created.json()["id"])
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = httpx.get(f"{url}/api/v1/runs/{run_id}", headers=headers).json()["status"]
        if status == "PASSED":
            return run_id
        if status in {"FAILED", "ERROR", "CANCELLED", "TIMED_OUT"}:
            raise SystemExit(f"the {test_case} run ended {status}")
        time.sleep(1)
    raise SystemExit(f"the {test_case} run did not end in 10 minutes")


def list_timings(url: str, headers: dict[str, str]) -> float:
    """The median time of the run list's first page, as the application asks for it."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        httpx.get(f"{url}/api/v1/runs", params={"limit": 50, "offset": 0}, headers=headers).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--big-steps", type=int, default=500, help="steps of the big run (at most 1000)")
    options = parser.parse_args()
    size_kb = initial_js_gzip_kb()
    with tempfile.TemporaryDirectory(prefix="orchestra-bench-web-") as scratch:
        data_dir = Path(scratch) / "data"
        server = start_up(data_dir, Path(scratch) / "up.log", timeout_s=300)
        try:
            token = (data_dir / "admin-token").read_text().strip()
            headers = {"Authorization": f"Bearer {token}"}
            baseline_ms = list_timings(server.url, headers)  # the same list with only the demo's runs
            total = asyncio.run(add_runs(data_dir, options.runs))
            steps = [{"sleep": STEP_GAP, "name": f"wait {i}"} for i in range(STEPS)]
            apply = {
                "test_cases": [
                    {"name": "bench-timeline", "steps": steps},
                    ping_test("bench-big-run", options.big_steps),
                    ping_test("bench-small-run", SMALL_STEPS),
                ]
            }
            applied = httpx.post(f"{server.url}/api/v1/projects/examples/apply", json=apply, headers=headers)
            applied.raise_for_status()
            api_ms = list_timings(server.url, headers)
            big_run = finished_run(server.url, headers, "bench-big-run")
            small_run = finished_run(server.url, headers, "bench-small-run")
            browser = subprocess.run(
                ["node", str(REPO / "bench" / "web_browser.mjs")],
                cwd=REPO / "web",
                env={
                    "ORCHESTRA_URL": server.url,
                    "ORCHESTRA_TOKEN": token,
                    "STEPS": str(STEPS),
                    "BIG_RUN": big_run,
                    "BIG_STEPS": str(options.big_steps),
                    "SMALL_RUN": small_run,
                    "SMALL_STEPS": str(SMALL_STEPS),
                    "PATH": "/usr/bin:/bin",
                },
                capture_output=True,
                text=True,
                timeout=600,
            )
            if browser.returncode != 0:
                raise SystemExit(f"the browser part failed:\n{browser.stdout}\n{browser.stderr}")
            seen = json.loads(browser.stdout.strip().splitlines()[-1])
            commits = step_commits(server.url, token, seen["run_id"])
        finally:
            server.stop()
    pairs = zip(seen["appeared"], commits, strict=False)
    delays = sorted(max(0.0, shown - committed) for shown, committed in pairs)
    render = statistics.median(seen["first_render_ms"])
    p50 = statistics.median(delays)
    print(
        f"runs in the database: {total}; GET /runs first page (median of 5): {api_ms:.0f} ms "
        f"(with the demo's runs only: {baseline_ms:.0f} ms)"
    )
    print(f"run list first render in the browser (median of 5): {render:.0f} ms")
    print(f"step to timeline over {len(delays)} steps: p50 {p50:.0f} ms, max {delays[-1]:.0f} ms")
    big_ms = statistics.median(seen["detail_big_ms"])
    small_ms = statistics.median(seen["detail_small_ms"])
    print(
        f"run detail first render (median of 5): {options.big_steps} steps {big_ms:.0f} ms, "
        f"{SMALL_STEPS} steps {small_ms:.0f} ms; step rows in the page: {seen['big_rows_shown']} "
        f"({seen['big_rows_at_end']} at the end); scroll to the last step: {seen['scroll_to_end_ms']:.0f} ms"
    )
    print(
        f"initial_js_gzip_kb={size_kb:.1f} runs={total} runs_api_ms={api_ms:.0f} "
        f"runs_api_ratio_vs_few={api_ms / baseline_ms:.2f} "
        f"runs_first_render_ms={render:.0f} "
        f"step_to_timeline_p50_ms={p50:.0f} step_to_timeline_max_ms={delays[-1]:.0f} "
        f"big_run_steps={options.big_steps} big_run_first_render_ms={big_ms:.0f} "
        f"small_run_first_render_ms={small_ms:.0f} big_run_render_ratio_vs_small={big_ms / small_ms:.2f} "
        f"big_run_rows_in_page={seen['big_rows_shown']} big_run_rows_at_end={seen['big_rows_at_end']} "
        f"big_run_scroll_to_end_ms={seen['scroll_to_end_ms']:.0f}"
    )


if __name__ == "__main__":
    main()
