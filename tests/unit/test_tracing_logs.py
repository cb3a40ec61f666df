"""Log lines written inside a traced run carry its trace and span ids (kit/tracing.py ``add_trace_ids``),
so a JSON log line leads to its trace; outside one, and with traces off, they carry none."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from orchestra.kit import tracing
from orchestra.kit.logging import configure as configure_logging


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure(None, "orchestra-executor", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown()


def log_lines(write: object) -> list[dict[str, object]]:
    stream = io.StringIO()
    configure_logging("info", json_lines=True, stream=stream)
    try:
        assert callable(write)
        write(structlog.get_logger("test"))
    finally:
        configure_logging("info")
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_inside_a_step_names_the_runs_trace_and_the_steps_span(exported: InMemorySpanExporter) -> None:
    run_id = uuid.uuid4()

    def write(log: structlog.typing.FilteringBoundLogger) -> None:
        log.info("before.run")
        with tracing.run_span(run_id, "orders", {}), tracing.step_span("step pay", {}):
            log.info("step.sent", run_id=str(run_id))

    before, inside = log_lines(write)
    assert "trace_id" not in before
    assert inside["trace_id"] == run_id.hex == tracing.trace_id_of(run_id)
    tracing.shutdown()  # sends the spans
    [step, _run] = exported.get_finished_spans()
    assert step.name == "step pay"
    assert inside["span_id"] == f"{step.context.span_id:016x}"


def test_with_traces_off_lines_carry_no_trace_id() -> None:
    assert not tracing.enabled()

    def write(log: structlog.typing.FilteringBoundLogger) -> None:
        with tracing.run_span(uuid.uuid4(), "orders", {}), tracing.step_span("step pay", {}):
            log.info("step.sent")

    [line] = log_lines(write)
    assert "trace_id" not in line
    assert "span_id" not in line
