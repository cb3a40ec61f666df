"""Structured logs (structlog): one event name per line, to stderr, console or JSON.

A line written inside a traced run's span carries its ``trace_id`` and ``span_id`` (kit/tracing.py). Every
line passes through ``mask_secrets`` last before rendering: while runs are in flight, whatever a line
quotes (an exception text, a URL, a reason) loses the environment secrets of those runs.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger

from orchestra.kit.masking import ACTIVE_SECRETS
from orchestra.kit.tracing import add_trace_ids

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def mask_secrets(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    if not ACTIVE_SECRETS:
        return event
    masked: EventDict = ACTIVE_SECRETS.mask(dict(event))
    return masked


class _CurrentStderr:
    """stderr as it is at each write: whoever swaps ``sys.stderr`` later (a command runner capturing output,
    then closing its stream) does not leave the logger writing to a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "info", json_lines: bool = False, stream: TextIO | None = None) -> None:
    """``stream``: where lines go (default: stderr, as it is when a line is written)."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            add_trace_ids,
            mask_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level.lower(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=stream or _CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
