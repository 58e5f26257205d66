"""OpenTelemetry tracing: a real server process exports to a real OTLP/gRPC receiver
(opentelemetry-proto's own TraceService), continuing the caller's W3C traceparent, with
each database statement a child span of the call's span. Off unless OTEL_* says so."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.observability.tracing import exporter_names
from support.processes import free_port
from tests.shared.calls import connect
from tests.shared.processes import spawn_server

pytestmark = pytest.mark.processes


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """Collects every exported span; `arrived` is set on each export."""

    def __init__(self) -> None:
        self.spans: list[trace_pb2.Span] = []
        self.arrived = asyncio.Event()

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(scope_spans.spans)
        self.arrived.set()
        return trace_service_pb2.ExportTraceServiceResponse()

    async def trace(self, trace_id: bytes, until_span: str) -> list[trace_pb2.Span]:
        """The spans of a trace, once the one named `until_span` (it ends last) is in."""
        while True:
            found = [span for span in self.spans if span.trace_id == trace_id]
            if any(span.name == until_span for span in found):
                return found
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 30)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, int]]:
    server = grpc.aio.server()
    collected = Receiver()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collected, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield collected, port
    await server.stop(0)


def test_off_unless_configured() -> None:
    assert exporter_names({}) == []
    assert exporter_names({"OTEL_TRACES_EXPORTER": "none"}) == []
    assert exporter_names({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}) == ["otlp"]
    assert exporter_names({"OTEL_TRACES_EXPORTER": "otlp,console"}) == ["otlp", "console"]
    assert exporter_names({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}) == []


async def test_a_call_continues_the_callers_trace_with_database_child_spans(
    receiver: tuple[Receiver, int], database_url: str
) -> None:
    collected, collector_port = receiver
    port = free_port()
    process = await spawn_server(
        database_url,
        port,
        output=asyncio.subprocess.DEVNULL,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector_port}",
        OTEL_EXPORTER_OTLP_INSECURE="true",
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_SERVICE_NAME="rooms-under-test",
    )
    try:
        trace_id, parent_id = secrets.token_bytes(16), secrets.token_bytes(8)
        traceparent = f"00-{trace_id.hex()}-{parent_id.hex()}-01"
        async with connect(port) as stubs:
            rooms = stubs.rooms
            await rooms.CreateRoom(
                rs.CreateRoomRequest(),
                metadata=(("traceparent", traceparent),),
                wait_for_ready=True,
                timeout=60,
            )
        method = "/rooms.v1.RoomsService/CreateRoom"
        spans = await collected.trace(trace_id, until_span=method)
        calls = [s for s in spans if s.name == method]
        assert len(calls) == 1, [s.name for s in spans]
        call = calls[0]
        assert call.kind == trace_pb2.Span.SPAN_KIND_SERVER
        assert call.parent_span_id == parent_id, "the caller's traceparent is continued"
        statements = [s for s in spans if s.kind == trace_pb2.Span.SPAN_KIND_CLIENT]
        assert statements, [s.name for s in spans]
        assert all(s.parent_span_id == call.span_id for s in statements)
        assert any(
            attribute.key == "db.system" and attribute.value.string_value == "postgresql"
            for s in statements
            for attribute in s.attributes
        )
    finally:
        process.terminate()
        await process.wait()
