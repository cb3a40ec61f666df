from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from orchestra.cli.demo_process import DemoProcess

REPO = Path(__file__).resolve().parents[2]
ORCHESTRA = [sys.executable, "-m", "orchestra.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRA_")}
    env.update({"ORCHESTRA_DATA_DIR": str(data_dir), "NO_COLOR": "1", "COLUMNS": "200"})
    env["ORCHESTRA_AI_PORT"] = str(free_port())  # `orchestra up`'s ai-service, apart from other tests'
    env.update(extra)
    return env


def orchestra(
    *args: str, data_dir: Path, timeout: float = 180, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ORCHESTRA, *args],
        cwd=REPO,
        env=cli_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def demo_sut() -> Iterator[str]:
    process = DemoProcess.start()
    try:
        yield process.url
    finally:
        process.stop()


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    log: Path


@pytest.fixture(scope="session")
def orchestra_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`orchestra up` as a real process, on a free port, with its own data directory, the demo included."""
    data_dir = tmp_path_factory.mktemp("up-data")
    log = data_dir.parent / "up.log"
    port = free_port()
    # Its configured ai port is taken, as by another Orchestra on the machine: it must serve its own
    # ai-service elsewhere and never ask this one.
    stranger = socket.socket()
    stranger.bind(("127.0.0.1", 0))
    stranger.listen()
    with log.open("w") as output:
        process = subprocess.Popen(
            [*ORCHESTRA, "up", "--port", str(port), "--data-dir", str(data_dir)],
            cwd=REPO,
            env=cli_env(data_dir, ORCHESTRA_AI_PORT=str(stranger.getsockname()[1])),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"orchestra up exited {process.returncode}:\n{log.read_text()}")
            if "Orchestra is serving on" in log.read_text():
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"orchestra up did not become ready:\n{log.read_text()}")
        assert httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200
        yield Server(url, data_dir, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        stranger.close()
