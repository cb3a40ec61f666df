"""OpenTelemetry traces of runs, off unless ``ORCHESTRA_OTLP_ENDPOINT`` is set (docs/operations.md).

A run is a trace whose id is the run's id (its 128 bits, as 32 hex digits), so every attempt of a run — an
executor that resumes it after another died — adds to the same trace, and the trace is found from the run
id alone. Each attempt is a ``run`` span; each step (and each data or clean-up call) a span below it; the
request to the SUT carries ``traceparent`` naming the step's span, so a failing test can be followed into
the SUT's own traces. Spans go to an OTLP/HTTP collector in batches, off the run's path.

The tracer provider is this module's own, not OpenTelemetry's global one: nothing here changes what other
libraries of the process trace, and turning tracing off again (tests) leaves no trace of it. With tracing
off, OpenTelemetry is not even imported (a short command's start-up does not pay for it).
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from structlog.typing import EventDict, WrappedLogger

if TYPE_CHECKING:  # imported only when traces are turned on (it costs start-up time)
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

TRACES_PATH = "/v1/traces"
_FAILED = {"failed", "error", "timed_out"}

_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None
_trace_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("orchestra_trace_id", default=None)


def _run_trace_id() -> int | None:
    """The trace id a root span started now must have: the run's, inside ``run_span``."""
    return _trace_id.get()


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector's base URL (``http://collector:4318``) or of the full URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def configure(endpoint: str | None, service_name: str, exporter: SpanExporter | None = None) -> None:
    """Start sending this process's spans to ``endpoint`` (nothing when None). ``exporter``: in place of
    the OTLP one (tests)."""
    global _provider, _tracer
    shutdown()
    if endpoint is None and exporter is None:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class RunTraceIds(RandomIdGenerator):
        """A new root span's trace id is the run's when one is being started (``run_span``), else random."""

        def generate_trace_id(self) -> int:
            return _run_trace_id() or super().generate_trace_id()

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=traces_url(endpoint or ""), timeout=10)
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}), id_generator=RunTraceIds()
    )
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
    _provider, _tracer = provider, provider.get_tracer("orchestra")


def shutdown() -> None:
    """Send what is buffered and stop tracing."""
    global _provider, _tracer
    provider, _provider, _tracer = _provider, None, None
    if provider is not None:
        provider.shutdown()


def enabled() -> bool:
    return _tracer is not None


@contextmanager
def run_span(run_id: uuid.UUID, name: str, attributes: dict[str, Any]) -> Iterator[Span | None]:
    """One attempt of a run: a root span in the trace whose id is the run's."""
    if _tracer is None:
        yield None
        return
    from opentelemetry import trace

    token = _trace_id.set(run_id.int)
    try:  # a root span (no parent), so the id generator gives it the run's trace id
        span = _tracer.start_span(
            f"run {name}", context=trace.set_span_in_context(trace.INVALID_SPAN), attributes=attributes
        )
    finally:
        _trace_id.reset(token)
    with trace.use_span(span, end_on_exit=True):
        yield span


@contextmanager
def step_span(name: str, attributes: dict[str, Any]) -> Iterator[Span | None]:
    """A step (or a data or clean-up call) of the current run's span."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(name, attributes=attributes) as span:
        yield span


def end(span: Span | None, kind: str, status: str, error: str | None) -> None:
    """A run's or a step's outcome on its span (``orchestra.<kind>.status``): failed, errored and timed out
    ones mark the span as an error, with their (masked) reason."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute(f"orchestra.{kind}.status", status)
    if status.lower() in _FAILED:
        span.set_status(Status(StatusCode.ERROR, (error or status)[:500]))


def inject(headers: MutableMapping[str, str]) -> None:
    """``traceparent`` of the current span into a request's headers, when tracing is on."""
    if _tracer is not None:
        from opentelemetry import propagate

        propagate.inject(headers)


def trace_id_of(run_id: uuid.UUID) -> str:
    """The trace id of a run, as tracing back ends show it."""
    return f"{run_id.int:032x}"


def add_trace_ids(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """A structlog processor: ``trace_id`` and ``span_id`` of the span in progress (a run's step), so a
    log line leads to its trace (none while tracing is off: no span of ours is in progress)."""
    if _tracer is None:
        return event
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", f"{context.trace_id:032x}")
        event.setdefault("span_id", f"{context.span_id:016x}")
    return event
