"""Benchmark: a chained Postman collection through `orchestra run` vs. through newman, in the same run.

The collection has N requests (500 by default). Each posts the value the previous request's test script
stored, and its test script checks the status and the carried value and stores the next one, the way real
collections chain requests (scripts that are more than plain assertions, so they run in the JavaScript
sandbox). Both tools run as the user runs them, as fresh processes, against the same demo SUT process on
127.0.0.1, alternately, several rounds; Orchestra embedded with a warm data directory (its database made by a
first, unmeasured run). Each run must pass every assertion. Prints the wall-time medians and ends with one
line of key=value figures; ``orchestra_vs_newman_ratio`` below 1 means Orchestra was faster.

    python bench/postman_vs_newman.py [--requests 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warm_process import cold_env

from orchestra.cli.demo_process import DemoProcess

REPO = Path(__file__).resolve().parent.parent
NEWMAN = REPO / "tools" / "newman" / "node_modules" / ".bin" / "newman"
ORCHESTRA = Path(sys.executable).parent / "orchestra"

TEST_SCRIPT = [
    "const body = pm.response.json();",
    'pm.test("status is 200", function () { pm.response.to.have.status(200); });',
    'pm.test("the value is carried over", function () {',
    '    pm.expect(body.value).to.eql(Number(pm.collectionVariables.get("next")));',
    '    pm.expect(body.next).to.be.a("number").and.to.be.above(body.value);',
    "});",
    'pm.collectionVariables.set("next", body.next);',
]


def collection(requests: int) -> dict[str, object]:
    item = [
        {
            "name": f"step {index + 1}",
            "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": TEST_SCRIPT}}],
            "request": {
                "method": "POST",
                "url": "{{base-url}}/chain",
                "header": [{"key": "Content-Type", "value": "application/json"}],
                "body": {
                    "mode": "raw",
                    "raw": '{"value": {{next}}}',
                    "options": {"raw": {"language": "json"}},
                },
            },
        }
        for index in range(requests)
    ]
    return {
        "info": {
            "name": f"chain of {requests}",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "variable": [{"key": "next", "value": "0"}],
        "item": item,
    }


def environment(base_url: str) -> dict[str, object]:
    return {"name": "bench", "values": [{"key": "base-url", "value": base_url, "enabled": True}]}


def run_newman(folder: Path, requests: int) -> float:
    report = folder / "newman.json"
    command = [str(NEWMAN), "run", str(folder / "collection.json"), "-e", str(folder / "environment.json")]
    command += ["--reporters", "json", "--reporter-json-export", str(report)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.perf_counter() - started
    stats = json.loads(report.read_text())["run"]["stats"]
    if done.returncode != 0 or stats["assertions"]["failed"] or stats["requests"]["total"] != requests:
        raise AssertionError(f"newman did not pass: {done.returncode} {stats}\n{done.stdout[-2000:]}")
    return elapsed


def run_orchestra(folder: Path, data_dir: Path, requests: int) -> float:
    result = folder / "orchestra.json"
    command = [str(ORCHESTRA), "run", str(folder / "collection.json"), "-e", str(folder / "environment.json")]
    command += ["--json", str(result), "--data-dir", str(data_dir)]
    started = time.perf_counter()
    # in a process of its own every time, as measured before the warm process (bench/startup.py has both)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, env=cold_env(dict(os.environ))
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise AssertionError(
            f"orchestra run did not pass: {done.returncode}\n{(done.stdout + done.stderr)[-3000:]}"
        )
    steps = [step for run in json.loads(result.read_text())["runs"] for step in run["steps"]]
    checks = sum(len(step["assertions"]) for step in steps)
    if len(steps) != requests or any(step["status"] != "passed" for step in steps) or checks < 2 * requests:
        raise AssertionError("orchestra run: not every request passed")
    return elapsed


def main(requests: int, rounds: int) -> None:
    if not NEWMAN.exists():
        sys.exit("newman is not installed: `make newman` installs it from npm")
    folder = Path(tempfile.mkdtemp(prefix="orchestra-bench-postman-"))
    demo = DemoProcess.start()
    try:
        (folder / "collection.json").write_text(json.dumps(collection(requests)))
        (folder / "environment.json").write_text(json.dumps(environment(demo.url)))
        data_dir = folder / "data"
        run_orchestra(folder, data_dir, requests)  # warm-up: the data directory and its database, caches
        run_newman(folder, requests)
        orchestra_times, newman_times = [], []
        for _ in range(rounds):
            newman_times.append(run_newman(folder, requests))
            orchestra_times.append(run_orchestra(folder, data_dir, requests))
    finally:
        demo.stop()
        shutil.rmtree(folder, ignore_errors=True)
    orchestra_s, newman_s = statistics.median(orchestra_times), statistics.median(newman_times)
    print(f"rounds: {rounds}, requests per collection: {requests}")
    print(
        f"orchestra run median: {orchestra_s:.2f} s   runs: {', '.join(f'{t:.2f}' for t in orchestra_times)}"
    )
    print(f"newman run median:    {newman_s:.2f} s   runs: {', '.join(f'{t:.2f}' for t in newman_times)}")
    print(
        f"requests={requests} orchestra_s={orchestra_s:.2f} newman_s={newman_s:.2f} "
        f"orchestra_vs_newman_ratio={orchestra_s / newman_s:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    main(args.requests, args.rounds)
