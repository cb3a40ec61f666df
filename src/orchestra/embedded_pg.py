"""Embedded PostgreSQL 16 (with pgvector) from the ``pgserver`` wheel, kept under the data directory.

Several Orchestra processes on one data directory share one server; it stops when the last one exits.

The server listens on a Unix socket only (no TCP port). ``pgserver`` initialises it with ``trust``
authentication, which would let any local user who reaches the socket connect as the superuser; so the
first start replaces ``pg_hba.conf`` with password authentication (scram-sha-256) for every connection,
and sets the superuser's password, kept in ``<data-dir>/pg/orchestra-password`` (mode 0600, inside the
server's own 0700 directory). The application role's password is derived from it. A data directory from
an earlier release is converted the same way at its next start.

A warm start (the directory initialised and secured already, the usual case of every command after the
first) does not go through ``pgserver``: it starts ``postgres`` itself and polls for readiness every few
milliseconds (``pg_ctl -w`` polls every 100 ms, and ``pgserver`` serialises every server of the machine
behind one lock file), and stops it with a fast shutdown (a checkpoint, nothing lost) the same way. It
keeps ``pgserver``'s bookkeeping (``postmaster.pid``, the processes sharing the server in
``.handle_pids.json``), under this data directory's own lock.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import hmac
import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import structlog

log = structlog.get_logger(__name__)

PASSWORD_FILE = "orchestra-password"
HBA = """# Written by Orchestra (embedded_pg.py): every connection needs a password; none is trusted.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""
_TRUST = re.compile(r"^\s*(local|host\w*)\s.*\btrust\b", re.M)
_PASSWORD = re.compile(r"^[A-Za-z0-9_-]{32,}$")
LOCK_FILE = ".pg-auth.lock"  # beside the server's directory: one process at a time starts, joins or stops it
HANDLES_FILE = ".handle_pids.json"  # pgserver's: the processes sharing the server, the last one stops it
SYSTEM_USER = "pgserver"  # as root, pgserver runs the server as this OS user (PostgreSQL refuses root)
_POLL_S = 0.005
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 60.0
_MAX_SOCKET_PATH = 100  # bytes of a Unix socket path (the limit is 107 on Linux, 103 on macOS)


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be reached safely (its password file is missing or unreadable)."""


def _import_pgserver() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless for a local lock file.
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


def _bin_dir() -> Path:
    """pgserver's PostgreSQL binaries, found without importing it."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the pgserver package (the embedded PostgreSQL) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def alive(pid: int) -> bool:
    """The process runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): the signal's answer
    return stat[stat.rfind(")") + 2 :][:1] not in ("Z", "X")


def _postmaster(pgdata: Path) -> tuple[int, str, str] | None:
    """(pid, socket directory, status) from ``postmaster.pid`` while its process lives; None otherwise."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if len(lines) < 8 or not lines[0].strip().isdigit():
        return None  # being written: read again
    pid = int(lines[0])
    return (pid, lines[4].strip(), lines[7].strip()) if alive(pid) and _is_postgres(pid) else None


def _is_postgres(pid: int) -> bool:
    """Whether ``pid`` is a PostgreSQL process: after an unclean stop the lock file may name a process id
    that another program has since been given."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS), or gone: the signal's answer stands
    return b"postgres" in command


class _Handles:
    """The processes that share the server (pgserver's ``.handle_pids.json``), read and written under the
    data directory's lock; processes that died without letting go are dropped."""

    def __init__(self, pgdata: Path) -> None:
        self.path = pgdata / HANDLES_FILE

    def _read(self) -> list[int]:
        try:
            pids = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return []
        return [pid for pid in pids if isinstance(pid, int) and alive(pid)]

    def add(self, *joining: int) -> None:
        pids = self._read()
        pids += [pid for pid in joining if pid not in pids]
        self.path.write_text(json.dumps(pids))

    def remove(self, pid: int) -> list[int]:
        """Let go of ``pid``; returns the processes still sharing the server."""
        pids = [other for other in self._read() if other != pid]
        self.path.write_text(json.dumps(pids))
        return pids


class _WarmServer:
    """A server on an initialised and secured data directory, started and stopped without pgserver."""

    def __init__(self, pgdata: Path, lock_path: Path) -> None:
        self.pgdata = pgdata
        self.lock_path = lock_path
        self.socket_dir = ""
        self._handles = _Handles(pgdata)
        self._joined = False
        self._process: subprocess.Popen[bytes] | None = None  # the server, when this process started it

    @staticmethod
    def possible(pgdata: Path) -> bool:
        """Initialised, trusting nobody, with its password file and a socket path short enough: anything
        else goes through pgserver (first start, conversion of an old directory, a long path)."""
        if os.name != "posix" or not (pgdata / "PG_VERSION").exists():
            return False
        if len(os.fsencode(pgdata / ".s.PGSQL.5432")) > _MAX_SOCKET_PATH:
            return False
        try:
            hba = (pgdata / "pg_hba.conf").read_text()
        except OSError:
            return False
        return not _TRUST.search(hba) and (pgdata / PASSWORD_FILE).exists()

    def start(self) -> str:
        """Join the running server or start it; returns its URI (pgserver's form)."""
        running = self._ready()
        if _keeper is None:
            self._handles.add(os.getpid())
        else:
            keeper, record = _keeper
            self._handles.add(os.getpid(), keeper)
            if str(self.pgdata) not in read_lines(record):
                with record.open("a") as kept:  # one short line: appended whole
                    kept.write(f"{self.pgdata}\n")
        self._joined = True
        atexit.register(self.stop)
        self.socket_dir = running[1]
        return f"postgresql://postgres:@/postgres?host={self.socket_dir}"

    def _launch(self) -> subprocess.Popen[bytes]:
        root = os.geteuid() == 0
        with (self.pgdata / "log").open("ab") as log_handle:
            return subprocess.Popen(
                [str(_bin_dir() / "postgres"), "-D", str(self.pgdata), "-h", "", "-k", str(self.pgdata)],
                stdin=subprocess.DEVNULL,
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this process: the last process sharing it stops it
                cwd=self.pgdata,
                user=SYSTEM_USER if root else None,
            )

    def _ready(self) -> tuple[int, str, str]:
        """The running server once it accepts connections, started here when none runs."""
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            running = _postmaster(self.pgdata)
            if running is not None and running[2] == "ready":
                return running
            if running is None:
                if self._process is None:
                    self._process = self._launch()
                elif self._process.poll() is not None:
                    raise EmbeddedPostgresError(
                        f"the embedded PostgreSQL under {self.pgdata} did not start (exit "
                        f"{self._process.returncode}); its log: {self.pgdata / 'log'}"
                    )
            time.sleep(_POLL_S)
        raise EmbeddedPostgresError(
            f"the embedded PostgreSQL under {self.pgdata} was not ready within {_START_TIMEOUT_S:.0f} s; "
            f"its log: {self.pgdata / 'log'}"
        )

    def stop(self) -> None:
        """Let go of the server; the last process sharing it stops it (fast shutdown: a checkpoint, the
        sessions ended) and waits until it has exited."""
        if not self._joined:
            return
        self._joined = False
        atexit.unregister(self.stop)
        _let_go(self.pgdata, self.lock_path, os.getpid(), self._process)


def _let_go(pgdata: Path, lock_path: Path, pid: int, process: subprocess.Popen[bytes] | None = None) -> None:
    """``pid`` no longer shares the server; the last process sharing it stops it (fast shutdown: a
    checkpoint, the sessions ended) and waits until it has exited. ``process``: the server, when it is a
    child of this process (reaped here)."""
    with _locked(lock_path):
        if _Handles(pgdata).remove(pid):
            return
        running = _postmaster(pgdata)
        if running is None:
            if process is not None:
                process.poll()  # reaped, when it was this process's child and died
            return
        server = running[0]
        try:
            os.kill(server, signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        # the file goes when the server has shut down, just before its process exits
        while _postmaster(pgdata) is not None or alive(server):
            if time.monotonic() > deadline:
                log.warning("embedded_postgres.slow_stop", pgdata=str(pgdata))
                return
            if process is not None:
                process.poll()  # reaped once it exits (it is this process's child)
            time.sleep(_POLL_S)
        if process is not None:
            process.wait()


_keeper: tuple[int, Path] | None = None  # see keep_servers_for


def read_lines(path: Path) -> list[str]:
    """The lines of a small file; none when it cannot be read (or is not there)."""
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def keep_servers_for(pid: int, record: Path) -> None:
    """The servers this process joins from now on are shared by process ``pid`` too (a warm command
    process, cli/warm.py, whose fork this is): they keep running between its commands. Each is named in
    ``record``, a line per join, for ``pid`` to let go of (``let_go``) when it leaves."""
    global _keeper
    _keeper = (pid, record)


def let_go(pgdata: Path, pid: int) -> None:
    """Process ``pid`` no longer shares the server of ``pgdata`` (kept for it by ``keep_servers_for``):
    stopped when no other process shares it."""
    pgdata = pgdata.resolve()
    if _WarmServer.possible(pgdata):
        _let_go(pgdata, pgdata.parent / LOCK_FILE, pid)


class _InBackground:
    """A start begun in a thread of its own, its outcome (the URL, or what it raised) kept for ``result``."""

    def __init__(self, start: Callable[[], str]) -> None:
        self._start = start
        self._url: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="embedded-postgres-start", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._url = self._start()
        except BaseException as error:  # handed to the thread that asks for the result
            self._error = error

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._url is not None
        return self._url


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self._server: Any = None
        self._password: str | None = None
        self._starting: _InBackground | None = None

    @property
    def password_file(self) -> Path:
        return self.pgdata / PASSWORD_FILE

    @property
    def app_password(self) -> str:
        """The application role's password on this server (derived from the superuser's)."""
        if self._password is None:
            raise EmbeddedPostgresError("the embedded server is not started")
        return hmac.new(self._password.encode(), b"orchestra_app", hashlib.sha256).hexdigest()

    def start_in_background(self) -> None:
        """Begin a warm start in a thread: a command starts the server while it loads the rest of its code
        (the thread mostly sleeps between looks at ``postmaster.pid``), and ``start`` then waits for it. A
        first start or a conversion (through pgserver) is left to ``start``, in the caller's thread."""
        if self._starting is None and self._server is None and _WarmServer.possible(self.pgdata):
            self._starting = _InBackground(self._start)

    def start(self) -> str:
        """Start (or join) the server, make sure it trusts no connection, and return an asyncpg SQLAlchemy
        URL for it as its superuser (the background start's, when one was begun: its error is raised here)."""
        if self._starting is not None:
            starting, self._starting = self._starting, None
            return starting.result()
        return self._start()

    def _start(self) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        log.info("embedded_postgres.starting", pgdata=str(self.pgdata))
        with _locked(self._lock_path):  # processes starting together: one at a time
            if _WarmServer.possible(self.pgdata):
                self._password = self._read_password()  # before starting: a damaged file stops nothing
                warm = _WarmServer(self.pgdata, self._lock_path)
                uri = warm.start()
                self._server = warm
                return to_asyncpg_url(uri, self._password)
            self._server = _import_pgserver().get_server(self.pgdata, cleanup_mode="stop")
            self._password = self._secure()
        return to_asyncpg_url(self._server.get_uri(), self._password)

    @property
    def _lock_path(self) -> Path:
        return self.pgdata.parent / LOCK_FILE

    def _secure(self) -> str:
        """The superuser's password; on a server that still trusts connections, set it first and then
        require it (and every role's) from every connection."""
        hba = self.pgdata / "pg_hba.conf"
        if not _TRUST.search(hba.read_text()):
            return self._read_password()
        password = self._read_password() if self.password_file.exists() else self._new_password()
        # Still trusted: set the password, then require it. pg_hba.conf is rewritten in place, keeping the
        # owner that the server runs as; the reload applies it to every later connection.
        self._server.psql(f"ALTER ROLE postgres PASSWORD '{password}';")
        hba.write_text(HBA)
        self._server.psql("SELECT pg_reload_conf();")
        log.info("embedded_postgres.password_required", password_file=str(self.password_file))
        return password

    def _new_password(self) -> str:
        password = secrets.token_urlsafe(32)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, password.encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return password

    def _read_password(self) -> str:
        try:
            password = self.password_file.read_text().strip()
        except OSError as error:
            raise EmbeddedPostgresError(
                f"the embedded database under {self.pgdata} requires a password and its file "
                f"{self.password_file} cannot be read ({error.strerror}): restore the file, or start with "
                "a new data directory"
            ) from None
        if not _PASSWORD.match(password):
            raise EmbeddedPostgresError(f"the password file {self.password_file} is damaged: restore it")
        return password

    def stop(self) -> None:
        """Let go of the server (the last process sharing it stops it); a background start still going is
        waited for first, whatever it came to."""
        if self._starting is not None:
            starting, self._starting = self._starting, None
            with suppress(Exception):
                starting.result()
        if isinstance(self._server, _WarmServer):
            self._server.stop()  # takes the lock itself
        elif self._server is not None:
            with _locked(self._lock_path):  # the same bookkeeping as a warm start's: one at a time
                self._server.cleanup()
        self._server = None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def to_asyncpg_url(uri: str, password: str | None = None) -> str:
    """``postgresql://user:@/db?host=/socket`` (pgserver's form) → ``postgresql+asyncpg://user@/db?host=…``,
    with ``password`` when given."""
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    user = parts.username or "postgres"
    database = parts.path.lstrip("/") or "postgres"
    host = query.get("host", [""])[0]
    password = password or parts.password
    netloc = (
        f"{user}:{quote(password, safe='')}@{parts.hostname or ''}"
        if password
        else f"{user}@{parts.hostname or ''}"
    )
    if parts.port:
        netloc += f":{parts.port}"
    url = f"postgresql+asyncpg://{netloc}/{database}"
    return f"{url}?host={host}" if host else url


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgresql://`` / ``postgres://`` forms and select the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('://')[0]}://…")
