"""OpenTelemetry tracing, configured only by the standard `OTEL_*` variables.

Off unless `OTEL_TRACES_EXPORTER` names an exporter (`otlp`, `console`) or an OTLP
endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`);
`OTEL_SDK_DISABLED=true` turns it off. When on, every gRPC call is a server span
(opentelemetry-instrumentation-grpc, continuing the caller's W3C `traceparent`) and
every asyncpg statement a child span of it (opentelemetry-instrumentation-asyncpg).
The exporter, sampler, batching and resource read their own `OTEL_*` variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the SDK is imported only when tracing is on
    from opentelemetry.sdk.trace import TracerProvider

DEFAULT_SERVICE_NAME = "rooms-service"
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The trace exporters the environment asks for; [] means tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = environ.get("OTEL_TRACES_EXPORTER")
    if names is None:
        names = "otlp" if any(environ.get(name) for name in _ENDPOINTS) else "none"
    return [name.strip() for name in names.split(",") if name.strip() not in ("", "none")]


def configure_tracing(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Install the tracer provider and the gRPC and asyncpg instrumentation, if the
    environment asks for tracing; call before the server is created."""
    environ = os.environ if environ is None else environ
    names = exporter_names(environ)
    if not names:
        return None
    from opentelemetry import trace
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    named = "OTEL_SERVICE_NAME" in environ or "service.name=" in environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    provider = TracerProvider(
        resource=Resource.create({} if named else {"service.name": DEFAULT_SERVICE_NAME})
    )
    for name in names:
        exporter: SpanExporter
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        elif name == "console":
            exporter = ConsoleSpanExporter()
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: {name!r} is not one of otlp, console, none")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    GrpcAioInstrumentorServer().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    return provider
