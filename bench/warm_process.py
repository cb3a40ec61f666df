"""The warm process of `orchestra run` (src/orchestra_launcher) in the benchmarks: an environment that uses it
with a state directory of the benchmark's own, waiting until it serves, its figures, and stopping it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path


def warm_env(env: dict[str, str], root: Path) -> dict[str, str]:
    """``env`` with the warm process on (whatever CI says) and its state under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    kept = {key: value for key, value in env.items() if key not in ("CI", "XDG_RUNTIME_DIR")}
    return {**kept, "ORCHESTRA_WARM_START": "on", "TMPDIR": str(root)}


def cold_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "ORCHESTRA_WARM_START": "off"}


def serving_pid(executable: Path, env: dict[str, str]) -> int | None:
    said = subprocess.run(
        [str(executable), "warm", "status"], env=env, capture_output=True, text=True, check=False
    ).stdout
    found = re.match(r"warm process (\d+):", said)
    return int(found.group(1)) if found else None


def wait_serving(executable: Path, env: dict[str, str], timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    while (pid := serving_pid(executable, env)) is None:
        if time.monotonic() > deadline:
            raise SystemExit("no warm process started after a run")
        time.sleep(0.2)
    return pid


def children_cpu_s(pid: int) -> float:
    """CPU seconds of the ended forks of the warm process ``pid`` (it reaps them: their time is its
    children's)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the warm process (its forks share its pages)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(executable: Path, env: dict[str, str]) -> None:
    subprocess.run([str(executable), "warm", "stop"], env=env, capture_output=True, check=False)
