"""The warm process of `orchestra run` (src/orchestra_launcher) in the benchmarks: an environment that uses it
with a state directory of the benchmark's own, waiting until it serves, its figures, and stopping it."""

from __future__ import annotations

import json
import os
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


def serving_pid(root: Path) -> int | None:
    """The pid of the warm process whose state lies under ``root`` (warm_env's), once it serves (its socket
    made, its status written)."""
    for state in root.glob("orchestra-*/*"):
        if (state / "sock").exists():
            try:
                pid = json.loads((state / "status.json").read_text())["pid"]
            except (OSError, ValueError, KeyError):
                return None
            return int(pid)
    return None


def wait_serving(root: Path, timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    while (pid := serving_pid(root)) is None:
        if time.monotonic() > deadline:
            raise SystemExit("no warm process started after a run")
        time.sleep(0.1)
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
