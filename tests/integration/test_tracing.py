"""Traces of runs (kit/tracing.py), sent with the real OTLP/HTTP exporter to a local receiver that decodes
what a collector would: a run is a trace whose id is the run's, each step a span below the run's span, a
failed step an error span, and the request to the SUT carries the step span's ``traceparent``. Off by
default: then nothing is sent and no ``traceparent`` either."""

from __future__ import annotations

import http.server
import io
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from orchestra.kit import tracing
from orchestra.kit.logging import configure as configure_logging
from tests.integration.conftest import Harness


class _Collector(http.server.BaseHTTPRequestHandler):
    """OTLP/HTTP's traces endpoint: a protobuf ExportTraceServiceRequest per POST."""

    received: list[ExportTraceServiceRequest]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path != "/v1/traces" or self.headers["Content-Type"] != "application/x-protobuf":
            self.send_response(404)
        else:
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            self.received.append(request)
            self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def collector() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    received: list[ExportTraceServiceRequest] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        tracing.shutdown()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def spans(received: list[ExportTraceServiceRequest]) -> list[Span]:
    return [
        span
        for request in received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def attributes(item: Any) -> dict[str, Any]:
    """The attributes of a span or a resource, as plain values."""
    values: dict[str, Any] = {}
    for attribute in item.attributes:
        kind = attribute.value.WhichOneof("value")
        values[attribute.key] = getattr(attribute.value, kind) if kind else None
    return values


CASE = {
    "name": "traced",
    "steps": [
        {"name": "echo", "request": {"method": "POST", "url": "{{ env.base_url }}/echo"}},
        {"name": "wrong status", "request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 418}},
    ],
}


async def test_a_run_is_a_trace_with_the_run_id_and_a_span_per_step(
    harness: Harness, collector: tuple[str, list[ExportTraceServiceRequest]]
) -> None:
    endpoint, received = collector
    tracing.configure(endpoint, "orchestra-executor")
    logs = io.StringIO()
    configure_logging("info", json_lines=True, stream=logs)
    try:
        run = await harness.run(CASE)
    finally:
        configure_logging("info")
    tracing.shutdown()  # sends what is buffered

    run_id = uuid.UUID(run["id"])
    sent = spans(received)
    assert {span.trace_id for span in sent} == {run_id.bytes}
    assert tracing.trace_id_of(run_id) == run_id.hex
    [root] = [span for span in sent if span.name == "run traced"]
    assert root.parent_span_id == b""
    assert attributes(root) == {
        "orchestra.run.id": str(run_id),
        "orchestra.run.attempt": 1,
        "orchestra.test_case": "traced",
        "orchestra.environment": "sut",
        "orchestra.run.status": "FAILED",
    }
    assert root.status.code == Status.STATUS_CODE_ERROR
    assert "wrong status" in root.status.message
    steps = {span.name: span for span in sent if span.name.startswith("step ")}
    assert set(steps) == {"step echo", "step wrong status"}
    assert all(span.parent_span_id == root.span_id for span in steps.values())
    assert attributes(steps["step echo"])["orchestra.step.status"] == "passed"
    assert steps["step echo"].status.code == Status.STATUS_CODE_UNSET
    assert steps["step wrong status"].status.code == Status.STATUS_CODE_ERROR
    services = {str(attributes(r.resource)["service.name"]) for q in received for r in q.resource_spans}
    assert services == {"orchestra-executor"}

    # the executor's log lines of the run lead to its trace
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    [ended] = [line for line in lines if line["event"] == "run.finished" and line["run_id"] == str(run_id)]
    assert ended["trace_id"] == run_id.hex
    assert ended["tenant_id"]

    # the SUT was told which span called it: the trace is followed into the SUT's own
    echoed = json.loads(run["steps"][0]["response"]["body"])["headers"]
    version, trace_id, parent_id, flags = echoed["traceparent"].split("-")
    assert (version, trace_id, parent_id) == ("00", run_id.hex, steps["step echo"].span_id.hex())
    assert int(flags, 16) & 1  # sampled


async def test_without_an_endpoint_nothing_is_traced_and_no_traceparent_is_sent(
    harness: Harness, collector: tuple[str, list[ExportTraceServiceRequest]]
) -> None:
    _, received = collector
    assert not tracing.enabled()
    run = await harness.run(CASE)
    echoed = json.loads(run["steps"][0]["response"]["body"])["headers"]
    assert "traceparent" not in echoed
    assert received == []


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://collector:4318", "http://collector:4318/v1/traces"),
        ("http://collector:4318/", "http://collector:4318/v1/traces"),
        ("https://otel.example.com/v1/traces", "https://otel.example.com/v1/traces"),
    ],
)
def test_the_traces_url_of_a_collector(endpoint: str, url: str) -> None:
    assert tracing.traces_url(endpoint) == url
