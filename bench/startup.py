"""Benchmark: start-up of a one-shot run — `orchestra run` of a one-step YAML test (embedded engine, warm data
directory) against newman on the same one-request collection and a bare httpx script, as processes, in the
same run, against one demo SUT process on 127.0.0.1.

Each runner does the same thing: POST /chain with a value, check the status and the echoed value. Every
invocation is a new process (wall time from spawn to exit, all of start-up and shut-down included); the
runners alternate round by round so that a change of the machine's load hits all of them alike. Orchestra's
data directory is made and warmed (one run) before the rounds, so the rounds measure a warm start: the
database initialised and migrated.

`orchestra run` is measured twice, on two data directories: as a user runs it (``orchestra``: after the
warm-up, the warm process left by the first run takes each run — see src/orchestra_launcher — and keeps its
server running), and in a process of its own every time (``orchestra_cold``: ``ORCHESTRA_WARM_START=off``,
its server started and stopped by each run). The warm runs' CPU is the launcher's plus the fork's (the warm
process reaps its forks: their time is its children's); the server's is not counted for them, since it
keeps running.

Prints the medians and ends with one line of key=value figures (ratios against newman and the bare script).
``--baseline SRC`` adds Orchestra from another source tree (``git archive <commit> src | tar -x -C DIR``,
then ``--baseline DIR/src``), on a data directory of its own, to the same alternation: before and after in
one run.

    python bench/startup.py [--rounds 7] [--baseline DIR/src]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warm_process import children_cpu_s, cold_env, stop, wait_serving, warm_env

from orchestra.cli.demo_process import DemoProcess

REPO = Path(__file__).resolve().parent.parent
NEWMAN = REPO / "tools" / "newman" / "node_modules" / ".bin" / "newman"
ORCHESTRA = Path(sys.executable).parent / "orchestra"

TEST_YAML = """\
name: one step
steps:
  - name: chain
    request:
      method: POST
      url: "{{ env.base_url }}/chain"
      json: { value: 41 }
    expect:
      status: 200
      json:
        $.value: 41
"""

BARE_SCRIPT = """\
import sys
import httpx

with httpx.Client(trust_env=False) as client:
    response = client.post(sys.argv[1] + "/chain", json={"value": 41})
ok = response.status_code == 200 and response.json()["value"] == 41
print("passed" if ok else "failed")
sys.exit(0 if ok else 1)
"""


def collection(base_url: str) -> dict[str, object]:
    return {
        "info": {
            "name": "one step",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": [
            {
                "name": "chain",
                "request": {
                    "method": "POST",
                    "url": f"{base_url}/chain",
                    "header": [{"key": "Content-Type", "value": "application/json"}],
                    "body": {"mode": "raw", "raw": json.dumps({"value": 41})},
                },
                "event": [
                    {
                        "listen": "test",
                        "script": {
                            "type": "text/javascript",
                            "exec": [
                                "pm.test('status', () => pm.response.to.have.status(200));",
                                "pm.test('value', () => pm.expect(pm.response.json().value).to.eql(41));",
                            ],
                        },
                    }
                ],
            }
        ],
    }


def timed(command: list[str], cwd: Path, env: dict[str, str] | None) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the process and its children: PostgreSQL's too) of a run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(rounds: int, baseline: Path | None) -> None:
    if not NEWMAN.exists():
        raise SystemExit("newman is not installed: `make newman` installs it from npm")
    work = Path(tempfile.mkdtemp(prefix="orchestra-bench-startup-"))
    runtime = work / "runtime"  # the warm process's state
    demo = DemoProcess.start()
    try:
        tests = work / "tests"
        tests.mkdir()
        (tests / "one_step.yaml").write_text(TEST_YAML)
        (work / "collection.json").write_text(json.dumps(collection(demo.url)))
        (work / "bare.py").write_text(BARE_SCRIPT)
        orchestra_run = [str(ORCHESTRA), "run", str(tests), "--base-url", demo.url, "--data-dir"]
        commands = {
            "orchestra": [*orchestra_run, str(work / "data")],
            "orchestra_cold": [*orchestra_run, str(work / "data-cold")],
            "newman": [str(NEWMAN), "run", str(work / "collection.json"), "--reporters", "cli"],
            "httpx": [sys.executable, str(work / "bare.py"), demo.url],
        }
        # As installed: bytecode written (an installed package has it compiled), no debugging switches.
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        envs: dict[str, dict[str, str]] = dict.fromkeys(commands, env)
        envs["orchestra"] = warm_env(env, runtime)
        envs["orchestra_cold"] = cold_env(env)
        if baseline is not None:
            # its own entry point (`python -m orchestra.cli`: the executable's script names this tree's)
            baseline_run = [sys.executable, "-m", "orchestra.cli", *commands["orchestra"][1:-1]]
            commands["baseline"] = [*baseline_run, str(work / "baseline-data")]
            envs["baseline"] = {**env, "PYTHONPATH": str(baseline.resolve())}
        for name, command in commands.items():  # warm-up: the data directory made and migrated, caches filled
            timed(command, work, envs[name])
        warm_pid = wait_serving(runtime)
        timed(commands["orchestra"], work, envs["orchestra"])  # its server joined: kept from now on
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, command in commands.items():
                if name == "orchestra":  # the fork's CPU counts too (the warm process reaps it)
                    forks_before = children_cpu_s(warm_pid)
                    wall, used = timed(command, work, envs[name])
                    used += children_cpu_s(warm_pid) - forks_before
                else:
                    wall, used = timed(command, work, envs[name])
                times[name].append(wall)
                cpu[name].append(used)
    finally:
        stop(ORCHESTRA, warm_env(dict(os.environ), runtime))
        demo.stop()
        shutil.rmtree(work, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    print(f"rounds: {rounds} (one process per run, alternating)")
    for name, values in times.items():
        print(
            f"{name:<10} wall median {medians[name]:.3f} s   cpu median {cpu_medians[name]:.3f} s   "
            f"wall runs: {', '.join(f'{t:.3f}' for t in values)}"
        )
    print(
        f"orchestra_s={medians['orchestra']:.3f} newman_s={medians['newman']:.3f} "
        f"httpx_s={medians['httpx']:.3f} "
        f"ratio_vs_newman={medians['orchestra'] / medians['newman']:.2f} "
        f"ratio_vs_httpx={medians['orchestra'] / medians['httpx']:.2f} "
        f"orchestra_cpu_s={cpu_medians['orchestra']:.3f} newman_cpu_s={cpu_medians['newman']:.3f} "
        f"cpu_ratio_vs_newman={cpu_medians['orchestra'] / cpu_medians['newman']:.2f} "
        f"cold_s={medians['orchestra_cold']:.3f} cold_cpu_s={cpu_medians['orchestra_cold']:.3f} "
        f"cold_ratio_vs_newman={medians['orchestra_cold'] / medians['newman']:.2f}"
        + (
            f" baseline_s={medians['baseline']:.3f} baseline_cpu_s={cpu_medians['baseline']:.3f} "
            f"ratio_vs_baseline={medians['orchestra'] / medians['baseline']:.2f} "
            f"cpu_ratio_vs_baseline={cpu_medians['orchestra'] / cpu_medians['baseline']:.2f}"
            if "baseline" in medians
            else ""
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="another source tree of Orchestra (its src folder)")
    args = parser.parse_args()
    main(args.rounds, args.baseline)
