"""LiveKit: `config` reads a tenant's `[tenants.<tenant>.livekit]` table, `grants` types
LiveKit's grants (from the capability table), `issuer` signs and reads join tokens, and
`push` mirrors the room's history in LiveKit's RoomService (removals, role changes,
moderation, room ends).
"""
