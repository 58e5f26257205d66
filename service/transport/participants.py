"""rooms.v1.ParticipantsService: convert, call the use case, convert."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2
from rooms.v1 import events_pb2, participant_pb2, participants_service_pb2_grpc, waiting_room_pb2
from rooms.v1 import participants_service_pb2 as ps

from service.domain.clock import Clock
from service.domain.errors import Violations
from service.domain.waiting_room import KnockState
from service.transport import convert, convert_admission
from service.transport.auth import current_caller
from service.transport.errors import answers_errors
from service.transport.vocabulary import ROLES
from service.usecases.moderation import ModerationUseCases
from service.usecases.participants import ParticipantUseCases
from service.usecases.seats import SeatUseCases
from service.usecases.waiting_room import WaitingRoomUseCases

Context = grpc.aio.ServicerContext[Any, Any]


class ParticipantsServicer(participants_service_pb2_grpc.ParticipantsServiceServicer):
    def __init__(
        self,
        *,
        participants: ParticipantUseCases,
        waiting_room: WaitingRoomUseCases,
        seats: SeatUseCases,
        moderation: ModerationUseCases,
        clock: Clock,
    ) -> None:
        self._participants = participants
        self._waiting_room = waiting_room
        self._seats = seats
        self._moderation = moderation
        self._clock = clock

    @answers_errors
    async def AddOrUpdateParticipants(
        self, request: ps.AddOrUpdateParticipantsRequest, context: Context
    ) -> ps.AddOrUpdateParticipantsResponse:
        violations = Violations()
        roster = convert.roster_in(
            violations, "participants", request.participants, self._participants.limits
        )
        violations.raise_if_any()
        participants, etag = await self._participants.add_or_update_participants(
            current_caller(), request.room_id, roster, request.etag
        )
        return ps.AddOrUpdateParticipantsResponse(
            participants=[convert.participant_out(p) for p in participants], etag=etag
        )

    @answers_errors
    async def RemoveParticipants(
        self, request: ps.RemoveParticipantsRequest, context: Context
    ) -> ps.RemoveParticipantsResponse:
        removed, etag = await self._participants.remove_participants(
            current_caller(), request.room_id, list(request.user_ids), request.etag, request.ban
        )
        return ps.RemoveParticipantsResponse(etag=etag, removed_count=removed)

    @answers_errors
    async def ListParticipants(
        self, request: ps.ListParticipantsRequest, context: Context
    ) -> ps.ListParticipantsResponse:
        violations = Violations()
        role = convert.role_filter(violations, "role", request.role)
        violations.raise_if_any()
        page = await self._participants.list_participants(
            current_caller(), request.room_id, request.page_size, request.page_token, role
        )
        return ps.ListParticipantsResponse(
            participants=[convert.participant_out(p) for p in page.items],
            next_page_token=page.next_page_token,
        )

    @answers_errors
    async def GetParticipant(
        self, request: ps.GetParticipantRequest, context: Context
    ) -> participant_pb2.Participant:
        participant = await self._participants.get_participant(
            current_caller(), request.room_id, request.user_id
        )
        return convert.participant_out(participant)

    @answers_errors
    async def ListRoomsForParticipant(
        self, request: ps.ListRoomsForParticipantRequest, context: Context
    ) -> ps.ListRoomsForParticipantResponse:
        violations = Violations()
        state = convert.state_filter(violations, "state", request.state)
        violations.raise_if_any()
        page = await self._participants.list_rooms_for_participant(
            current_caller(), request.user_id, request.page_size, request.page_token, state
        )
        now = self._clock.now()
        return ps.ListRoomsForParticipantResponse(
            memberships=[
                ps.RoomMembership(
                    room=convert.room_out(m.room, now),
                    role=ROLES.out(m.role),
                    create_time=convert.timestamp(m.create_time),
                )
                for m in page.items
            ],
            next_page_token=page.next_page_token,
        )

    @answers_errors
    async def ListKnocks(
        self, request: ps.ListKnocksRequest, context: Context
    ) -> ps.ListKnocksResponse:
        violations = Violations()
        state = convert_admission.knock_state_filter(violations, "state", request.state)
        violations.raise_if_any()
        page, etag = await self._waiting_room.list_knocks(
            current_caller(), request.room_id, request.page_size, request.page_token, state
        )
        return ps.ListKnocksResponse(
            knocks=[convert_admission.knock_out(k) for k in page.items],
            next_page_token=page.next_page_token,
            etag=etag,
        )

    @answers_errors
    async def AdmitParticipant(
        self, request: ps.AdmitParticipantRequest, context: Context
    ) -> ps.AdmitParticipantResponse:
        violations = Violations()
        role = convert.role_filter(violations, "role", request.role)
        violations.raise_if_any()
        knock, etag = await self._waiting_room.decide_knock(
            current_caller(),
            request.room_id,
            request.user_id,
            KnockState.ADMITTED,
            role,
            request.etag,
        )
        return ps.AdmitParticipantResponse(knock=convert_admission.knock_out(knock), etag=etag)

    @answers_errors
    async def DenyParticipant(
        self, request: ps.DenyParticipantRequest, context: Context
    ) -> ps.DenyParticipantResponse:
        knock, etag = await self._waiting_room.decide_knock(
            current_caller(),
            request.room_id,
            request.user_id,
            KnockState.DENIED,
            None,
            request.etag,
        )
        return ps.DenyParticipantResponse(knock=convert_admission.knock_out(knock), etag=etag)

    @answers_errors
    async def RenewSeat(
        self, request: ps.RenewSeatRequest, context: Context
    ) -> waiting_room_pb2.Seat:
        seat = await self._seats.renew_seat(current_caller(), request.seat_id)
        return convert.seat_out(seat)

    @answers_errors
    async def ReleaseSeat(
        self, request: ps.ReleaseSeatRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._seats.release_seat(current_caller(), request.seat_id)
        return empty_pb2.Empty()

    @answers_errors
    async def ListSeats(
        self, request: ps.ListSeatsRequest, context: Context
    ) -> ps.ListSeatsResponse:
        page = await self._seats.list_seats(
            current_caller(), request.room_id, request.page_size, request.page_token
        )
        return ps.ListSeatsResponse(
            seats=[convert.seat_out(s) for s in page.items], next_page_token=page.next_page_token
        )

    @answers_errors
    async def ModerateParticipant(
        self, request: ps.ModerateParticipantRequest, context: Context
    ) -> ps.ModerateParticipantResponse:
        moderation, revision = await self._moderation.moderate_participant(
            current_caller(),
            request.room_id,
            request.actor_user_id,
            request.user_id,
            muted=request.muted,
            video=request.video,
        )
        return ps.ModerateParticipantResponse(
            moderation=events_pb2.Moderation(
                actor_user_id=moderation.actor_user_id,
                muted=moderation.muted,
                video=moderation.video,
            ),
            revision=revision,
        )
