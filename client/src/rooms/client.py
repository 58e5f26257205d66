"""An async client for the rooms.v1 API, over the generated stubs.

```python
from rooms.client import RoomsClient
from rooms.errors import RoomNotFound

async with RoomsClient("127.0.0.1:50051", api_key="rk_...") as client:
    room = await client.create_room(participants={"dr-house": "presenter"})
    await client.add_or_update_participants(room.room_id, {"patient-7": "attendee"})
    decision = await client.authorize_join(room.room_id, "patient-7")
    async for room in client.list_rooms(state="open"):
        ...
```

- One method per RPC, keyword arguments, a default deadline (`timeout`, 10 s) for
  every call.
- `create_room` sends a fresh `request_id` (a UUID) unless given one, so it is safe to
  retry.
- The paged lists are async iterators that follow `next_page_token`.
- Calls that are safe to repeat (the reads, `CreateRoom` with its `request_id`, and
  `DeleteRoom`) are retried on UNAVAILABLE by gRPC itself, configured through the
  channel's service config (`grpc.service_config`); nothing else is retried.
- Failures raise the `rooms.errors.RoomsError` subclass of their `ErrorInfo.reason`.
- TLS (`tls=True` or a `TLS(...)`), mutual TLS (`TLS(certificate_chain=..., private_key=...)`)
  and an API key (sent as `authorization: Bearer <key>`).
"""

# Every `timeout` here is the call's gRPC deadline, sent to the server with the call
# (which stops its work when it passes), not a local wait: asyncio.timeout can't do that.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeAlias, TypeVar

import grpc
from google.protobuf import field_mask_pb2

from rooms.errors import RoomsError, WatchTooSlow, from_rpc_error
from rooms.v1 import (
    admission_pb2,
    credentials_pb2,
    credentials_service_pb2,
    credentials_service_pb2_grpc,
    events_pb2,
    participant_pb2,
    participants_service_pb2,
    participants_service_pb2_grpc,
    room_pb2,
    rooms_service_pb2,
    rooms_service_pb2_grpc,
    waiting_room_pb2,
)

__all__ = [
    "DEFAULT_ADDRESS",
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "TLS",
    "JoinPolicyLike",
    "RetryPolicy",
    "RoleLike",
    "RoomStateLike",
    "RoomsClient",
    "join_policy_value",
    "knock_state_value",
    "role_value",
    "room_state_value",
    "service_config",
]

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 10.0

ROOMS_SERVICE = "rooms.v1.RoomsService"
PARTICIPANTS_SERVICE = "rooms.v1.ParticipantsService"
CREDENTIALS_SERVICE = "rooms.v1.CredentialsService"

# The calls that may be sent twice without a second effect: the reads, CreateRoom
# (this client always sends a request_id) and DeleteRoom (deleting a deleted room
# succeeds). UpdateRoom and the roster changes are not retried: repeated after a lost
# answer, their etag-conditional forms would fail with ETAG_MISMATCH.
IDEMPOTENT_METHODS: Mapping[str, tuple[str, ...]] = {
    ROOMS_SERVICE: (
        "CreateRoom",
        "GetRoom",
        "ListRooms",
        "DeleteRoom",
        "AuthorizeJoin",
        "ListRoles",
    ),
    PARTICIPANTS_SERVICE: (
        "ListParticipants",
        "GetParticipant",
        "ListRoomsForParticipant",
        "ListKnocks",
        "ListSeats",
        "RenewSeat",
        "ReleaseSeat",
    ),
    CREDENTIALS_SERVICE: ("GetSigningKeys", "IntrospectCredential"),
}

RoleLike: TypeAlias = "participant_pb2.Role.ValueType | int | str"
RoomStateLike: TypeAlias = "room_pb2.RoomState.ValueType | int | str"
JoinPolicyLike: TypeAlias = "room_pb2.JoinPolicy.ValueType | int | str"
Participants: TypeAlias = "Mapping[str, RoleLike] | Iterable[str | participant_pb2.Participant]"
# Per-role capacity: `{role: (max_participants, reserved)}`, or RoleCapacity messages.
RoleCapacities: TypeAlias = "Mapping[str, tuple[int, int]] | Iterable[room_pb2.RoleCapacity]"
KnockStateLike: TypeAlias = "waiting_room_pb2.KnockState.ValueType | int | str"

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def _enum_name(value: str, prefix: str) -> str:
    name = value.strip().upper().replace("-", "_").replace(" ", "_")
    return name if name.startswith(prefix) else prefix + name


def _enum_value(enum: Any, prefix: str, kind: str, value: str | int) -> Any:
    """An enum value from its number or its name (`open`, `invite-only`, `ROLE_PRESENTER`)."""
    if isinstance(value, str):
        try:
            return enum.Value(_enum_name(value, prefix))
        except ValueError:
            raise ValueError(f"unknown {kind} {value!r}") from None
    return enum.ValueType(value)


def role_value(value: RoleLike) -> participant_pb2.Role.ValueType:
    """A role from its number or its name (`presenter`, `ROLE_PRESENTER`)."""
    result: participant_pb2.Role.ValueType = _enum_value(
        participant_pb2.Role, "ROLE_", "role", value
    )
    return result


def room_state_value(value: RoomStateLike) -> room_pb2.RoomState.ValueType:
    """A room state from its number or its name (`open`, `ROOM_STATE_OPEN`)."""
    result: room_pb2.RoomState.ValueType = _enum_value(
        room_pb2.RoomState, "ROOM_STATE_", "room state", value
    )
    return result


def join_policy_value(value: JoinPolicyLike) -> room_pb2.JoinPolicy.ValueType:
    """A join policy from its number or its name (`open`, `invite-only`)."""
    result: room_pb2.JoinPolicy.ValueType = _enum_value(
        room_pb2.JoinPolicy, "JOIN_POLICY_", "join policy", value
    )
    return result


def credential_format_value(value: str | int) -> credentials_pb2.CredentialFormat.ValueType:
    """A credential format from its number or its name (`livekit`, `jitsi`, `rooms`)."""
    result: credentials_pb2.CredentialFormat.ValueType = _enum_value(
        credentials_pb2.CredentialFormat, "CREDENTIAL_FORMAT_", "credential format", value
    )
    return result


def knock_state_value(value: KnockStateLike) -> waiting_room_pb2.KnockState.ValueType:
    """A knock state from its number or its name (`waiting`, `KNOCK_STATE_ADMITTED`)."""
    result: waiting_room_pb2.KnockState.ValueType = _enum_value(
        waiting_room_pb2.KnockState, "KNOCK_STATE_", "knock state", value
    )
    return result


def _role_capacity(values: RoleCapacities) -> list[room_pb2.RoleCapacity]:
    if isinstance(values, Mapping):
        return [
            room_pb2.RoleCapacity(role=role_value(role), max_participants=most, reserved=reserved)
            for role, (most, reserved) in values.items()
        ]
    return list(values)


def _participants(values: Participants) -> list[participant_pb2.Participant]:
    if isinstance(values, Mapping):
        return [
            participant_pb2.Participant(user_id=user_id, role=role_value(role))
            for user_id, role in values.items()
        ]
    return [
        participant_pb2.Participant(user_id=value) if isinstance(value, str) else value
        for value in values
    ]


def _seconds(value: float) -> str:
    """A protobuf JSON duration: `0.2s`, `5s`."""
    return f"{value:.6f}".rstrip("0").rstrip(".") + "s"


@dataclass(frozen=True)
class RetryPolicy:
    """gRPC's retry policy for the idempotent calls (see `service_config`)."""

    max_attempts: int = 4
    initial_backoff: float = 0.2
    max_backoff: float = 5.0
    backoff_multiplier: float = 2.0


def service_config(retry: RetryPolicy | None = None) -> dict[str, Any]:
    """The gRPC service config: retry on UNAVAILABLE for `IDEMPOTENT_METHODS` only."""
    retry = retry or RetryPolicy()
    return {
        "methodConfig": [
            {
                "name": [
                    {"service": service, "method": method}
                    for service, methods in IDEMPOTENT_METHODS.items()
                    for method in methods
                ],
                "retryPolicy": {
                    "maxAttempts": retry.max_attempts,
                    "initialBackoff": _seconds(retry.initial_backoff),
                    "maxBackoff": _seconds(retry.max_backoff),
                    "backoffMultiplier": retry.backoff_multiplier,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }


@dataclass(frozen=True)
class TLS:
    """Transport security. No root certificates: the system's trusted roots. A
    certificate chain with its private key: mutual TLS. `server_name` overrides the
    name the server's certificate must carry (for an address that is not that name)."""

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None
    server_name: str | None = None

    def __post_init__(self) -> None:
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError("mutual TLS needs both a client certificate and its private key")

    @classmethod
    def from_files(
        cls,
        ca: str | os.PathLike[str] | None = None,
        cert: str | os.PathLike[str] | None = None,
        key: str | os.PathLike[str] | None = None,
        *,
        server_name: str | None = None,
    ) -> TLS:
        """TLS from PEM files: the CA to trust, and the client certificate and key."""

        def read(path: str | os.PathLike[str] | None) -> bytes | None:
            if path is None:
                return None
            with open(path, "rb") as file:
                return file.read()

        return cls(read(ca), read(cert), read(key), server_name)

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )


class RoomsClient:
    """The rooms.v1 API over one gRPC channel. Use it as an async context manager,
    or call `close()`."""

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        *,
        api_key: str | None = None,
        tls: TLS | bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = RetryPolicy(),
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        """`address` is `host:port`. `tls=True` uses the system's roots; a `TLS` sets
        the CA, the client certificate and key. `timeout` is the default deadline of
        each call in seconds. `retry=None` turns the retries off."""
        self.address = address
        self.timeout = timeout
        self.tls: TLS | None = TLS() if tls is True else (tls or None)
        channel_options: list[tuple[str, Any]] = [("grpc.enable_retries", 1 if retry else 0)]
        if retry is not None:
            channel_options.append(("grpc.service_config", json.dumps(service_config(retry))))
        if self.tls is not None and self.tls.server_name:
            channel_options.append(("grpc.ssl_target_name_override", self.tls.server_name))
        channel_options.extend(options)
        self.channel_options: tuple[tuple[str, Any], ...] = tuple(channel_options)
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {api_key}"),) if api_key else ()
        )
        if self.tls is None:
            self.channel = grpc.aio.insecure_channel(address, options=self.channel_options)
        else:
            self.channel = grpc.aio.secure_channel(
                address, self.tls.credentials(), options=self.channel_options
            )
        self._rooms = rooms_service_pb2_grpc.RoomsServiceStub(self.channel)
        self._participants = participants_service_pb2_grpc.ParticipantsServiceStub(self.channel)
        self._credentials = credentials_service_pb2_grpc.CredentialsServiceStub(self.channel)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def _call(
        self,
        method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp],
        request: Req,
        timeout: float | None,
    ) -> Resp:
        try:
            return await method(
                request,
                timeout=self.timeout if timeout is None else timeout,
                metadata=self.metadata,
            )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error

    # ---- RoomsService ------------------------------------------------------

    async def create_room(
        self,
        *,
        room_id: str = "",
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        join_policy: JoinPolicyLike = 0,
        open_join_role: RoleLike = 0,
        pstn_dial_out_enabled: bool = False,
        early_entry: timedelta | None = None,
        metadata: Mapping[str, str] | None = None,
        participants: Participants = (),
        waiting_room_enabled: bool = False,
        max_participants: int = 0,
        role_capacity: RoleCapacities = (),
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> room_pb2.Room:
        """Create a room. Unset times take the server's defaults (now, now + 180
        days); naive datetimes are UTC. `participants` is `{user_id: role}` or a list
        of user ids (attendees) or `Participant`s. A `request_id` is generated unless
        given: sending the same one again returns the same room."""
        room = room_pb2.Room(
            join_policy=join_policy_value(join_policy),
            open_join_role=role_value(open_join_role),
            pstn_dial_out_enabled=pstn_dial_out_enabled,
            metadata=dict(metadata or {}),
            waiting_room_enabled=waiting_room_enabled,
            max_participants=max_participants,
            role_capacity=_role_capacity(role_capacity),
        )
        if valid_from is not None:
            room.valid_from.FromDatetime(valid_from)
        if valid_until is not None:
            room.valid_until.FromDatetime(valid_until)
        if early_entry is not None:
            room.early_entry_duration.FromTimedelta(early_entry)
        request = rooms_service_pb2.CreateRoomRequest(
            request_id=request_id or str(uuid.uuid4()),
            room_id=room_id,
            room=room,
            participants=_participants(participants),
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
        token = ""
        while True:
            request = rooms_service_pb2.ListRoomsRequest(
                page_size=page_size,
                page_token=token,
                state=room_state_value(state)
                if state is not None
                else room_pb2.ROOM_STATE_UNSPECIFIED,
            )
            response = await self._call(self._rooms.ListRooms, request, timeout)
            for room in response.rooms:
                yield room
            token = response.next_page_token
            if not token:
                return

    async def update_room(
        self,
        room_id: str,
        *,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        join_policy: JoinPolicyLike | None = None,
        open_join_role: RoleLike | None = None,
        pstn_dial_out_enabled: bool | None = None,
        early_entry: timedelta | None = None,
        metadata: Mapping[str, str] | None = None,
        waiting_room_enabled: bool | None = None,
        max_participants: int | None = None,
        role_capacity: RoleCapacities | None = None,
        etag: str = "",
        timeout: float | None = None,
    ) -> room_pb2.Room:
        """Change the fields given (and only those; `metadata` replaces the whole
        map). With `etag`, only if the room has not changed since (`EtagMismatch`)."""
        room = room_pb2.Room(room_id=room_id, etag=etag)
        paths: list[str] = []
        if valid_from is not None:
            room.valid_from.FromDatetime(valid_from)
            paths.append("valid_from")
        if valid_until is not None:
            room.valid_until.FromDatetime(valid_until)
            paths.append("valid_until")
        if join_policy is not None:
            room.join_policy = join_policy_value(join_policy)
            paths.append("join_policy")
        if open_join_role is not None:
            room.open_join_role = role_value(open_join_role)
            paths.append("open_join_role")
        if pstn_dial_out_enabled is not None:
            room.pstn_dial_out_enabled = pstn_dial_out_enabled
            paths.append("pstn_dial_out_enabled")
        if early_entry is not None:
            room.early_entry_duration.FromTimedelta(early_entry)
            paths.append("early_entry_duration")
        if metadata is not None:
            room.metadata.update(metadata)
            paths.append("metadata")
        if waiting_room_enabled is not None:
            room.waiting_room_enabled = waiting_room_enabled
            paths.append("waiting_room_enabled")
        if max_participants is not None:
            room.max_participants = max_participants
            paths.append("max_participants")
        if role_capacity is not None:
            room.role_capacity.extend(_role_capacity(role_capacity))
            paths.append("role_capacity")
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

    # ---- CredentialsService --------------------------------------------------

    async def get_signing_keys(
        self, *, timeout: float | None = None
    ) -> credentials_service_pb2.GetSigningKeysResponse:
        """The JSON Web Key Set that verifies rooms' own credentials."""
        request = credentials_service_pb2.GetSigningKeysRequest()
        return await self._call(self._credentials.GetSigningKeys, request, timeout)

    async def introspect_credential(
        self, token: str, *, timeout: float | None = None
    ) -> credentials_service_pb2.IntrospectCredentialResponse:
        """Whether a credential still holds now (`active`), and if not, why (`reason`)."""
        request = credentials_service_pb2.IntrospectCredentialRequest(token=token)
        return await self._call(self._credentials.IntrospectCredential, request, timeout)

    # ---- ParticipantsService -------------------------------------------------

    async def add_or_update_participants(
        self,
        room_id: str,
        participants: Participants,
        *,
        etag: str = "",
        timeout: float | None = None,
    ) -> participants_service_pb2.AddOrUpdateParticipantsResponse:
        """Add identities to the roster or change their role: `{user_id: role}`, or
        user ids (attendees) or `Participant`s. Returns them and the room's new etag."""
        request = participants_service_pb2.AddOrUpdateParticipantsRequest(
            room_id=room_id, participants=_participants(participants), etag=etag
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
        token = ""
        while True:
            request = participants_service_pb2.ListParticipantsRequest(
                room_id=room_id,
                page_size=page_size,
                page_token=token,
                role=role_value(role) if role is not None else participant_pb2.ROLE_UNSPECIFIED,
            )
            response = await self._call(self._participants.ListParticipants, request, timeout)
            for participant in response.participants:
                yield participant
            token = response.next_page_token
            if not token:
                return

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
        token = ""
        while True:
            request = participants_service_pb2.ListRoomsForParticipantRequest(
                user_id=user_id,
                page_size=page_size,
                page_token=token,
                state=room_state_value(state)
                if state is not None
                else room_pb2.ROOM_STATE_UNSPECIFIED,
            )
            response = await self._call(
                self._participants.ListRoomsForParticipant, request, timeout
            )
            for membership in response.memberships:
                yield membership
            token = response.next_page_token
            if not token:
                return

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
        token = ""
        while True:
            request = participants_service_pb2.ListKnocksRequest(
                room_id=room_id,
                page_size=page_size,
                page_token=token,
                state=knock_state_value(state)
                if state is not None
                else waiting_room_pb2.KNOCK_STATE_UNSPECIFIED,
            )
            response = await self._call(self._participants.ListKnocks, request, timeout)
            for knock in response.knocks:
                yield knock
            token = response.next_page_token
            if not token:
                return

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
        token = ""
        while True:
            request = participants_service_pb2.ListSeatsRequest(
                room_id=room_id, page_size=page_size, page_token=token
            )
            response = await self._call(self._participants.ListSeats, request, timeout)
            for seat in response.seats:
                yield seat
            token = response.next_page_token
            if not token:
                return

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
        token = ""
        order = (
            events_pb2.EVENT_ORDER_NEWEST_FIRST
            if newest_first
            else events_pb2.EVENT_ORDER_OLDEST_FIRST
        )
        while True:
            request = rooms_service_pb2.ListRoomEventsRequest(
                room_id=room_id, page_size=page_size, page_token=token, order=order, types=types
            )
            response = await self._call(self._rooms.ListRoomEvents, request, timeout)
            for event in response.events:
                yield event
            token = response.next_page_token
            if not token:
                return

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
