"""The channel under every call: address, TLS, API key, deadlines, retries, errors,
and the one paging loop every List method uses."""

# Every `timeout` here is the call's gRPC deadline, sent to the server with the call
# (which stops its work when it passes), not a local wait: asyncio.timeout can't do that.
# ruff: noqa: ASYNC109

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import grpc

from rooms.errors import from_rpc_error
from rooms.v1 import (
    calendar_service_pb2_grpc,
    credentials_service_pb2_grpc,
    participants_service_pb2_grpc,
    rooms_service_pb2_grpc,
    webhooks_service_pb2_grpc,
)

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 10.0

ROOMS_SERVICE = "rooms.v1.RoomsService"
PARTICIPANTS_SERVICE = "rooms.v1.ParticipantsService"
CREDENTIALS_SERVICE = "rooms.v1.CredentialsService"
WEBHOOKS_SERVICE = "rooms.v1.WebhooksService"
CALENDAR_SERVICE = "rooms.v1.CalendarService"

# The calls that may be sent twice without a second effect: the reads, CreateRoom
# (this client always sends a request_id) and DeleteRoom (deleting a deleted room
# succeeds). UpdateRoom and the roster changes are not retried: repeated after a lost
# answer, their etag-conditional forms would fail with ETAG_MISMATCH. Of the webhook
# calls only the reads are: CreateWebhook has no request id (a repeat would make a
# second webhook, or WEBHOOK_ALREADY_EXISTS), and DeleteWebhook of a deleted webhook
# is WEBHOOK_NOT_FOUND. Likewise of the calendar feed calls only the list is.
IDEMPOTENT_METHODS: Mapping[str, tuple[str, ...]] = {
    ROOMS_SERVICE: (
        "CreateRoom",
        "GetRoom",
        "ListRooms",
        "DeleteRoom",
        "AuthorizeJoin",
        "ListRoles",
        "ListOccurrences",
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
    WEBHOOKS_SERVICE: ("GetWebhook", "ListWebhooks"),
    CALENDAR_SERVICE: ("ListCalendarFeeds",),
}


class PagedRequest(Protocol):
    page_token: str


class PagedResponse(Protocol):
    @property
    def next_page_token(self) -> str: ...


Req = TypeVar("Req")
Resp = TypeVar("Resp")
PagedReq = TypeVar("PagedReq", bound=PagedRequest)
PagedResp = TypeVar("PagedResp", bound=PagedResponse)
Item = TypeVar("Item")


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


class Channel:
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
        self._webhooks = webhooks_service_pb2_grpc.WebhooksServiceStub(self.channel)
        self._calendar = calendar_service_pb2_grpc.CalendarServiceStub(self.channel)

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

    async def _pages(
        self,
        method: grpc.aio.UnaryUnaryMultiCallable[PagedReq, PagedResp],
        request: PagedReq,
        items: Callable[[PagedResp], Iterable[Item]],
        timeout: float | None,
    ) -> AsyncIterator[Item]:
        """Every item of a paged list, fetched a page at a time (`timeout` is per page),
        following `next_page_token` until it is empty."""
        while True:
            response = await self._call(method, request, timeout)
            for item in items(response):
                yield item
            if not response.next_page_token:
                return
            request.page_token = response.next_page_token
