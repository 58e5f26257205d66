"""RoomsService: rooms, who may join, roles, and a room's history and change stream."""

# Every `timeout` here is the call's gRPC deadline, not a local wait.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Unpack

import grpc
from google.protobuf import field_mask_pb2

from rooms.connection import Channel
from rooms.errors import RoomsError, WatchTooSlow, from_rpc_error
from rooms.v1 import admission_pb2, events_pb2, room_pb2, rooms_service_pb2
from rooms.values import (
    Participants,
    RoomSettings,
    RoomStateLike,
    credential_format_value,
    room_state_value,
    roster,
    write_settings,
)


class RoomsMethods(Channel):
    """The calls of rooms.v1.RoomsService."""

    async def create_room(
        self,
        *,
        room_id: str = "",
        participants: Participants = (),
        request_id: str | None = None,
        timeout: float | None = None,
        **settings: Unpack[RoomSettings],
    ) -> room_pb2.Room:
        """Create a room with the settings given (`RoomSettings`: `valid_from`,
        `valid_until`, `join_policy`, ...). Unset times take the server's defaults (now,
        now + 180 days); naive datetimes are UTC. `participants` is `{user_id: role}` or
        a list of user ids (attendees) or `Participant`s. A `request_id` is generated
        unless given: sending the same one again returns the same room."""
        room = room_pb2.Room()
        write_settings(room, settings)
        request = rooms_service_pb2.CreateRoomRequest(
            request_id=request_id or str(uuid.uuid4()),
            room_id=room_id,
            room=room,
            participants=roster(participants),
        )
        return await self._call(self._rooms.CreateRoom, request, timeout)

    async def get_room(self, room_id: str, *, timeout: float | None = None) -> room_pb2.Room:
        """One room (`RoomNotFound` if it does not exist or was deleted)."""
        request = rooms_service_pb2.GetRoomRequest(room_id=room_id)
        return await self._call(self._rooms.GetRoom, request, timeout)

    async def list_rooms(
        self,
        *,
        state: RoomStateLike | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> AsyncIterator[room_pb2.Room]:
        """Every room, newest first, fetched a page at a time (`timeout` is per page)."""
        request = rooms_service_pb2.ListRoomsRequest(
            page_size=page_size,
            state=room_state_value(state) if state is not None else room_pb2.ROOM_STATE_UNSPECIFIED,
        )
        async for room in self._pages(
            self._rooms.ListRooms, request, lambda response: response.rooms, timeout
        ):
            yield room

    async def update_room(
        self,
        room_id: str,
        *,
        etag: str = "",
        timeout: float | None = None,
        **settings: Unpack[RoomSettings],
    ) -> room_pb2.Room:
        """Change the settings given (`RoomSettings`), and only those; `metadata`
        replaces the whole map. With `etag`, only if the room has not changed since
        (`EtagMismatch`)."""
        room = room_pb2.Room(room_id=room_id, etag=etag)
        paths = write_settings(room, settings)
        if not paths:
            raise ValueError("update_room: name at least one field to change")
        request = rooms_service_pb2.UpdateRoomRequest(
            room=room, update_mask=field_mask_pb2.FieldMask(paths=paths)
        )
        return await self._call(self._rooms.UpdateRoom, request, timeout)

    async def delete_room(
        self, room_id: str, *, etag: str = "", timeout: float | None = None
    ) -> None:
        """Delete a room; deleting a deleted room succeeds again."""
        request = rooms_service_pb2.DeleteRoomRequest(room_id=room_id, etag=etag)
        await self._call(self._rooms.DeleteRoom, request, timeout)

    async def authorize_join(
        self,
        room_id: str,
        user_id: str,
        *,
        credential_format: str | int = 0,
        display_name: str | None = None,
        claim_seat: bool = False,
        timeout: float | None = None,
    ) -> rooms_service_pb2.AuthorizeJoinResponse:
        """May `user_id` join `room_id` now, as what, and if not, why and until when.
        A refusal is an answer (`allowed` false), not an exception. In a room with a
        waiting room the call knocks (`display_name` is shown to the hosts); with
        `claim_seat` an allowed answer carries the identity's `seat`; with
        `credential_format` (`livekit`, `jitsi`, `rooms`) an allowed answer carries a
        signed `credential`."""
        request = rooms_service_pb2.AuthorizeJoinRequest(
            room_id=room_id,
            user_id=user_id,
            claim_seat=claim_seat,
            credential_format=credential_format_value(credential_format),
        )
        if display_name is not None:
            request.display_name = display_name
        return await self._call(self._rooms.AuthorizeJoin, request, timeout)

    async def list_roles(
        self, *, timeout: float | None = None
    ) -> list[admission_pb2.RoleDefinition]:
        """Every role with the capabilities it grants."""
        response = await self._call(
            self._rooms.ListRoles, rooms_service_pb2.ListRolesRequest(), timeout
        )
        return list(response.roles)

    # ---- history and the change stream ------------------------------------

    async def list_room_events(
        self,
        room_id: str,
        *,
        newest_first: bool = False,
        types: Sequence[events_pb2.RoomEventType.ValueType] = (),
        page_size: int = 0,
        timeout: float | None = None,
    ) -> AsyncIterator[events_pb2.RoomEvent]:
        """A room's retained history, a page at a time."""
        order = (
            events_pb2.EVENT_ORDER_NEWEST_FIRST
            if newest_first
            else events_pb2.EVENT_ORDER_OLDEST_FIRST
        )
        request = rooms_service_pb2.ListRoomEventsRequest(
            room_id=room_id, page_size=page_size, order=order, types=types
        )
        async for event in self._pages(
            self._rooms.ListRoomEvents, request, lambda response: response.events, timeout
        ):
            yield event

    async def list_occurrences(
        self,
        room_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> AsyncIterator[room_pb2.Occurrence]:
        """The room's occurrences overlapping [start, end) (unset: from the first, to
        the last), oldest first, a page at a time. Naive datetimes are UTC."""
        request = rooms_service_pb2.ListOccurrencesRequest(room_id=room_id, page_size=page_size)
        if start is not None:
            request.start_time.FromDatetime(start)
        if end is not None:
            request.end_time.FromDatetime(end)
        async for occurrence in self._pages(
            self._rooms.ListOccurrences, request, lambda response: response.occurrences, timeout
        ):
            yield occurrence

    async def watch_room(
        self,
        room_id: str,
        *,
        after_revision: int = 0,
        resume_delay: float = 1.0,
        on_resume: Callable[[RoomsError, int], None] | None = None,
    ) -> AsyncIterator[events_pb2.RoomEvent]:
        """Every event after `after_revision`, then live ones, until the room is deleted.

        Resumes by itself from the last revision received when the stream breaks
        (UNAVAILABLE) or the server says the watcher fell behind (`WatchTooSlow`), so
        the caller sees each event once, in order. Other errors are raised, among them
        `RevisionExpired` (re-read the room, then watch from its last_event_revision).
        `on_resume(error, last_revision)` is called before each reconnection.
        """
        last = after_revision
        while True:
            stream = self._rooms.WatchRoom(
                rooms_service_pb2.WatchRoomRequest(room_id=room_id, after_revision=last),
                metadata=self.metadata,
            )
            try:
                async for event in stream:
                    yield event
                    last = event.revision
                    if event.type == events_pb2.ROOM_EVENT_TYPE_DELETED:
                        return
                return
            except grpc.aio.AioRpcError as error:
                failure = from_rpc_error(error)
                if (
                    not isinstance(failure, WatchTooSlow)
                    and error.code() != grpc.StatusCode.UNAVAILABLE
                ):
                    raise failure from error
                if on_resume is not None:
                    on_resume(failure, last)
            finally:
                stream.cancel()
            await asyncio.sleep(resume_delay)
