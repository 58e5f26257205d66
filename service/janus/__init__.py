"""The Janus adapter: rooms drives Janus VideoRooms over Janus's HTTP API.

`config` reads a tenant's `[tenants.<tenant>.janus]` table, `client` speaks the HTTP API,
`videoroom` holds the idempotent room operations and `reconcile`. The values they carry
(tokens, room numbers, permissions) are computed by `service.domain.janus`.
"""
