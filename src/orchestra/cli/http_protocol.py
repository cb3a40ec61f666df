"""uvicorn's HTTP/1.1 protocol (h11) with Orchestra's header limit and clear answers to malformed requests.

A request head (request line and headers together) may be at most ``MAX_HEADER_BYTES``: h11 stops
buffering an incomplete head there, so a 100 KB header, or thousands of small ones, cannot make the server
hold more per connection, and a complete head that arrived in one piece is measured once parsed (h11 alone
lets it through). uvicorn answers any request h11 refuses with a bare "Invalid HTTP request received."
(400, text/plain); here the answer is a problem+json saying what was wrong, with the status h11 suggests:
431 for a head over the limit, 400 otherwise (a malformed request line or header, bytes outside ASCII in the
target). The connection is closed afterwards, as uvicorn always does; the server keeps serving others.
"""

from __future__ import annotations

import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEADER_BYTES = 32 * 1024


class OrchestraH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refusal: h11.RemoteProtocolError | None = None
        self._max_head_bytes = self.config.h11_max_incomplete_event_size or MAX_HEADER_BYTES
        next_event = self.conn.next_event

        def checked_next_event() -> Any:
            try:
                event = next_event()
                if isinstance(event, h11.Request) and _head_bytes(event) > self._max_head_bytes:
                    raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
                return event
            except h11.RemoteProtocolError as error:  # uvicorn only reports that h11 refused, not why
                self._refusal = error
                raise

        self.conn.next_event = checked_next_event  # type: ignore[method-assign]

    def send_400_response(self, msg: str) -> None:
        refusal = self._refusal
        status = refusal.error_status_hint if refusal is not None else 400
        if status == 431:
            title = "Request header fields too large"
            detail = f"the request line and headers together are larger than {self._max_head_bytes} bytes"
        else:
            status, title = 400, "Bad request"
            detail = f"malformed HTTP request: {refusal}" if refusal is not None else msg
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": detail}
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        self.transport.write(
            self.conn.send(h11.Response(status_code=status, headers=headers, reason=title)) or b""
        )
        self.transport.write(self.conn.send(h11.Data(data=body)) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()


def _head_bytes(request: h11.Request) -> int:
    """Size of the request line and headers as sent (give or take optional whitespace)."""
    line = len(request.method) + len(request.target) + len(b"  HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers) + 2
