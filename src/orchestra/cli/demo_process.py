"""The demo SUT as a child process on a free port (used by `orchestra up` and the end-to-end tests)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

DEMO_URL_PREFIX = "demo SUT listening on "


@dataclass
class DemoProcess:
    process: subprocess.Popen[str]
    url: str

    @classmethod
    def start(
        cls, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 30.0, module: str = "orchestra.demo"
    ) -> DemoProcess:
        """``module`` serves like ``orchestra.demo`` (the same options and announcement line)."""
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--host", host, "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + timeout_s
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith(DEMO_URL_PREFIX):
                return cls(process, line[len(DEMO_URL_PREFIX) :].strip())
            if not line and process.poll() is not None:
                break
        process.kill()
        process.wait()
        process.stdout.close()
        raise RuntimeError("the demo SUT did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
