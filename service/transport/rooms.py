"""rooms.v1.RoomsService: convert, call the use case, convert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import empty_pb2
from rooms.v1 import events_pb2, room_pb2, rooms_service_pb2, rooms_service_pb2_grpc

from service.domain.clock import Clock
from service.domain.errors import Violations, checked
from service.transport import calendar, convert, convert_admission
from service.transport.auth import current_caller
from service.transport.errors import answers_errors, answers_errors_streaming
from service.usecases.admission import AdmissionUseCases
from service.usecases.calendar import CalendarUseCases
from service.usecases.history import HistoryUseCases
from service.usecases.rooms import RoomUseCases

Context = grpc.aio.ServicerContext[Any, Any]


@dataclass(frozen=True, kw_only=True)
class RoomsServicer(rooms_service_pb2_grpc.RoomsServiceServicer):
    """rooms.v1.RoomsService, on the rooms, history, admission and calendar areas."""

    rooms: RoomUseCases
    history: HistoryUseCases
    admission: AdmissionUseCases
    calendar: CalendarUseCases
    clock: Clock

    @answers_errors
    async def CreateRoom(
        self, request: rooms_service_pb2.CreateRoomRequest, context: Context
    ) -> room_pb2.Room:
        violations = Violations()
        settings = convert.room_settings_in(violations, "room.", request.room)
        roster = convert.roster_in(
            violations, "participants", request.participants, self.rooms.limits
        )
        violations.raise_if_any()
        # The API's request_id (AIP-155) is the create's idempotency key.
        room = await self.rooms.create_room(
            current_caller(),
            idempotency_key=request.request_id,
            room_id=request.room_id,
            settings=settings,
            roster=roster,
        )
        return convert.room_out(room, self.clock.now())

    @answers_errors
    async def GetRoom(
        self, request: rooms_service_pb2.GetRoomRequest, context: Context
    ) -> room_pb2.Room:
        room = await self.rooms.get_room(current_caller(), request.room_id)
        return convert.room_out(room, self.clock.now())

    @answers_errors
    async def ListRooms(
        self, request: rooms_service_pb2.ListRoomsRequest, context: Context
    ) -> rooms_service_pb2.ListRoomsResponse:
        state = checked(convert.state_filter, "state", request.state)
        page = await self.rooms.list_rooms(
            current_caller(), request.page_size, request.page_token, state
        )
        now = self.clock.now()
        return rooms_service_pb2.ListRoomsResponse(
            rooms=[convert.room_out(room, now) for room in page.items],
            next_page_token=page.next_page_token,
        )

    @answers_errors
    async def UpdateRoom(
        self, request: rooms_service_pb2.UpdateRoomRequest, context: Context
    ) -> room_pb2.Room:
        settings = checked(convert.room_settings_in, "room.", request.room)
        room = await self.rooms.update_room(
            current_caller(),
            request.room.room_id,
            request.room.etag,
            settings,
            list(request.update_mask.paths),
            convert.populated_fields(request.room),
        )
        return convert.room_out(room, self.clock.now())

    @answers_errors
    async def DeleteRoom(
        self, request: rooms_service_pb2.DeleteRoomRequest, context: Context
    ) -> empty_pb2.Empty:
        await self.rooms.delete_room(current_caller(), request.room_id, request.etag)
        return empty_pb2.Empty()

    @answers_errors
    async def AuthorizeJoin(
        self, request: rooms_service_pb2.AuthorizeJoinRequest, context: Context
    ) -> rooms_service_pb2.AuthorizeJoinResponse:
        credential_format = checked(
            convert_admission.credential_format_in, "credential_format", request.credential_format
        )
        decision, credential = await self.admission.authorize_join(
            current_caller(),
            request.room_id,
            request.user_id,
            credential_format=credential_format,
            display_name=request.display_name if request.HasField("display_name") else None,
            claim_seat=request.claim_seat,
        )
        return convert_admission.decision_out(decision, credential)

    @answers_errors
    async def ListRoles(
        self, request: rooms_service_pb2.ListRolesRequest, context: Context
    ) -> rooms_service_pb2.ListRolesResponse:
        return rooms_service_pb2.ListRolesResponse(roles=convert_admission.role_definitions())

    @answers_errors_streaming
    async def WatchRoom(
        self, request: rooms_service_pb2.WatchRoomRequest, context: Context
    ) -> AsyncIterator[events_pb2.RoomEvent]:
        events = self.history.watch_room(current_caller(), request.room_id, request.after_revision)
        async for event in events:
            yield convert.event_out(event)

    @answers_errors
    async def ListRoomEvents(
        self, request: rooms_service_pb2.ListRoomEventsRequest, context: Context
    ) -> rooms_service_pb2.ListRoomEventsResponse:
        violations = Violations()
        newest_first = convert.newest_first_in(violations, "order", request.order)
        types = convert.event_types_in(violations, "types", request.types)
        violations.raise_if_any()
        page = await self.history.list_room_events(
            current_caller(),
            request.room_id,
            request.page_size,
            request.page_token,
            newest_first,
            types,
        )
        return rooms_service_pb2.ListRoomEventsResponse(
            events=[convert.event_out(event) for event in page.items],
            next_page_token=page.next_page_token,
        )

    @answers_errors
    async def ListOccurrences(
        self, request: rooms_service_pb2.ListOccurrencesRequest, context: Context
    ) -> rooms_service_pb2.ListOccurrencesResponse:
        return await calendar.list_occurrences(self.calendar, request)
