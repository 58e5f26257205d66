"""Protobuf messages <-> domain values for admission: join decisions, credentials and
their introspection, knocks, roles and capabilities. Bad wire values become
INVALID_ARGUMENT. Times, rooms, rosters, seats and events are in convert.py."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from rooms.v1 import (
    admission_pb2,
    credentials_pb2,
    credentials_service_pb2,
    rooms_service_pb2,
    waiting_room_pb2,
)

from service.domain.admission import ROLE_CAPABILITIES, Capability, JoinDecision
from service.domain.credentials import (
    CredentialFormat,
    CredentialGrant,
    IssuedCredential,
    Verdict,
)
from service.domain.errors import Violations
from service.domain.waiting_room import Knock, KnockState
from service.transport.convert import duration, seat_out, times_out, timestamp
from service.transport.vocabulary import (
    CAPABILITIES,
    CAPACITY_LIMITS,
    CREDENTIAL_FORMATS,
    CREDENTIAL_STATUSES,
    JOIN_REASONS,
    KNOCK_STATES,
    ROLES,
)


def knock_state_filter(violations: Violations, field: str, number: int) -> KnockState | None:
    return KNOCK_STATES.optional_in(violations, field, number)


def knock_out(knock: Knock) -> waiting_room_pb2.Knock:
    message = waiting_room_pb2.Knock(
        user_id=knock.user_id,
        display_name=knock.display_name or "",
        state=KNOCK_STATES.out(knock.state),
    )
    if knock.role is not None:
        message.role = ROLES.to_proto[knock.role]
    times_out(
        message,
        first_knock_time=knock.first_knock_time,
        last_knock_time=knock.last_knock_time,
        decide_time=knock.decide_time,
    )
    return message


@functools.cache
def _sorted_capabilities(
    capabilities: frozenset[Capability],
) -> tuple[admission_pb2.Capability.ValueType, ...]:
    return tuple(sorted(CAPABILITIES.out(c) for c in capabilities))


def capabilities_out(
    capabilities: Iterable[Capability],
) -> tuple[admission_pb2.Capability.ValueType, ...]:
    """Capabilities in the enum's order, so answers are stable. (Only a few distinct
    sets exist: one per role, with and without dial-out.)"""
    return _sorted_capabilities(frozenset(capabilities))


def role_definitions() -> list[admission_pb2.RoleDefinition]:
    return [
        admission_pb2.RoleDefinition(
            role=ROLES.to_proto[role],
            name=role.value,
            capabilities=capabilities_out(capabilities),
        )
        for role, capabilities in ROLE_CAPABILITIES.items()
    ]


def credential_format_in(
    violations: Violations, field: str, number: int
) -> CredentialFormat | None:
    """A requested format; None for unspecified (no credential, or: recognise it)."""
    return CREDENTIAL_FORMATS.optional_in(violations, field, number)


def credential_out(credential: IssuedCredential) -> credentials_pb2.JoinCredential:
    janus = credential.janus
    return credentials_pb2.JoinCredential(
        format=CREDENTIAL_FORMATS.to_proto[credential.format],
        token=credential.token,
        expire_time=timestamp(credential.expire_time),
        server_url=credential.server_url,
        janus=(
            credentials_pb2.JanusJoin(
                room=janus.room,
                participant_id=janus.participant_id,
                join_token=janus.join_token,
                may_publish=janus.may_publish,
            )
            if janus is not None
            else None
        ),
    )


def introspection_out(
    verdict: Verdict, found: CredentialFormat | None, grant: CredentialGrant | None
) -> credentials_service_pb2.IntrospectCredentialResponse:
    response = credentials_service_pb2.IntrospectCredentialResponse(
        active=verdict.active,
        reason=CREDENTIAL_STATUSES.out(verdict.status),
        message=verdict.message,
    )
    if found is not None:
        response.format = CREDENTIAL_FORMATS.to_proto[found]
    if grant is not None:
        response.room_id = grant.room_id
        response.user_id = grant.user_id
        response.role = ROLES.to_proto[grant.role]
        response.capabilities.extend(capabilities_out(grant.capabilities))
        response.issue_time.CopyFrom(timestamp(grant.issue_time))
        response.expire_time.CopyFrom(timestamp(grant.expire_time))
        response.credential_id = grant.credential_id
    return response


def decision_out(
    decision: JoinDecision, credential: IssuedCredential | None = None
) -> rooms_service_pb2.AuthorizeJoinResponse:
    response = rooms_service_pb2.AuthorizeJoinResponse(
        allowed=decision.allowed,
        reason=JOIN_REASONS.out(decision.reason),
        capabilities=capabilities_out(decision.capabilities),
        message=decision.message,
    )
    if decision.role is not None:
        response.role = ROLES.to_proto[decision.role]
    times_out(
        response,
        valid_from=decision.valid_from,
        valid_until=decision.valid_until,
        opens_at=decision.opens_at,
    )
    if decision.opens_in is not None:
        response.opens_in.CopyFrom(duration(decision.opens_in))
    if credential is not None:
        response.credential.CopyFrom(credential_out(credential))
    if decision.seat is not None:
        response.seat.CopyFrom(seat_out(decision.seat))
    if decision.full is not None:
        response.capacity_limit = CAPACITY_LIMITS.out(decision.full.limit)
        response.capacity = decision.full.capacity
    return response
