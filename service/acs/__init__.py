"""The Azure Communication Services Rooms REST API (api-version 2025-03-13), served next
to gRPC by the same process: an HTTP edge over the same use cases (docs/azure.md)."""
