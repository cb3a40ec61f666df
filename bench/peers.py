"""Benchmark: `orchestra run` against its peers — Step CI, newman and Tavern — on the same chained scenario,
as the user runs each (a fresh process, start-up and shut-down included), in the same run.

The peers are installed from their registries into a cache folder (npm: newman and stepci; PyPI: tavern in a
virtual environment of its own), at the versions pinned below; a peer that cannot be installed is skipped and
the reason printed. The scenario is the same for all: N requests, each a POST of the value captured from the
previous response to the demo SUT's /chain, checking the status and the echoed value and capturing ``next``
for the following request. Every runner must pass every check (a failed run stops the benchmark). One demo
SUT process (uvicorn on 127.0.0.1) serves all. Orchestra runs embedded with a warm data directory (made by
the warm-up run), so every measured run commits each step durably before the next starts, exactly as any
`orchestra run`.

Orchestra runs twice in each round: ``orchestra`` as a user runs it (after the warm-up, the warm process
left by the first run takes every run — src/orchestra_launcher — and keeps the data directory's server
running; its peak RSS is the warm process's, whose pages the forks share) and ``orchestra_cold`` in a process
of its own every time (``ORCHESTRA_WARM_START=off``, its server started and stopped by each run, on a data
directory of its own).

For each size (1 and 500 steps by default): one warm-up run of each runner, then ``--rounds`` rounds in which
the runners alternate (a change in the machine's load hits all of them alike). Reports medians of the wall
time and the peak resident memory of each runner (the largest process of it that was waited for: for
Orchestra its own process, not the PostgreSQL server it starts), and ends with one line of key=value figures,
``ratio_vs_stepci`` and ``ratio_vs_newman`` (500 steps, below 1: Orchestra faster) last.

    python bench/peers.py [--steps 1 500] [--rounds 5] [--cache DIR]
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
import venv
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from warm_process import cold_env, peak_rss_mb, stop, wait_serving, warm_env

from orchestra.cli.demo_process import DemoProcess

ORCHESTRA = Path(sys.executable).parent / "orchestra"
DEFAULT_CACHE = Path.home() / ".cache" / "orchestra-bench" / "peers"
NPM_PEERS = {"newman": "6.2.1", "stepci": "2.8.2"}
# Tavern 3.7 imports a pytest module that pytest 9 removed: the last pytest it runs with.
PYPI_PEERS = ["tavern==3.7.1", "pytest==8.4.2"]
RUN_TIMEOUT_S = 900


@dataclass
class Runner:
    name: str
    version: str
    command: list[str]  # the scenario's path is appended per size
    files: dict[int, Path] = field(default_factory=dict)
    env: dict[str, str] | None = None
    warm: bool = False  # run by the warm process (orchestra_launcher): its peak RSS is the warm process's
    wall: dict[int, list[float]] = field(default_factory=dict)
    rss_mb: dict[int, list[float]] = field(default_factory=dict)


# ---------------------------------------------------------------- installing the peers


def install_npm(cache: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """newman and stepci from npm into ``cache/npm``; (executables, reasons for the ones not installed)."""
    folder = cache / "npm"
    bins = {name: folder / "node_modules" / ".bin" / name for name in NPM_PEERS}
    wanted = {name: version for name, version in NPM_PEERS.items() if not installed(folder, name, version)}
    if wanted and shutil.which("npm") is None:
        return {n: p for n, p in bins.items() if n not in wanted}, dict.fromkeys(wanted, "npm not found")
    if wanted:
        folder.mkdir(parents=True, exist_ok=True)
        specs = [f"{name}@{version}" for name, version in wanted.items()]
        print(f"installing {' '.join(specs)} from npm into {folder}", flush=True)
        done = subprocess.run(
            ["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--silent", *specs],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            reason = f"npm install failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
            return {n: p for n, p in bins.items() if n not in wanted}, dict.fromkeys(wanted, reason)
    return bins, {}


def installed(folder: Path, name: str, version: str) -> bool:
    manifest = folder / "node_modules" / name / "package.json"
    return manifest.exists() and json.loads(manifest.read_text()).get("version") == version


def install_tavern(cache: Path) -> tuple[Path | None, str | None]:
    """Tavern from PyPI into a virtual environment of its own (its pytest is not the project's)."""
    folder = cache / "tavern"
    pytest = folder / "bin" / "pytest"
    stamp = folder / ".installed"
    if stamp.exists() and stamp.read_text() == " ".join(PYPI_PEERS):
        return pytest, None
    print(f"installing {' '.join(PYPI_PEERS)} from PyPI into {folder}", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    venv.create(folder, with_pip=True)
    done = subprocess.run(
        [
            str(folder / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *PYPI_PEERS,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        return None, f"pip install failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
    stamp.write_text(" ".join(PYPI_PEERS))
    return pytest, None


# ---------------------------------------------------------------- the scenario, once per runner


def orchestra_test(steps: int) -> str:
    def step() -> dict[str, object]:  # a new object each: YAML aliases are refused in test definitions
        return {
            "request": {"method": "POST", "url": "{{ env.base_url }}/chain", "json": {"value": "{{ next }}"}},
            "expect": {"status": 200, "json": {"$.value": "{{ next }}"}},
            "capture": {"next": "$.next"},
        }

    definition = {
        "name": f"chain of {steps}",
        "variables": {"next": 0},
        "steps": [step() for _ in range(steps)],
    }
    return yaml.safe_dump(definition, sort_keys=False)


def postman_collection(base_url: str, steps: int) -> str:
    script = [
        "const body = pm.response.json();",
        "pm.test('status', () => pm.response.to.have.status(200));",
        "pm.test('value', () => pm.expect(body.value).to.eql(Number(pm.collectionVariables.get('next'))));",
        "pm.collectionVariables.set('next', body.next);",
    ]
    item = {
        "name": "chain",
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": script}}],
        "request": {
            "method": "POST",
            "url": f"{base_url}/chain",
            "header": [{"key": "Content-Type", "value": "application/json"}],
            "body": {"mode": "raw", "raw": '{"value": {{next}}}'},
        },
    }
    return json.dumps(
        {
            "info": {
                "name": f"chain of {steps}",
                "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
            },
            "variable": [{"key": "next", "value": "0"}],
            "item": [{**item, "name": f"step {index}"} for index in range(steps)],
        }
    )


def stepci_workflow(base_url: str, steps: int) -> str:
    def step(index: int) -> dict[str, object]:
        value: object = 0 if index == 0 else "${{captures.next}}"
        return {
            "name": f"step {index}",
            "http": {
                "url": f"{base_url}/chain",
                "method": "POST",
                "json": {"value": value},
                "captures": {"next": {"jsonpath": "$.next"}},
                "check": {"status": 200, "jsonpath": {"$.value": value}},
            },
        }

    workflow = {
        "version": "1.1",
        "name": f"chain of {steps}",
        "tests": {"chain": {"steps": [step(index) for index in range(steps)]}},
    }
    return yaml.safe_dump(workflow, sort_keys=False)


def tavern_test(base_url: str, steps: int) -> str:
    def stage(index: int) -> str:
        value = "0" if index == 0 else '!int "{next:d}"'
        return (
            f"  - name: step {index}\n"
            f"    request:\n"
            f"      url: {base_url}/chain\n"
            f"      method: POST\n"
            f"      json:\n"
            f"        value: {value}\n"
            f"    response:\n"
            f"      status_code: 200\n"
            f"      json:\n"
            f"        value: {value}\n"
            f"      save:\n"
            f"        json:\n"
            f"          next: next\n"
        )

    return f"test_name: chain of {steps}\nstrict:\n  - json:off\nstages:\n" + "".join(
        stage(i) for i in range(steps)
    )


def write_scenarios(work: Path, runners: dict[str, Runner], base_url: str, sizes: list[int]) -> None:
    for size in sizes:
        folder = work / f"steps-{size}"
        folder.mkdir()
        files = {
            "orchestra": ("tests/chain.yaml", orchestra_test(size)),
            "stepci": ("workflow.yaml", stepci_workflow(base_url, size)),
            "newman": ("collection.json", postman_collection(base_url, size)),
            "tavern": ("test_chain.tavern.yaml", tavern_test(base_url, size)),
        }
        files["orchestra_cold"] = files["orchestra"]
        for name, runner in runners.items():
            relative, content = files[name]
            path = folder / relative
            path.parent.mkdir(exist_ok=True)
            path.write_text(content)
            runner.files[size] = path.parent if name.startswith("orchestra") else path


# ---------------------------------------------------------------- running


def timed(runner: Runner, size: int, cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run; stops the benchmark when the run did not pass."""
    command = [*runner.command[:1], *command_args(runner, size)]
    output = cwd / f"{runner.name}-{size}.log"
    with output.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=runner.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = started + RUN_TIMEOUT_S
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                raise SystemExit(f"{runner.name} took more than {RUN_TIMEOUT_S} s")
            time.sleep(0.002)
        elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(
            f"{runner.name} ({size} steps) failed ({process.returncode}):\n{output.read_text()[-3000:]}"
        )
    return elapsed, usage.ru_maxrss / 1024


def command_args(runner: Runner, size: int) -> list[str]:
    return [arg.replace("{scenario}", str(runner.files[size])) for arg in runner.command[1:]]


def make_runners(cache: Path, work: Path, base_url: str) -> tuple[dict[str, Runner], dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    npm_bins, skipped = install_npm(cache)
    tavern_pytest, tavern_reason = install_tavern(cache)
    if tavern_reason:
        skipped["tavern"] = tavern_reason
    from importlib.metadata import version

    orchestra_run = [str(ORCHESTRA), "run", "{scenario}", "--base-url", base_url, "--data-dir"]
    runners = {
        "orchestra": Runner(
            "orchestra",
            version("orchestra"),
            [*orchestra_run, str(work / "data")],
            env=warm_env(env, work / "runtime"),  # main's runtime
            warm=True,
        ),
        "orchestra_cold": Runner(
            "orchestra_cold",
            version("orchestra"),
            [*orchestra_run, str(work / "data-cold")],
            env=cold_env(env),
        ),
    }
    if "stepci" in npm_bins:
        runners["stepci"] = Runner(
            "stepci",
            NPM_PEERS["stepci"],
            [str(npm_bins["stepci"]), "run", "{scenario}"],
            env={**env, "STEPCI_DISABLE_ANALYTICS": "1"},
        )
    if "newman" in npm_bins:
        runners["newman"] = Runner(
            "newman",
            NPM_PEERS["newman"],
            [str(npm_bins["newman"]), "run", "{scenario}", "--reporters", "cli"],
            env=env,
        )
    if tavern_pytest is not None:
        runners["tavern"] = Runner(
            "tavern",
            PYPI_PEERS[0].split("==")[1],
            [str(tavern_pytest), "-q", "-p", "no:cacheprovider", "{scenario}"],
            env={k: v for k, v in env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
        )
    return runners, skipped


def main(sizes: list[int], rounds: int, cache: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="orchestra-bench-peers-"))
    runtime = work / "runtime"  # the warm process's state (make_runners' warm_env)
    demo = DemoProcess.start()
    try:
        runners, skipped = make_runners(cache, work, demo.url)
        for name, reason in skipped.items():
            print(f"skipped {name}: {reason}")
        write_scenarios(work, runners, demo.url, sizes)
        warm_pid: int | None = None
        for size in sizes:
            for runner in runners.values():  # warm-up: Orchestra's data directory made, disk caches filled
                timed(runner, size, work)
            if warm_pid is None:  # the first warm-up left the warm process
                warm_pid = wait_serving(runtime)
                timed(runners["orchestra"], size, work)  # its server joined by it: kept from now on
            for _ in range(rounds):
                for runner in runners.values():
                    wall, rss = timed(runner, size, work)
                    runner.wall.setdefault(size, []).append(wall)
                    runner.rss_mb.setdefault(size, []).append(peak_rss_mb(warm_pid) if runner.warm else rss)
    finally:
        stop(ORCHESTRA, warm_env(dict(os.environ), runtime))
        demo.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(runners, sizes, rounds)


def report(runners: dict[str, Runner], sizes: list[int], rounds: int) -> None:
    load = os.getloadavg()
    print(f"rounds: {rounds} per size (one process per run, alternating); load average {load[0]:.1f}")
    print(f"| runner | {' | '.join(f'{size} step(s): wall (median) | peak RSS' for size in sizes)} |")
    print(f"|---|{'---|---|' * len(sizes)}")
    for runner in runners.values():
        cells = " | ".join(
            f"{statistics.median(runner.wall[size]):.2f} s | {statistics.median(runner.rss_mb[size]):.0f} MB"
            for size in sizes
        )
        print(f"| {runner.name} {runner.version} | {cells} |")
    for runner in runners.values():
        for size in sizes:
            print(f"{runner.name} {size}: {', '.join(f'{t:.2f}' for t in runner.wall[size])} s")
    figures: dict[str, str] = {"load": f"{load[0]:.1f}"}
    for size in sizes:
        for runner in runners.values():
            figures[f"{runner.name}_s_{size}"] = f"{statistics.median(runner.wall[size]):.3f}"
            figures[f"{runner.name}_rss_mb_{size}"] = f"{statistics.median(runner.rss_mb[size]):.0f}"
    last = sizes[-1]
    ratios: dict[str, str] = {}
    for prefix, ours in (("cold_", runners["orchestra_cold"]), ("", runners["orchestra"])):
        for size in sizes:
            suffix = "" if size == last else f"_{size}"
            for peer in ("tavern", "stepci", "newman"):
                if peer in runners:
                    value = statistics.median(ours.wall[size]) / statistics.median(runners[peer].wall[size])
                    ratios[f"{prefix}ratio_vs_{peer}{suffix}"] = f"{value:.2f}"
                else:
                    ratios[f"{prefix}ratio_vs_{peer}{suffix}"] = "nan"
    # the 500-step ratios against Step CI and newman close the line
    ordered = {k: v for k, v in ratios.items() if k not in ("ratio_vs_stepci", "ratio_vs_newman")}
    ordered.update(ratio_vs_stepci=ratios["ratio_vs_stepci"], ratio_vs_newman=ratios["ratio_vs_newman"])
    print(" ".join(f"{key}={value}" for key, value in {**figures, **ordered}.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 500])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the peers are installed")
    args = parser.parse_args()
    main(sorted(args.steps), args.rounds, args.cache)
