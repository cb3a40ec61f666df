from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from orchestra.cli.demo_process import DemoProcess
from tests.ports import free_port, port_of, reserve_port

REPO = Path(__file__).resolve().parents[2]
ORCHESTRA = [sys.executable, "-m", "orchestra.cli"]
SERVING = "Orchestra is serving on "


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRA_")}
    env.update({"ORCHESTRA_DATA_DIR": str(data_dir), "NO_COLOR": "1", "COLUMNS": "200"})
    env["ORCHESTRA_AI_PORT"] = str(free_port())  # `orchestra up`'s ai-service, apart from other tests'
    env.update(extra)
    return env


def orchestra(
    *args: str, data_dir: Path, timeout: float = 180, cwd: Path = REPO, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ORCHESTRA, *args],
        cwd=cwd,
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
class ServiceProcess:
    """A service started as a process, its output in ``log``; stopped with SIGTERM, then SIGKILL."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    log: Path

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 30 s; the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_up(data_dir: Path, log: Path, *options: str, timeout_s: float = 120, **env: str) -> Server:
    """`orchestra up` as a real process on a free port, once it says it serves. The port was free a moment
    ago; `up` refuses a taken one, so the URL is this process's (it is what it printed)."""
    for _ in range(3):
        port = free_port()
        with log.open("w") as output:
            process = subprocess.Popen(
                [*ORCHESTRA, "up", "--port", str(port), "--data-dir", str(data_dir), *options],
                cwd=REPO,
                env=cli_env(data_dir, **env),
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
            )
        url = f"http://127.0.0.1:{port}"
        server = Server(url, data_dir, process, log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            said = " ".join(log.read_text().split())
            if f"{SERVING}{url}" in said:
                return server
            if process.poll() is not None:
                if f"cannot listen on 127.0.0.1:{port}" in said:
                    break  # taken meanwhile by someone else: another port
                raise AssertionError(f"orchestra up exited {process.returncode}:\n{log.read_text()}")
            time.sleep(0.2)
        else:
            server.stop()
            raise AssertionError(f"orchestra up did not become ready:\n{log.read_text()}")
    raise AssertionError(f"orchestra up found no free port:\n{log.read_text()}")


@pytest.fixture(scope="session")
def orchestra_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`orchestra up` as a real process, on a free port, with its own data directory, the demo included."""
    data_dir = tmp_path_factory.mktemp("up-data")
    # Its configured ai port is held, as by another Orchestra on the machine: it must serve its own
    # ai-service elsewhere and never ask that port.
    stranger = reserve_port()
    stranger.listen()
    try:
        server = start_up(data_dir, data_dir.parent / "up.log", ORCHESTRA_AI_PORT=str(port_of(stranger)))
        try:
            assert httpx.get(f"{server.url}/api/v1/health", timeout=5).status_code == 200
            yield server
        finally:
            server.stop()
    finally:
        stranger.close()
