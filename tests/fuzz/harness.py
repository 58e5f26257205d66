"""The fuzzed server as the fuzz tests see it (`Fuzz`): its stubs and key, what the
fuzzing learnt (looked up by the references the strategies draw), one call sent and its
answer checked, and a tally of what ran."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from hypothesis import note
from rooms.v1 import participants_service_pb2_grpc, rooms_service_pb2_grpc

from tests.fuzz.references import BUCKET_SIZE, Known, Later
from tests.fuzz.sending import Sending
from tests.shared.errors import LoggedErrors, RichError, rich_error, status_of

if TYPE_CHECKING:
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub

Request = TypeVar("Request")
Response = TypeVar("Response")
Metadata = tuple[tuple[str, str | bytes], ...]

CALL_TIMEOUT = 30.0

Code = grpc.StatusCode
ALLOWED = {
    Code.OK,
    Code.INVALID_ARGUMENT,
    Code.NOT_FOUND,
    Code.ALREADY_EXISTS,
    Code.ABORTED,
    Code.RESOURCE_EXHAUSTED,
    Code.FAILED_PRECONDITION,
}
# The ErrorInfo reasons each code may come with (README, "Errors").
REASONS = {
    Code.INVALID_ARGUMENT: {
        "INVALID_ARGUMENT",
        "INVALID_WINDOW",
        "INVALID_PAGE_TOKEN",
        "REQUEST_ID_REUSED",
        "BATCH_TOO_LARGE",
        "DUPLICATE_USER_ID",
    },
    Code.NOT_FOUND: {"ROOM_NOT_FOUND", "PARTICIPANT_NOT_FOUND"},
    Code.ALREADY_EXISTS: {"ROOM_ALREADY_EXISTS"},
    Code.ABORTED: {"ETAG_MISMATCH"},
    Code.RESOURCE_EXHAUSTED: {"ROSTER_FULL"},
    Code.FAILED_PRECONDITION: set(),
    Code.UNAUTHENTICATED: {"UNAUTHENTICATED"},
}
ROLES = {"presenter", "attendee", "consumer", "collaborator"}
JOIN_POLICIES = {"invite_only", "open"}


@dataclass(frozen=True)
class Envelope:
    """The call metadata of one case, and whether it may be refused as unauthenticated."""

    metadata: Metadata
    refusal: str  # "never", "may", "must"


def checked_error(error: grpc.aio.AioRpcError) -> RichError:
    """The details of a failed call: a google.rpc.Status of the call's code, with an
    ErrorInfo and a RequestInfo (`rich_error` fails the test without them)."""
    status, _ = status_of(error)
    assert status.code == error.code().value[0]
    return rich_error(error)


def stubs(channel: grpc.aio.Channel) -> tuple[RoomsServiceAsyncStub, ParticipantsServiceAsyncStub]:
    rooms: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channel)
    participants: ParticipantsServiceAsyncStub = (
        participants_service_pb2_grpc.ParticipantsServiceStub(channel)
    )
    return rooms, participants


@dataclass
class Fuzz:
    """The fuzzed server, a key for it, and what the fuzzing learnt along the way."""

    tenant: str
    auth: tuple[str, str]
    rooms: RoomsServiceAsyncStub
    participants: ParticipantsServiceAsyncStub
    channel: grpc.aio.Channel
    target: str
    server_errors: LoggedErrors  # what the server logs at ERROR while fuzzing
    # Seeds first (they are never evicted), then what the fuzzing learnt.
    known: dict[str, list[str]] = field(
        default_factory=lambda: {"rooms": [], "users": [], "tokens": [], "deleted": []}
    )
    cases: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    error_fields: Counter[str] = field(default_factory=Counter)  # "rpc field" of errors

    def __repr__(self) -> str:  # as hypothesis shows the fixture with a failing example
        sizes = ", ".join(f"{bucket}: {len(values)}" for bucket, values in self.known.items())
        return f"Fuzz(tenant={self.tenant!r}, known={{{sizes}}})"

    # ---- what the fuzzing learnt -------------------------------------------------------

    def remember(self, bucket: str, value: str) -> None:
        values = self.known[bucket]
        if value and len(value) <= 256 and value not in values:
            values.append(value)
            if len(values) > BUCKET_SIZE:
                del values[len(values) // 2]

    def resolve(self, drawn: Any) -> Any:
        """The drawn value with its references looked up now (see strategies.Known)."""
        if isinstance(drawn, Known):
            values = self.known[drawn.bucket]
            value = values[drawn.index % len(values)] if values else "never-seen"
            note(f"{drawn!r} is {value!r}")
            return value
        if isinstance(drawn, Later):
            return drawn.build(**{name: self.resolve(v) for name, v in drawn.fields.items()})
        if isinstance(drawn, list | tuple):
            return type(drawn)(self.resolve(value) for value in drawn)
        return drawn

    # ---- one call ----------------------------------------------------------------------

    def envelope(self, sending: Sending) -> Envelope:
        junk: tuple[str, str | bytes] = ("authorization", sending.junk)
        extra = sending.extra
        if sending.how == "valid":
            return Envelope((self.auth, *extra), "never")
        if sending.how == "after":
            return Envelope((self.auth, *extra, junk), "never")
        if sending.how == "before":
            return Envelope((junk, self.auth, *extra), "may")
        if sending.how == "instead":
            return Envelope((junk, *extra), "must")
        return Envelope(extra, "must")

    async def send(
        self,
        method: grpc.aio.UnaryUnaryMultiCallable[Request, Response],
        request: Request,
        sending: Sending = Sending(),  # noqa: B008 (frozen)
    ) -> Response | None:
        """Send one fuzzed call and check its status; the response when OK. Every call
        answers OK or one of the precise codes (UNAUTHENTICATED only when the key was
        junk), with an ErrorInfo whose reason fits the code."""
        rpc = type(request).__name__.removesuffix("Request")
        env = self.envelope(sending)
        self.cases[rpc] += 1
        try:
            response = await method(request, metadata=env.metadata, timeout=CALL_TIMEOUT)
        except grpc.aio.AioRpcError as error:
            code = error.code()
            note(f"{rpc} -> {code.name}: {(error.details() or '')[:300]}")
            allowed = ALLOWED | ({Code.UNAUTHENTICATED} if env.refusal != "never" else set())
            assert code in allowed, f"{rpc} answered {code.name}: {error.details()}"
            if env.refusal == "must":
                assert code == Code.UNAUTHENTICATED, f"{rpc} answered {code.name} without a key"
            info = checked_error(error)
            assert info.domain == "rooms.v1", info
            assert info.reason in REASONS[code], f"{rpc}: reason {info.reason} with {code.name}"
            self.outcomes[info.reason] += 1
            if "field" in info.metadata:
                self.error_fields[f"{rpc} {info.metadata['field'][:40]}"] += 1
            return None
        note(f"{rpc} -> OK")
        assert env.refusal != "must", f"{rpc} succeeded without a valid key"
        self.outcomes["OK"] += 1
        return response

    # ---- what ran ----------------------------------------------------------------------

    def report(self) -> str:
        lines = [f"[fuzz] {sum(self.cases.values())} hypothesis cases ran against the server"]
        lines += [f"[fuzz]   {rpc}: {count}" for rpc, count in sorted(self.cases.items())]
        lines.append(f"[fuzz] outcomes: {dict(sorted(self.outcomes.items()))}")
        common = ", ".join(f"{name} ({n})" for name, n in self.error_fields.most_common(12))
        lines.append(f"[fuzz] fields most often rejected: {common}")
        return "\n".join(lines)
