"""`orchestra run` through the warm process: the executable (the installed `orchestra` script, whose launcher
hands a run over) against the demo SUT, each test with a state directory of its own (TMPDIR), its warm
process stopped at the end.

What the user sees must not depend on which process ran the command: the same output on the same streams,
the same exit codes, Ctrl-C and kill handled as a run in its own process handles them. Never timing
(bench/startup.py measures it).
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import cli_env

pytestmark = pytest.mark.e2e

EXECUTABLE = Path(sys.executable).parent / "orchestra"

PASSING = """\
name: passing
steps:
  - request: { method: POST, url: "{{ env.base_url }}/chain", json: { value: 41 } }
    expect: { status: 200, json: { $.value: 41 } }
"""
FAILING = PASSING.replace("name: passing", "name: failing").replace("$.value: 41 }", "$.value: 42 }")
BROKEN = "name: broken\nsteps:\n  - reqest: {}\n"
SLOW = """\
name: slow
steps:
  - request: { method: GET, url: "{{ env.base_url }}/slow?ms=20000" }
    expect: { status: 200 }
"""

Orchestra = Callable[..., subprocess.CompletedProcess[str]]


class Warm:
    """The executable in ``home`` (tests, data directory, state directory under it)."""

    def __init__(self, home: Path, demo_sut: str, **env: str) -> None:
        self.home = home
        self.demo_sut = demo_sut
        self.env = cli_env(home / "data", ORCHESTRA_WARM_START="on", TMPDIR=str(home / "rt"))
        for name in ("XDG_RUNTIME_DIR", "CI"):
            self.env.pop(name, None)
        self.env.update(env)
        (home / "rt").mkdir(parents=True, exist_ok=True)
        for name, text in {"passing": PASSING, "failing": FAILING, "broken": BROKEN, "slow": SLOW}.items():
            (home / f"{name}.yaml").write_text(text)

    def command(self, *args: str) -> list[str]:
        return [str(EXECUTABLE), *args]

    def run(self, test: str) -> subprocess.CompletedProcess[str]:
        return self.orchestra("run", f"{test}.yaml", "--base-url", self.demo_sut)

    def orchestra(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), cwd=self.home, env=self.env, capture_output=True, text=True, timeout=180
        )

    def start(self, test: str, out: Path) -> subprocess.Popen[bytes]:
        with out.open("wb") as sink:
            return subprocess.Popen(
                self.command("run", f"{test}.yaml", "--base-url", self.demo_sut),
                cwd=self.home,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def status(self) -> dict[str, object] | None:
        """The warm process's status file while one serves (its socket made), else None."""
        [state] = list((self.home / "rt").glob("orchestra-*/*")) or [None]
        if state is None or not (state / "sock").exists():
            return None
        try:
            status: dict[str, object] = json.loads((state / "status.json").read_text())
        except (OSError, ValueError):
            return None
        return status

    def wait_serving(self) -> dict[str, object]:
        deadline = time.monotonic() + 90
        while (status := self.status()) is None:
            assert time.monotonic() < deadline, "no warm process started after a run"
            time.sleep(0.1)
        return status

    def served(self) -> int:
        status = self.status()
        assert status is not None
        served = status["served"]
        assert isinstance(served, int)
        return served

    def server_running(self) -> bool:
        return (self.home / "data" / "pg" / "postmaster.pid").exists()

    def forks(self) -> list[int]:
        status = self.status()
        return [] if status is None else children_of(int(str(status["pid"])))


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def began(output: Path) -> None:
    until(lambda: "running 1 test case" in output.read_text(), f"the run did not begin: {output.read_text()}")


@pytest.fixture
def warm(tmp_path: Path, demo_sut: str) -> Iterator[Warm]:
    if sys.platform != "linux" or not EXECUTABLE.exists():
        pytest.skip("the warm process is for the installed executable on Linux")
    made = Warm(tmp_path, demo_sut)
    try:
        yield made
    finally:
        stopped = made.orchestra("warm", "stop")
        assert stopped.returncode == 0, stopped.stderr


def without_times(output: str) -> str:
    return re.sub(r"\s*\d+ ms", " N ms", output)


def test_a_run_after_a_run_is_made_by_the_warm_process_and_looks_the_same(warm: Warm) -> None:
    cold = warm.run("passing")
    assert cold.returncode == 0, cold.stdout + cold.stderr
    assert warm.wait_serving()["served"] == 0

    again = warm.run("passing")
    assert again.returncode == 0, again.stdout + again.stderr
    assert warm.served() == 1
    assert without_times(again.stdout) == without_times(cold.stdout)
    assert again.stderr == cold.stderr
    assert warm.server_running()  # kept for the next command

    failing = warm.run("failing")
    assert failing.returncode == 1
    assert "expected 42" in failing.stdout
    assert "FAILED" in failing.stdout

    broken = warm.run("broken")
    assert broken.returncode == 2
    assert broken.stdout == ""
    assert "broken.yaml:3:5" in broken.stderr
    assert "invalid test definition" in broken.stderr
    assert warm.served() == 3

    status = warm.orchestra("warm", "status")
    assert "3 command(s) run" in status.stdout
    [state] = list((warm.home / "rt").glob("orchestra-*/*"))
    kept = (state / "servers").read_text().splitlines()
    assert kept == [str((warm.home / "data" / "pg").resolve())]  # once, however many runs joined it

    stopped = warm.orchestra("warm", "stop")
    assert "stopped" in stopped.stdout
    assert warm.status() is None
    assert not warm.server_running()  # nothing else used it: stopped with the warm process
    assert "no warm process" in warm.orchestra("warm", "status").stdout


def test_ctrl_c_interrupts_the_run_and_a_killed_caller_has_its_run_interrupted(warm: Warm) -> None:
    assert warm.run("passing").returncode == 0
    warm.wait_serving()

    interrupted = warm.start("slow", warm.home / "interrupted.txt")
    until(
        lambda: "running 1 test case" in (warm.home / "interrupted.txt").read_text(), "the run did not begin"
    )
    interrupted.send_signal(signal.SIGINT)
    assert interrupted.wait(timeout=60) == 130
    assert "interrupted" in (warm.home / "interrupted.txt").read_text()
    until(lambda: not warm.forks(), "the interrupted run's process stayed")

    killed = warm.start("slow", warm.home / "killed.txt")
    began(warm.home / "killed.txt")
    [fork] = warm.forks()
    killed.kill()
    killed.wait(timeout=10)
    until(lambda: not warm.forks(), "the run of a killed caller went on")
    assert not Path(f"/proc/{fork}").exists()

    terminated = warm.start("slow", warm.home / "terminated.txt")
    until(
        lambda: "running 1 test case" in (warm.home / "terminated.txt").read_text(), "the run did not begin"
    )
    terminated.terminate()
    assert terminated.wait(timeout=60) == -signal.SIGTERM  # as the run's own process would end
    assert warm.served() == 3


def unanswered(connection: socket.socket) -> bool:
    """Closed by the warm process without an answer (reset, when it left part of the request unread)."""
    try:
        return connection.recv(100) == b""
    except ConnectionResetError:
        return True


def test_what_is_not_a_launchers_request_is_refused_and_the_next_run_is_served(warm: Warm) -> None:
    assert warm.run("passing").returncode == 0
    warm.wait_serving()
    [state] = list((warm.home / "rt").glob("orchestra-*/*"))
    hostile = [
        b"",  # connects and closes
        b"\x00\x00\x00\x05hello",  # no streams attached
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    for payload in hostile:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(state / "sock"))
            connection.sendall(payload)
            connection.shutdown(socket.SHUT_WR)
            assert unanswered(connection)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(state / "sock"))
        oversized = (64 * 1024 * 1024).to_bytes(4, "big")
        socket.send_fds(connection, [oversized], [0, 1, 2])
        assert unanswered(connection)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(state / "sock"))
        body = b'{"argv": "run"}'
        socket.send_fds(connection, [len(body).to_bytes(4, "big")], [0, 1, 2])
        connection.sendall(body)
        assert unanswered(connection)

    served = warm.run("passing")
    assert served.returncode == 0, served.stdout + served.stderr
    assert warm.served() == 1
    log = (state / "log").read_text()
    assert log.count("refused a connection") == 5, log


def test_an_idle_warm_process_leaves_and_stops_the_server_it_kept(tmp_path: Path, demo_sut: str) -> None:
    warm = Warm(tmp_path, demo_sut, ORCHESTRA_WARM_IDLE_S="3")
    try:
        assert warm.run("passing").returncode == 0
        warm.wait_serving()
        assert warm.run("passing").returncode == 0
        assert warm.served() == 1
        assert warm.server_running()
        until(lambda: warm.status() is None, "the idle warm process stayed")
        until(lambda: not warm.server_running(), "the server it kept was not stopped")
    finally:
        warm.orchestra("warm", "stop")


@pytest.mark.parametrize(
    "setting", [{"ORCHESTRA_WARM_START": "off"}, {"CI": "true", "ORCHESTRA_WARM_START": ""}]
)
def test_switched_off_or_under_ci_no_warm_process_is_left(
    tmp_path: Path, demo_sut: str, setting: dict[str, str]
) -> None:
    warm = Warm(tmp_path, demo_sut, **setting)
    assert warm.run("passing").returncode == 0
    assert warm.run("passing").returncode == 0
    assert not list((tmp_path / "rt").glob("orchestra-*"))  # not even asked for its state directory
    assert not warm.server_running()
