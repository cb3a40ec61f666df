"""The `orchestra` executable: hands a one-shot `orchestra run` to a warm process of this installation.

A short `orchestra run` spends most of its time loading its code (SQLAlchemy, pydantic, the engine) — more
than the run itself. So after a run that loaded it, the launcher leaves a *warm process* behind
(``orchestra.cli.warm``): it has loaded the modules that run loaded, and waits on a Unix socket in a
directory only this user can enter. The next `orchestra run` of the same installation hands it its
arguments, working directory, environment and standard streams; the warm process forks, and the fork runs
the command as a new process would (the same code, every step committed the same way), writing to the
caller's terminal or pipes. Meanwhile the launcher forwards signals (Ctrl-C) to the fork and exits as it
exits. The warm process keeps the embedded PostgreSQL its forks used running, and goes away (stopping the
server when nothing else uses it) after ``ORCHESTRA_WARM_IDLE_S`` without work (default 15 minutes), as soon
as a module it loaded changes on disk, or at ``orchestra warm stop``.

``ORCHESTRA_WARM_START``: ``on`` or ``off``; unset, it is on except under CI (the ``CI`` variable set): a
build machine runs a command once, and would only be left with a process.

This package loads nothing but the standard library (not even the ``orchestra`` package, whose import
brings structlog): it is all a warm command costs besides the run. Every other command, a run the warm
process cannot take, and any platform but Linux go the usual way, in this process.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path

SOCKET = "sock"  # the warm process's socket, in the state directory
LOCK = "lock"  # held by the warm process that serves the directory
MODULES = "modules"  # the modules the last run done here loaded: what a warm process loads
SERVERS = "servers"  # the embedded servers (their data directories) kept running for the forks
STATUS = "status.json"  # what the warm process says of itself (pid, commands served)
HEADER = struct.Struct("!I")  # length of the request that follows it
MAX_REQUEST = 4 * 1024 * 1024
_OFF = ("0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def main() -> None:
    argv = sys.argv[1:]
    state = state_dir() if wanted(argv, os.environ) else None
    if state is not None:
        code = hand_over(state, argv)
        if code is not None:
            sys.exit(code)
    _in_this_process(state)


def wanted(argv: list[str], environ: os._Environ[str] | dict[str, str]) -> bool:
    """Whether this command goes to a warm process: `orchestra run` on Linux, unless switched off."""
    if sys.platform != "linux" or argv[:1] != ["run"]:
        return False
    setting = environ.get("ORCHESTRA_WARM_START", "").strip().lower()
    if setting in _OFF:
        return False
    if setting in _ON:
        return True
    return environ.get("CI", "").strip().lower() in ("", *_OFF)


def state_dir() -> Path | None:
    """This installation's directory of warm-process state (made on first use, mode 0700), or None when
    its parent is not this user's alone. One per interpreter, installed code and PYTHONPATH: a warm process
    only serves commands that would have loaded the code it loaded."""
    base = os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("TMPDIR") or "/tmp"
    uid = os.getuid()
    mine = Path(base) / f"orchestra-{uid}"
    key = "\0".join((sys.executable, str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")))
    state = mine / hashlib.sha256(f"{key}\0{sys.version}".encode()).hexdigest()[:16]
    try:
        mine.mkdir(mode=0o700, exist_ok=True)
        state.mkdir(mode=0o700, exist_ok=True)
        owned = mine.stat()
    except OSError:
        return None
    if owned.st_uid != uid or owned.st_mode & 0o077:
        return None  # someone else's directory, or one others may enter: never trusted
    return state


def hand_over(state: Path, argv: list[str]) -> int | None:
    """Run the command in a fork of the warm process; its exit code, or None when no warm process takes it
    (none runs, or it has gone stale: the caller runs the command itself)."""
    try:
        for stream in (0, 1, 2):
            os.fstat(stream)  # each open
        cwd = os.getcwd()
    except OSError:
        return None  # a closed standard stream, a removed working directory: the usual way says why
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(state / SOCKET))
    except OSError:
        connection.close()
        return None
    request = json.dumps(
        {
            "argv": argv,
            "cwd": cwd,
            "env": dict(os.environ),
            "stdio": [
                (getattr(stream, "encoding", None) or "utf-8", getattr(stream, "errors", None) or "strict")
                for stream in (sys.stdin, sys.stdout, sys.stderr)
            ],
        }
    ).encode()
    with connection:
        try:
            socket.send_fds(connection, [HEADER.pack(len(request))], [0, 1, 2])
            connection.sendall(request)
            answers = connection.makefile("rb")
            started = answers.readline().split()
        except OSError:
            return None
        if started[:1] != [b"started"]:
            return None  # stale, or refused: run it here
        return _follow(int(started[1]), answers)


def _follow(pid: int, answers: io.BufferedReader) -> int:
    """Wait for the fork ``pid`` to end, passing it the signals this process gets; its exit code (or this
    process ends by the signal that ended the fork)."""

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in _FORWARDED:
        signal.signal(signum, forward)
    try:
        ended = answers.readline().split()
    except OSError:
        ended = []
    code = int(ended[1]) if ended[:1] == [b"exited"] else None
    if code is None:
        sys.stderr.write("orchestra: lost the warm process running this command\n")
        return 2
    if code < 0:  # ended by a signal: end the same way, as the shell expects
        for signum in _FORWARDED:
            signal.signal(signum, signal.SIG_DFL)
        sys.stdout.flush()
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


def _in_this_process(state: Path | None) -> None:
    """The command, run here; after a run, a warm process is left for the next one (``state``)."""
    from orchestra.cli.entry import main as run_command

    try:
        run_command()
    finally:
        if state is not None:
            start_warm_process(state)


def take_lock(state: Path) -> int | None:
    """The state directory's lock, taken: its descriptor, held until closed (the warm process holds it while
    it serves); None while another process holds it."""
    lock = os.open(state / LOCK, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return None
    return lock


def served(state: Path) -> bool:
    """Whether a warm process serves ``state``."""
    lock = take_lock(state)
    if lock is None:
        return True
    os.close(lock)
    return False


def start_warm_process(state: Path) -> None:
    """Note the modules this run loaded, and start a warm process for the next run, unless one serves
    already (it took no command: it was busy or the run went the usual way for another reason)."""
    import subprocess

    if served(state):
        return

    loaded = [name for name, module in list(sys.modules.items()) if module is not None and name != "__main__"]
    try:
        (state / MODULES).write_text(json.dumps(loaded))
        subprocess.Popen(  # -P: nothing importable from the directory it was started in
            [sys.executable, "-P", "-m", "orchestra.cli.warm", str(state)],
            cwd=state,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        pass  # the next run goes the usual way
