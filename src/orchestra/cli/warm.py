"""The warm process: `orchestra run`'s code loaded once, each command run in a fork of it.

Started by the executable's launcher (``orchestra_launcher``, which says why) after a run done in its own
process, as ``python -m orchestra.cli.warm STATE_DIR``. It loads the modules that run loaded, then serves
the socket of the state directory: each connection (only from this user: the peer's credentials are
checked) hands it a command — arguments, working directory, environment, standard streams — and it forks;
the fork takes the caller's streams, directory and environment and runs the command as the executable
would, and the warm process answers the caller with the fork's pid (``started PID``) and, when the fork has
ended, its exit code (``exited CODE``, negative for a signal).

It leaves, stopping the embedded PostgreSQL servers it kept for its forks when nothing else uses them:
after ``ORCHESTRA_WARM_IDLE_S`` seconds without a command (default 900), at SIGTERM or SIGINT
(``orchestra warm stop``), or when a module it loaded has changed on disk (that command is answered
``stale``, and the caller runs it itself). One warm process serves a state directory: it holds the
directory's lock.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestra_launcher import HEADER, MAX_REQUEST, MODULES, SERVERS, SOCKET, STATUS, take_lock

DEFAULT_IDLE_S = 900.0
_REQUEST_TIMEOUT_S = 2.0  # a launcher sends its request at once; the warm process serves one at a time
_PEERCRED = struct.Struct("3i")  # pid, uid, gid


class RefusedRequest(ValueError):
    """A connection that does not carry a command of this user's launcher."""


@dataclass
class Command:
    argv: list[str]
    cwd: str
    env: dict[str, str]
    stdio: list[tuple[str, str]]
    streams: list[int]  # the caller's stdin, stdout and stderr, received with the request


@dataclass
class WarmProcess:
    state: Path
    lock: int  # the state directory's lock, held while this process serves it
    idle_s: float = DEFAULT_IDLE_S
    loaded: dict[str, int] = field(default_factory=dict)  # module file -> its mtime when it was loaded
    running: dict[int, socket.socket] = field(default_factory=dict)  # fork pid -> its caller
    command_line: Any = None  # the executable's command line, made once (typer builds it at every call)
    served: int = 0
    stopping: bool = False

    def load(self) -> None:
        """Import what the last run loaded (``orchestra`` first: it sets how its libraries load), and
        remember every loaded module's file to notice a change of the code."""
        names = ["orchestra", "orchestra.cli.main"]
        with contextlib.suppress(OSError, ValueError):
            names += [
                name for name in json.loads((self.state / MODULES).read_text()) if isinstance(name, str)
            ]
        gc.disable()
        for name in names:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
        if "sqlalchemy.orm" in sys.modules:  # the mappers are configured at their first use: done once here
            with contextlib.suppress(Exception):
                sys.modules["sqlalchemy.orm"].configure_mappers()
        import typer.main

        from orchestra.cli import main as cli

        self.command_line = typer.main.get_command(cli.app)
        gc.freeze()  # what was loaded lives as long as the process (and every fork): never walked again
        gc.enable()
        self.loaded = _module_files()

    def stale(self) -> bool:
        return any(_mtime(path) != mtime for path, mtime in self.loaded.items())

    def serve(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = self.state / SOCKET
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by a warm process that died: this one holds the lock now
        listener.bind(str(path))
        path.chmod(0o600)
        listener.listen(16)
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        idle_since = time.monotonic()
        self._write_status()
        try:
            while True:
                ready, _, _ = select.select([listener.fileno(), wake_read], [], [], 1.0)
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_read, 4096)
                self._reap()
                if self.running:
                    idle_since = time.monotonic()
                if self.stopping or (not self.running and time.monotonic() - idle_since > self.idle_s):
                    break
                if listener.fileno() in ready:
                    self._accept(listener, wake_read, wake_write)
                    idle_since = time.monotonic()
                    if self.stopping:
                        break
        finally:
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            os.close(self.lock)  # a new warm process may serve the directory while the last forks end
            self._finish()

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def _accept(self, listener: socket.socket, *wake: int) -> None:
        """Take one command: run it in a fork, or answer why not (``stale``: the caller runs it)."""
        caller, _ = listener.accept()
        try:
            command = receive(caller)
        except (OSError, RefusedRequest, ValueError) as error:
            _log(f"refused a connection: {error}")
            caller.close()
            return
        try:
            if self.stale():
                _log("a module changed on disk: leaving")
                caller.sendall(b"stale\n")
                caller.close()
                self.stopping = True
                return
            if threading.active_count() > 1:  # a fork of a threaded process may inherit a held lock
                caller.sendall(b"busy\n")
                caller.close()
                return
            pid = os.fork()
            if pid == 0:
                inherited = [listener.fileno(), *wake, *(other.fileno() for other in self.running.values())]
                _run_in_fork(
                    command, caller, [*inherited, self.lock], self.state / SERVERS, self.command_line
                )
            self.running[pid] = caller
            self.served += 1
            caller.sendall(f"started {pid}\n".encode())
            self._write_status()
        except OSError as error:
            _log(f"could not start a command: {error}")
            caller.close()
        finally:
            for stream in command.streams:
                os.close(stream)

    def _reap(self) -> None:
        while self.running:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._answer(pid, status)

    def _answer(self, pid: int, status: int) -> None:
        """The fork ``pid`` ended: its caller is told how (``exited CODE``, negative for a signal)."""
        caller = self.running.pop(pid, None)
        if caller is not None:
            with contextlib.suppress(OSError):
                caller.sendall(f"exited {os.waitstatus_to_exitcode(status)}\n".encode())
            caller.close()

    def _finish(self) -> None:
        """Wait for the forks still running, then let go of the servers kept for them."""
        while self.running:
            self._answer(*os.waitpid(-1, 0))
        from orchestra.embedded_pg import let_go, read_lines

        for pgdata in read_lines(self.state / SERVERS):  # each named once (embedded_pg.keep_servers_for)
            try:
                let_go(Path(pgdata), os.getpid())
            except Exception as error:  # one server's trouble does not keep the others running
                _log(f"could not let go of the server under {pgdata}: {error}")
        for done in (SERVERS, STATUS):
            with contextlib.suppress(OSError):
                (self.state / done).unlink()

    def _write_status(self) -> None:
        status = {
            "pid": os.getpid(),
            "served": self.served,
            "idle_s": self.idle_s,
            "modules": len(self.loaded),
        }
        with contextlib.suppress(OSError):
            (self.state / STATUS).write_text(json.dumps(status))


def receive(caller: socket.socket) -> Command:
    """Read a command from a connection: only this user's, a length-prefixed JSON request with the three
    standard streams attached."""
    caller.settimeout(_REQUEST_TIMEOUT_S)
    pid, uid, _gid = _PEERCRED.unpack(
        caller.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    )
    if uid != os.getuid():
        raise RefusedRequest(f"connection from another user (uid {uid}, pid {pid})")
    head, streams, _flags, _address = socket.recv_fds(caller, HEADER.size, 3)
    try:
        if len(head) != HEADER.size or len(streams) != 3:
            raise RefusedRequest("no request header with three streams")
        (length,) = HEADER.unpack(head)
        if length > MAX_REQUEST:
            raise RefusedRequest(f"request of {length} bytes (at most {MAX_REQUEST})")
        body = bytearray()
        while len(body) < length:
            chunk = caller.recv(min(65536, length - len(body)))
            if not chunk:
                raise RefusedRequest("request cut short")
            body += chunk
        command = _command(json.loads(body), streams)
    except BaseException:
        for stream in streams:
            os.close(stream)
        raise
    caller.settimeout(None)
    return command


def _command(request: Any, streams: list[int]) -> Command:
    """The command a request names, every part checked (a launcher sends lists and maps of strings)."""
    try:
        argv, cwd, env, stdio = request["argv"], request["cwd"], request["env"], request["stdio"]
        if not (
            isinstance(argv, list)
            and all(isinstance(arg, str) for arg in argv)
            and isinstance(cwd, str)
            and isinstance(env, dict)
            and all(isinstance(value, str) for value in env.values())
            and isinstance(stdio, list)
            and len(stdio) == 3
        ):
            raise TypeError("not lists and maps of strings")
        encodings = [(str(encoding), str(errors)) for encoding, errors in stdio]
    except (KeyError, TypeError, ValueError) as error:
        raise RefusedRequest(f"not a command ({error})") from None
    return Command(argv=argv, cwd=cwd, env=env, stdio=encodings, streams=streams)


def _run_in_fork(
    command: Command, caller: socket.socket, inherited: list[int], servers: Path, command_line: Any
) -> None:
    """In the fork: let go of the warm process's own descriptors (``inherited``), become the caller's
    command, run it, and exit with its code (never returns)."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in inherited:
            os.close(fd)
        for target, received in enumerate(command.streams):
            os.dup2(received, target)
            os.close(received)
        os.chdir(command.cwd)
        os.environ.clear()
        os.environ.update(command.env)
        sys.stdin, sys.stdout, sys.stderr = (_text_stream(fd, *command.stdio[fd]) for fd in (0, 1, 2))
        sys.argv = ["orchestra", *command.argv]
        _interrupt_when_gone(caller)
        code = _run_command(servers, command_line)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        for text in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                text.flush()
        os._exit(code)


def _run_command(servers: Path, command_line: Any) -> int:
    """The command of ``sys.argv``, as the executable runs it (``command_line``: its click command, made
    from the typer app); the embedded servers it joins are shared with the warm process (named in
    ``servers`` for it to let go of when it leaves)."""
    from orchestra.cli import main as cli
    from orchestra.embedded_pg import keep_servers_for

    keep_servers_for(os.getppid(), servers)
    cli.use_streams()
    try:
        command_line(prog_name="orchestra")
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        sys.stderr.write(f"{done.code}\n")
        return 1
    return 0


def _interrupt_when_gone(caller: socket.socket) -> None:
    """If the caller goes (killed: it never closes the connection before the fork has ended), the command
    is interrupted as by Ctrl-C, and cleans up as it would then."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while caller.recv(1):
                pass
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="warm-caller", daemon=True).start()


def _text_stream(fd: int, encoding: str, errors: str) -> io.TextIOWrapper:
    interactive = os.isatty(fd)
    raw: Any = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
    buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
    return io.TextIOWrapper(
        buffered, encoding=encoding or None, errors=errors or None, line_buffering=interactive or fd == 2
    )


def _module_files() -> dict[str, int]:
    files: dict[str, int] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path not in files:
            mtime = _mtime(path)
            if mtime is not None:
                files[path] = mtime
    return files


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} warm process {os.getpid()}: {message}\n")


def idle_seconds(environ: dict[str, str] | os._Environ[str]) -> float:
    try:
        value = float(environ.get("ORCHESTRA_WARM_IDLE_S", DEFAULT_IDLE_S))
    except ValueError:
        return DEFAULT_IDLE_S
    return value if value > 0 else DEFAULT_IDLE_S


def main(state: Path) -> None:
    lock = take_lock(state)
    if lock is None:
        return  # one serves this directory already
    log = os.open(state / "log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 2)
    os.close(log)
    sys.stderr = _text_stream(2, "utf-8", "backslashreplace")
    warm = WarmProcess(state, lock, idle_seconds(os.environ))
    warm.load()
    _log(f"serving with {len(warm.loaded)} modules loaded")
    warm.serve()
    _log(f"leaving after {warm.served} commands")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
