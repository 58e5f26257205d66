"""rooms' operations on Janus VideoRooms, each idempotent so a retried delivery is safe:
"already exists" and "not found" count as done.

`reconcile` makes a VideoRoom match a `JanusRoomPlan` (after a Janus restart, or when
in doubt): the room exists, its `allowed` list is exactly the plan's join tokens, and no
participant is in it as a publisher that the plan does not let publish.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from service.domain.clock import Clock
from service.http_client import HttpClient
from service.media.janus.client import JanusClient, VideoRoomError
from service.media.janus.config import JanusConfig
from service.media.janus.plan import JanusRoomPlan

# VideoRoom error codes (janus_videoroom.c), as Janus 1.1.2 answers them.
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
NO_SUCH_PARTICIPANT = 428
UNAUTHORIZED = 433

DEFAULT_MAX_PUBLISHERS = 100


@dataclass(frozen=True, slots=True)
class JanusParticipant:
    """A participant Janus has in a room (`listparticipants`)."""

    id: int
    publisher: bool
    display: str | None = None


@dataclass(slots=True)
class ReconcileResult:
    """What a reconcile changed."""

    created: bool = False
    allowed_added: set[str] = field(default_factory=set)
    allowed_removed: set[str] = field(default_factory=set)
    kicked: set[int] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.allowed_added or self.allowed_removed or self.kicked)


class JanusVideoRooms:
    """The VideoRooms of one tenant's Janus."""

    def __init__(
        self,
        config: JanusConfig,
        *,
        clock: Clock | None = None,
        http: HttpClient | None = None,
        max_publishers: int = DEFAULT_MAX_PUBLISHERS,
    ) -> None:
        self._client = JanusClient(
            config.url,
            config.token_auth_key,
            clock=clock,
            http=http,
        )
        self._admin_key = config.admin_key.get_secret_value() if config.admin_key else None
        self._max_publishers = max_publishers

    def __repr__(self) -> str:
        return f"JanusVideoRooms({self._client!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def exists(self, number: int) -> bool:
        data = await self._client.videoroom({"request": "exists", "room": number})
        return bool(data.get("exists"))

    async def _create(self, plan: JanusRoomPlan, allowed: Iterable[str]) -> bool:
        """Create the room; False when it already exists."""
        request = {
            "request": "create",
            "room": plan.number,
            "description": plan.description,
            "secret": plan.secret,
            "is_private": True,
            # Every join, publisher or subscriber, must carry a token signed for this
            # room (its `room=<N>` descriptor); a publisher's must also be allowed.
            "signed_tokens": True,
            "publishers": self._max_publishers,
            "allowed": sorted(allowed),
        }
        if self._admin_key is not None:
            request["admin_key"] = self._admin_key
        try:
            await self._client.videoroom(request)
        except VideoRoomError as error:
            if error.code == ROOM_EXISTS:
                return False
            raise
        return True

    async def _allowed(self, number: int, secret: str, action: str, tokens: list[str]) -> set[str]:
        body: dict[str, object] = {
            "request": "allowed",
            "room": number,
            "secret": secret,
            "action": action,
        }
        if tokens:
            body["allowed"] = tokens
        data = await self._client.videoroom(body)
        return {str(token) for token in data.get("allowed", [])}

    async def allowed_tokens(self, number: int, secret: str) -> set[str] | None:
        """The room's `allowed` list now; None when the room does not exist."""
        try:
            return await self._allowed(number, secret, "enable", [])
        except VideoRoomError as error:
            if error.code == NO_SUCH_ROOM:
                return None
            raise

    async def ensure_room(self, plan: JanusRoomPlan) -> bool:
        """Make the room exist with (at least) the plan's join tokens allowed; True when it
        was created now. Tokens allowed before stay: `reconcile` removes strays."""
        if await self._create(plan, plan.allowed):
            return True
        await self.allow(plan.number, plan.secret, plan.allowed)
        return False

    async def allow(self, number: int, secret: str, tokens: Iterable[str]) -> None:
        """Add join tokens to the room's `allowed` list (present already: fine). A missing
        room raises VideoRoomError(426): the caller then ensures the room."""
        wanted = sorted(set(tokens))
        if wanted:
            await self._allowed(number, secret, "add", wanted)

    async def disallow(self, number: int, secret: str, tokens: Iterable[str]) -> bool:
        """Remove join tokens from the `allowed` list; False when the room does not exist
        (nobody can join it then, which is what was asked)."""
        gone = sorted(set(tokens))
        if not gone:
            return True
        try:
            await self._allowed(number, secret, "remove", gone)
        except VideoRoomError as error:
            if error.code == NO_SUCH_ROOM:
                return False
            raise
        return True

    async def kick(self, number: int, secret: str, participant_id: int) -> bool:
        """Remove a joined participant; False when it (or the room) was not there."""
        try:
            await self._client.videoroom(
                {"request": "kick", "room": number, "secret": secret, "id": participant_id}
            )
        except VideoRoomError as error:
            if error.code in (NO_SUCH_ROOM, NO_SUCH_PARTICIPANT):
                return False
            raise
        return True

    async def feed_streams(
        self, number: int, join_token: str, participant_id: int
    ) -> list[tuple[str, str]]:
        """The (type, mid) of each stream `participant_id` publishes now; empty when it
        publishes nothing (or the room is gone)."""
        try:
            streams = await self._client.feed_streams(number, join_token, participant_id)
        except VideoRoomError as error:
            if error.code == NO_SUCH_ROOM:
                return []
            raise
        return [(str(s.get("type", "")), str(s["feed_mid"])) for s in streams if "feed_mid" in s]

    async def moderate(
        self, number: int, secret: str, participant_id: int, mid: str, muted: bool
    ) -> bool:
        """Mute (or unmute) one stream of a publisher with the room `secret`: the
        participant cannot undo it (`moderate` needs the secret). False when the
        stream, the participant or the room is not there."""
        try:
            await self._client.videoroom(
                {
                    "request": "moderate",
                    "room": number,
                    "secret": secret,
                    "id": participant_id,
                    "mid": mid,
                    "mute": muted,
                }
            )
        except VideoRoomError as error:
            if error.code in (NO_SUCH_ROOM, NO_SUCH_PARTICIPANT):
                return False
            raise
        return True

    async def destroy(self, number: int, secret: str) -> bool:
        """Destroy the room (every participant leaves); False when it did not exist."""
        try:
            await self._client.videoroom({"request": "destroy", "room": number, "secret": secret})
        except VideoRoomError as error:
            if error.code == NO_SUCH_ROOM:
                return False
            raise
        return True

    async def participants(self, number: int) -> list[JanusParticipant]:
        """Who is in the room now; empty when the room does not exist."""
        try:
            data = await self._client.videoroom({"request": "listparticipants", "room": number})
        except VideoRoomError as error:
            if error.code == NO_SUCH_ROOM:
                return []
            raise
        return [
            JanusParticipant(
                id=int(entry["id"]),
                publisher=bool(entry.get("publisher")),
                display=entry.get("display"),
            )
            for entry in data.get("participants", [])
        ]

    async def reconcile(self, plan: JanusRoomPlan) -> ReconcileResult:
        """Make Janus match `plan`: the room exists, `allowed` is exactly the plan's tokens,
        and participants the plan does not admit (or who publish without the right) are
        kicked. Tokens are removed before anyone is kicked, so nobody kicked can rejoin."""
        result = ReconcileResult()
        wanted = set(plan.allowed)
        if await self._create(plan, wanted):
            result.created = True
        else:
            current = await self._allowed(plan.number, plan.secret, "enable", [])
            result.allowed_added = wanted - current
            result.allowed_removed = current - wanted
            if result.allowed_removed:
                await self._allowed(
                    plan.number, plan.secret, "remove", sorted(result.allowed_removed)
                )
            if result.allowed_added:
                await self._allowed(plan.number, plan.secret, "add", sorted(result.allowed_added))
        members = {member.participant_id: member for member in plan.members}
        for participant in await self.participants(plan.number):
            member = members.get(participant.id)
            # Everyone Janus lists joined as a publisher: only members that may
            # publish stay (a Consumer subscribes, which Janus does not list).
            admitted = member is not None and member.permissions.publish
            if not admitted and await self.kick(plan.number, plan.secret, participant.id):
                result.kicked.add(participant.id)
        return result
