"""Join credentials: what a signed credential says, and whether one still holds.

This module is the one place of the credential lifetime rule, of the claims every JWT
format shares (`common_claims`, read back by `grant_from_claims`), of rooms' own token
and of the introspection verdict. Each media server's own claims (LiveKit's grants,
Jitsi's features) are built by its issuer in `service.media.<server>`; signing and
verifying signatures happen in `service.security`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from service.domain.admission import Capability, JoinReason, decide_join
from service.domain.errors import DomainError, ErrorReason
from service.domain.models import NO_OWN_WINDOW, ParticipantWindow, Role, Room


class CredentialFormat(StrEnum):
    """The kinds of credential (mirror `rooms.v1.CredentialFormat`)."""

    LIVEKIT = "livekit"
    JITSI = "jitsi"
    ROOMS = "rooms"
    JANUS = "janus"


def not_configured(format: CredentialFormat) -> DomainError:
    """CREDENTIALS_NOT_CONFIGURED: the tenant has no configuration for `format`."""
    name = f"CREDENTIAL_FORMAT_{format.name}"
    return DomainError(
        ErrorReason.CREDENTIALS_NOT_CONFIGURED,
        f"credential_format: {name} is not configured for this tenant",
        metadata={"format": name, "field": "credential_format"},
    )


class CredentialStatus(StrEnum):
    """Whether a credential holds now, and if not why (`rooms.v1.CredentialStatusReason`)."""

    ACTIVE = "active"
    INVALID = "invalid"
    EXPIRED = "expired"
    ROOM_DELETED = "room_deleted"
    OUTSIDE_WINDOW = "outside_window"
    REMOVED = "removed"
    BANNED = "banned"
    ROLE_CHANGED = "role_changed"
    READDED = "readded"
    NOT_ADMITTED = "not_admitted"


def role_name(role: Role) -> str:
    """The wire (enum) name of a role: `ROLE_ATTENDEE`."""
    return f"ROLE_{role.value.upper()}"


def capability_name(capability: Capability) -> str:
    """The wire (enum) name of a capability: `CAPABILITY_SPEAK`."""
    return f"CAPABILITY_{capability.value.upper()}"


_ROLE_BY_NAME = {role_name(role): role for role in Role}
_CAPABILITY_BY_NAME = {capability_name(c): c for c in Capability}
_CAPABILITY_ORDER = {capability: index for index, capability in enumerate(Capability)}


def sorted_capabilities(capabilities: frozenset[Capability]) -> list[Capability]:
    return sorted(capabilities, key=_CAPABILITY_ORDER.__getitem__)


# ---- what a credential says ------------------------------------------------


@dataclass(frozen=True, slots=True)
class CredentialGrant:
    """Everything a credential carries, whatever its format."""

    tenant: str
    room_id: str
    user_id: str
    role: Role
    capabilities: frozenset[Capability]
    issue_time: datetime  # nbf: the decision's time, whole seconds
    expire_time: datetime  # exp, whole seconds
    # The room's version when the decision was made (the `rev` claim): a removal
    # recorded at a later version of the room happened after the credential was issued.
    version: int
    display_name: str = ""
    credential_id: str = ""  # jti (rooms format)


def _seconds(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def lifetime(now: datetime, valid_until: datetime, ttl: timedelta) -> tuple[datetime, datetime]:
    """(nbf, exp) of a credential issued at `now`: nbf is the decision's time (never in
    the future: rounded down to whole seconds), exp = min(now + ttl, valid_until)
    rounded down, so a credential never outlives its room's window."""
    return _moment(_seconds(now)), _moment(_seconds(min(now + ttl, valid_until)))


def common_claims(grant: CredentialGrant) -> dict[str, Any]:
    """The claims every JWT format carries: identity, times, role, capabilities, version."""
    return {
        "sub": grant.user_id,
        "nbf": _seconds(grant.issue_time),
        "exp": _seconds(grant.expire_time),
        "role": role_name(grant.role),
        "capabilities": [capability_name(c) for c in sorted_capabilities(grant.capabilities)],
        "rev": grant.version,  # the room's version, not an event's revision
    }


def rooms_claims(grant: CredentialGrant, issuer: str, audience: str) -> dict[str, Any]:
    """The claims of rooms' own token (ES256, verified with the published JWKS)."""
    claims = {
        **common_claims(grant),
        "iss": issuer,
        "aud": audience,
        "iat": _seconds(grant.issue_time),
        "jti": grant.credential_id,
        "tenant": grant.tenant,
        "room_id": grant.room_id,
    }
    if grant.display_name:
        claims["name"] = grant.display_name
    return claims


class UnreadableClaims(ValueError):
    """The claims are not those of a credential this service issues."""


# Where a format carries the room and the identity in its claims.
Locate = Callable[[Mapping[str, Any]], tuple[object, object]]


def grant_from_claims(tenant: str, claims: Mapping[str, Any], locate: Locate) -> CredentialGrant:
    """Read back the grant of a verified token's claims (the inverse of the builders);
    `locate` finds the room and identity where the token's format carries them."""
    try:
        room_id, user_id = locate(claims)
        role = _ROLE_BY_NAME[claims["role"]]
        capabilities = frozenset(_CAPABILITY_BY_NAME[name] for name in claims["capabilities"])
        version = claims["rev"]  # the room's version at the decision
        nbf, exp = claims["nbf"], claims["exp"]
        if not all(isinstance(v, int) for v in (version, nbf, exp)):
            raise UnreadableClaims("rev, nbf and exp must be integers")
        if not (isinstance(room_id, str) and isinstance(user_id, str)):
            raise UnreadableClaims("room and identity must be strings")
        return CredentialGrant(
            tenant=tenant,
            room_id=room_id,
            user_id=user_id,
            role=role,
            capabilities=capabilities,
            issue_time=_moment(nbf),
            expire_time=_moment(exp),
            version=version,
            display_name=str(claims.get("name", "")),
            credential_id=str(claims.get("jti", "")),
        )
    except (KeyError, TypeError) as error:
        raise UnreadableClaims(f"missing or malformed claim: {error}") from error


def rooms_grant(tenant: str, claims: Mapping[str, Any]) -> CredentialGrant:
    """The grant of a verified rooms token, which names its tenant: another's is refused."""

    def locate(found: Mapping[str, Any]) -> tuple[object, object]:
        if found["tenant"] != tenant:
            raise UnreadableClaims("another tenant's credential")
        return found["room_id"], found["sub"]

    return grant_from_claims(tenant, claims, locate)


@dataclass(frozen=True, slots=True)
class StoredSigningKey:
    """A signing key as stored: the private key as PKCS#8 PEM, the public one as JWK."""

    key_id: str
    algorithm: str
    private_key: str
    public_jwk: Mapping[str, Any]
    create_time: datetime
    activate_time: datetime

    def __repr__(self) -> str:
        return f"StoredSigningKey(key_id={self.key_id!r}, activate_time={self.activate_time})"


@dataclass(frozen=True, slots=True)
class JanusJoin:
    """What a Janus client's VideoRoom `join` carries (see service.domain.janus)."""

    room: int
    participant_id: int
    join_token: str
    may_publish: bool

    def __repr__(self) -> str:
        return f"JanusJoin(room={self.room}, participant_id={self.participant_id})"


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A signed credential as AuthorizeJoin returns it."""

    format: CredentialFormat
    token: str
    expire_time: datetime
    server_url: str
    janus: JanusJoin | None = None

    def __repr__(self) -> str:
        return f"IssuedCredential(format={self.format}, expire_time={self.expire_time})"


# ---- does it still hold? ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Removal:
    """The last removal of an identity from a room (whether or not it was rostered)."""

    version: int  # the room's version the removal produced
    banned: bool


@dataclass(frozen=True, slots=True)
class Verdict:
    status: CredentialStatus
    message: str

    @property
    def active(self) -> bool:
        return self.status is CredentialStatus.ACTIVE


def judge(
    grant: CredentialGrant,
    now: datetime,
    room: Room | None,
    rostered_role: Role | None,
    removal: Removal | None,
    window: ParticipantWindow = NO_OWN_WINDOW,
) -> Verdict:
    """Whether a credential with a good signature still holds at `now`, given the room,
    the identity's roster entry and its last removal as they are now.

    In order: expired; room deleted; banned; removed after issue (READDED when the
    identity is back on the roster); the join decision as it would be now (not
    admitted, outside the window); a different role or capabilities."""
    if not grant.issue_time <= now < grant.expire_time:
        return Verdict(CredentialStatus.EXPIRED, "The credential has expired.")
    if room is None:
        return Verdict(CredentialStatus.ROOM_DELETED, "The room no longer exists.")
    if removal is not None and removal.banned:
        return Verdict(CredentialStatus.BANNED, "The identity is banned from the room.")
    if removal is not None and removal.version > grant.version:
        if rostered_role is not None:
            return Verdict(
                CredentialStatus.READDED,
                "The identity was removed and added again since the credential was issued.",
            )
        return Verdict(CredentialStatus.REMOVED, "The identity was removed from the room.")
    decision = decide_join(room, rostered_role, now, window=window)
    if decision.reason is JoinReason.NOT_INVITED:
        return Verdict(CredentialStatus.NOT_ADMITTED, "The room no longer admits the identity.")
    if not decision.allowed:
        return Verdict(CredentialStatus.OUTSIDE_WINDOW, "The room is not open to the identity now.")
    if decision.role != grant.role or decision.capabilities != grant.capabilities:
        return Verdict(
            CredentialStatus.ROLE_CHANGED,
            "The identity's role or capabilities changed since the credential was issued.",
        )
    return Verdict(CredentialStatus.ACTIVE, "The credential is active.")
