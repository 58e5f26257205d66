"""rooms.v1.ParticipantsService: convert, call the use case, convert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import empty_pb2
from rooms.v1 import events_pb2, participant_pb2, participants_service_pb2_grpc, waiting_room_pb2
from rooms.v1 import participants_service_pb2 as ps

from service.domain.clock import Clock
from service.domain.errors import checked
from service.domain.models import Role
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


@dataclass(frozen=True, kw_only=True)
class ParticipantsServicer(participants_service_pb2_grpc.ParticipantsServiceServicer):
    """rooms.v1.ParticipantsService, on the participants, waiting-room, seats and
    moderation areas."""

    participants: ParticipantUseCases
    waiting_room: WaitingRoomUseCases
    seats: SeatUseCases
    moderation: ModerationUseCases
    clock: Clock

    @answers_errors
    async def AddOrUpdateParticipants(
        self, request: ps.AddOrUpdateParticipantsRequest, context: Context
    ) -> ps.AddOrUpdateParticipantsResponse:
        roster = checked(
            convert.roster_in, "participants", request.participants, self.participants.limits
        )
        participants, etag = await self.participants.add_or_update_participants(
            current_caller(), request.room_id, roster, request.etag
        )
        return ps.AddOrUpdateParticipantsResponse(
            participants=[convert.participant_out(p) for p in participants], etag=etag
        )

    @answers_errors
    async def RemoveParticipants(
        self, request: ps.RemoveParticipantsRequest, context: Context
    ) -> ps.RemoveParticipantsResponse:
        removed, etag = await self.participants.remove_participants(
            current_caller(), request.room_id, list(request.user_ids), request.etag, request.ban
        )
        return ps.RemoveParticipantsResponse(etag=etag, removed_count=removed)

    @answers_errors
    async def ListParticipants(
        self, request: ps.ListParticipantsRequest, context: Context
    ) -> ps.ListParticipantsResponse:
        role = checked(convert.role_filter, "role", request.role)
        page = await self.participants.list_participants(
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
        participant = await self.participants.get_participant(
            current_caller(), request.room_id, request.user_id
        )
        return convert.participant_out(participant)

    @answers_errors
    async def ListRoomsForParticipant(
        self, request: ps.ListRoomsForParticipantRequest, context: Context
    ) -> ps.ListRoomsForParticipantResponse:
        state = checked(convert.state_filter, "state", request.state)
        page = await self.participants.list_rooms_for_participant(
            current_caller(), request.user_id, request.page_size, request.page_token, state
        )
        now = self.clock.now()
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
        state = checked(convert_admission.knock_state_filter, "state", request.state)
        page, etag = await self.waiting_room.list_knocks(
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
        role = checked(convert.role_filter, "role", request.role)
        knock, etag = await self._decide(request, KnockState.ADMITTED, role)
        return ps.AdmitParticipantResponse(knock=knock, etag=etag)

    @answers_errors
    async def DenyParticipant(
        self, request: ps.DenyParticipantRequest, context: Context
    ) -> ps.DenyParticipantResponse:
        knock, etag = await self._decide(request, KnockState.DENIED, None)
        return ps.DenyParticipantResponse(knock=knock, etag=etag)

    @answers_errors
    async def RenewSeat(
        self, request: ps.RenewSeatRequest, context: Context
    ) -> waiting_room_pb2.Seat:
        seat = await self.seats.renew_seat(current_caller(), request.seat_id)
        return convert.seat_out(seat)

    @answers_errors
    async def ReleaseSeat(
        self, request: ps.ReleaseSeatRequest, context: Context
    ) -> empty_pb2.Empty:
        await self.seats.release_seat(current_caller(), request.seat_id)
        return empty_pb2.Empty()

    @answers_errors
    async def ListSeats(
        self, request: ps.ListSeatsRequest, context: Context
    ) -> ps.ListSeatsResponse:
        page = await self.seats.list_seats(
            current_caller(), request.room_id, request.page_size, request.page_token
        )
        return ps.ListSeatsResponse(
            seats=[convert.seat_out(s) for s in page.items], next_page_token=page.next_page_token
        )

    @answers_errors
    async def ModerateParticipant(
        self, request: ps.ModerateParticipantRequest, context: Context
    ) -> ps.ModerateParticipantResponse:
        moderation, revision = await self.moderation.moderate_participant(
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

    async def _decide(
        self,
        request: ps.AdmitParticipantRequest | ps.DenyParticipantRequest,
        state: KnockState,
        role: Role | None,
    ) -> tuple[waiting_room_pb2.Knock, str]:
        knock, etag = await self.waiting_room.decide_knock(
            current_caller(), request.room_id, request.user_id, state, role, request.etag
        )
        return convert_admission.knock_out(knock), etag
