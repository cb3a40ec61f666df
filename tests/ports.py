"""Ports for tests that share the machine with a running Orchestra (8000, 8002, the demo SUT) and with other
test sessions: never a fixed port, and "unreachable" made so by construction.

- ``reserve_port()``: a socket bound to a free loopback port but not listening. Connections to it are
  refused, and no other process can serve on the port while the socket is open; serving on the socket
  (uvicorn's ``serve(sockets=[...])``, asyncio's ``start_server(sock=...)``) makes it reachable.
- ``refused_url()``: such a port, held by this process for its whole life: where an "unreachable"
  ai-service, API or SUT is configured.
- ``free_port()``: a port that was free a moment ago, for a child process that takes ``--port N``; the
  child must refuse a taken port (Orchestra's commands do) and the test must check that it is the child
  that answers.
"""

from __future__ import annotations

import functools
import socket

LOOPBACK = "127.0.0.1"


def reserve_port() -> socket.socket:
    """A TCP socket bound to a free port of 127.0.0.1, not listening (so connections are refused)."""
    reserved = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    reserved.bind((LOOPBACK, 0))  # without SO_REUSEADDR: nobody else may bind the port meanwhile
    return reserved


def port_of(reserved: socket.socket) -> int:
    port: int = reserved.getsockname()[1]
    return port


@functools.cache
def _refused_socket() -> socket.socket:
    return reserve_port()


def refused_url() -> str:
    """``http://127.0.0.1:<port>`` where every connection is refused, for as long as this process lives."""
    return f"http://{LOOPBACK}:{port_of(_refused_socket())}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return port_of(probe)
