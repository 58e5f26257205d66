"""ParticipantsService: rosters, the waiting room and seats."""

# Every `timeout` here is the call's gRPC deadline, not a local wait.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from rooms.connection import Channel
from rooms.v1 import participant_pb2, participants_service_pb2, room_pb2, waiting_room_pb2
from rooms.values import (
    KnockStateLike,
    Participants,
    RoleLike,
    RoomStateLike,
    knock_state_value,
    role_value,
    room_state_value,
    roster,
)


class ParticipantsMethods(Channel):
    """The calls of rooms.v1.ParticipantsService."""

    async def add_or_update_participants(
        self,
        room_id: str,
        participants: Participants,
        *,
        etag: str = "",
        timeout: float | None = None,
    ) -> participants_service_pb2.AddOrUpdateParticipantsResponse:
        """Add identities to the roster or change their role: `{user_id: role}`, or
        user ids (attendees) or `Participant`s (`rooms.participant(user_id, role,
        valid_from=..., valid_until=...)` for an entry with its own window: an entry's
        window is what it says, unset bounds being the room's). Returns them and the
        room's new etag."""
        request = participants_service_pb2.AddOrUpdateParticipantsRequest(
            room_id=room_id, participants=roster(participants), etag=etag
        )
        return await self._call(self._participants.AddOrUpdateParticipants, request, timeout)

    async def remove_participants(
        self,
        room_id: str,
        user_ids: Iterable[str],
        *,
        etag: str = "",
        ban: bool = False,
        timeout: float | None = None,
    ) -> participants_service_pb2.RemoveParticipantsResponse:
        """Remove identities from the roster; absent ones are a no-op. With `ban`,
        they are refused until added again."""
        request = participants_service_pb2.RemoveParticipantsRequest(
            room_id=room_id, user_ids=list(user_ids), etag=etag, ban=ban
        )
        return await self._call(self._participants.RemoveParticipants, request, timeout)

    async def list_participants(
        self,
        room_id: str,
        *,
        role: RoleLike | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> AsyncIterator[participant_pb2.Participant]:
        """The roster by `user_id`, fetched a page at a time."""
        request = participants_service_pb2.ListParticipantsRequest(
            room_id=room_id,
            page_size=page_size,
            role=role_value(role) if role is not None else participant_pb2.ROLE_UNSPECIFIED,
        )
        async for participant in self._pages(
            self._participants.ListParticipants,
            request,
            lambda response: response.participants,
            timeout,
        ):
            yield participant

    async def get_participant(
        self, room_id: str, user_id: str, *, timeout: float | None = None
    ) -> participant_pb2.Participant:
        """One roster entry (`ParticipantNotFound` if the identity is not on it)."""
        request = participants_service_pb2.GetParticipantRequest(room_id=room_id, user_id=user_id)
        return await self._call(self._participants.GetParticipant, request, timeout)

    async def list_rooms_for_participant(
        self,
        user_id: str,
        *,
        state: RoomStateLike | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> AsyncIterator[participants_service_pb2.RoomMembership]:
        """The rooms whose roster holds `user_id`, soonest first, a page at a time."""
        request = participants_service_pb2.ListRoomsForParticipantRequest(
            user_id=user_id,
            page_size=page_size,
            state=room_state_value(state) if state is not None else room_pb2.ROOM_STATE_UNSPECIFIED,
        )
        async for membership in self._pages(
            self._participants.ListRoomsForParticipant,
            request,
            lambda response: response.memberships,
            timeout,
        ):
            yield membership

    # ---- waiting room and seats ---------------------------------------------

    async def list_knocks(
        self,
        room_id: str,
        *,
        state: KnockStateLike | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> AsyncIterator[waiting_room_pb2.Knock]:
        """The room's knocks, oldest first (`state="waiting"`: the hosts' queue)."""
        request = participants_service_pb2.ListKnocksRequest(
            room_id=room_id,
            page_size=page_size,
            state=knock_state_value(state)
            if state is not None
            else waiting_room_pb2.KNOCK_STATE_UNSPECIFIED,
        )
        async for knock in self._pages(
            self._participants.ListKnocks, request, lambda response: response.knocks, timeout
        ):
            yield knock

    async def admit_participant(
        self,
        room_id: str,
        user_id: str,
        *,
        role: RoleLike = 0,
        etag: str = "",
        timeout: float | None = None,
    ) -> participants_service_pb2.AdmitParticipantResponse:
        """Let `user_id` in (with `role`, or the role it would have had)."""
        request = participants_service_pb2.AdmitParticipantRequest(
            room_id=room_id, user_id=user_id, role=role_value(role), etag=etag
        )
        return await self._call(self._participants.AdmitParticipant, request, timeout)

    async def deny_participant(
        self, room_id: str, user_id: str, *, etag: str = "", timeout: float | None = None
    ) -> participants_service_pb2.DenyParticipantResponse:
        """Keep `user_id` out until a host admits it."""
        request = participants_service_pb2.DenyParticipantRequest(
            room_id=room_id, user_id=user_id, etag=etag
        )
        return await self._call(self._participants.DenyParticipant, request, timeout)

    async def moderate_participant(
        self,
        room_id: str,
        user_id: str,
        *,
        actor_user_id: str,
        muted: bool = True,
        video: bool = False,
        timeout: float | None = None,
    ) -> participants_service_pb2.ModerateParticipantResponse:
        """Mute `user_id` (or unmute it, `muted=False`) on behalf of `actor_user_id`,
        who must hold mute_others in the room now (`ModerationNotAllowed` otherwise):
        audio always, video too with `video`."""
        request = participants_service_pb2.ModerateParticipantRequest(
            room_id=room_id,
            actor_user_id=actor_user_id,
            user_id=user_id,
            muted=muted,
            video=video,
        )
        return await self._call(self._participants.ModerateParticipant, request, timeout)

    async def renew_seat(
        self, seat_id: str, *, timeout: float | None = None
    ) -> waiting_room_pb2.Seat:
        """Extend a seat by the server's seat TTL (`SeatNotFound` once it expired)."""
        request = participants_service_pb2.RenewSeatRequest(seat_id=seat_id)
        return await self._call(self._participants.RenewSeat, request, timeout)

    async def release_seat(self, seat_id: str, *, timeout: float | None = None) -> None:
        """Free a seat; releasing a free seat succeeds."""
        request = participants_service_pb2.ReleaseSeatRequest(seat_id=seat_id)
        await self._call(self._participants.ReleaseSeat, request, timeout)

    async def list_seats(
        self, room_id: str, *, page_size: int = 0, timeout: float | None = None
    ) -> AsyncIterator[waiting_room_pb2.Seat]:
        """Who is in the room now (its live seats), earliest first."""
        request = participants_service_pb2.ListSeatsRequest(room_id=room_id, page_size=page_size)
        async for seat in self._pages(
            self._participants.ListSeats, request, lambda response: response.seats, timeout
        ):
            yield seat
