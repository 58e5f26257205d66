"""Metrics (Prometheus) and structured logs, applied to every call by one interceptor."""
