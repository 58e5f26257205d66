"""Janus: rooms drives Janus VideoRooms over Janus's HTTP API.

`config` reads a tenant's `[tenants.<tenant>.janus]` table, `tokens` derives the values
rooms hands to Janus (core and join tokens, room numbers, secrets), `plan` the state a
VideoRoom should have, `issuer` the Janus credential AuthorizeJoin returns, `client`
speaks the HTTP API, `videoroom` holds the idempotent room operations and `reconcile`,
`control` follows the database (admit, sync, evict, moderate, the restart check) and
`sink` drives it from the room's history. Who may publish or subscribe is a domain rule
(`service.domain.janus`); the SQL it reads is `service.storage.janus`.
"""
