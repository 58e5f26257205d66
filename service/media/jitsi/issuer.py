"""Jitsi Meet tokens (prosody token authentication, HS256 with the tenant's secret): the
capability -> feature/moderator table (the README shows it), the claims of a join
token, and reading one back for introspection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.admission import Capability
from service.domain.credentials import (
    CredentialGrant,
    UnreadableClaims,
    common_claims,
    grant_from_claims,
)
from service.media.base import TenantIssuer
from service.media.jitsi.config import JitsiConfig
from service.security.tokens import sign_hs256, verify

# Jitsi `context.features` granted by each capability; the other features are false.
FEATURES: Mapping[str, frozenset[Capability]] = {
    "screen-sharing": frozenset({Capability.SHARE_SCREEN}),
    "outbound-call": frozenset({Capability.DIAL_OUT}),
    "livestreaming": frozenset(),
    "recording": frozenset(),
    "transcription": frozenset(),
}
# Jitsi `context.user.moderator`: roles that may mute or remove others.
MODERATOR = frozenset({Capability.MUTE_OTHERS, Capability.REMOVE_PARTICIPANTS})


def jitsi_claims(grant: CredentialGrant, config: JitsiConfig) -> dict[str, Any]:
    """The claims of a Jitsi Meet token for `grant` under the tenant's configuration."""
    caps = grant.capabilities
    return {
        **common_claims(grant),
        "iss": config.app_id,
        "aud": config.audience,
        "sub": config.subject,
        "room": grant.room_id,
        "context": {
            "user": {
                "id": grant.user_id,
                "name": grant.display_name,
                "moderator": bool(caps & MODERATOR),
            },
            "features": {name: bool(caps & needs) for name, needs in FEATURES.items()},
        },
    }


def _locate(claims: Mapping[str, Any]) -> tuple[object, object]:
    return claims["room"], claims["context"]["user"]["id"]


class JitsiIssuer(TenantIssuer[JitsiConfig]):
    """The Jitsi credentials of every tenant with a `jitsi` table."""

    def sign(self, grant: CredentialGrant) -> str:
        config = self._configs[grant.tenant]
        return sign_hs256(jitsi_claims(grant, config), config.secret.reveal())

    def recognises(self, claims: Mapping[str, Any]) -> bool:
        return "context" in claims

    def read(self, tenant: str, token: str) -> CredentialGrant:
        config = self._configs.get(tenant)
        if config is None:
            raise UnreadableClaims("the tenant has no Jitsi configuration")
        claims = verify(
            token,
            config.secret.reveal(),
            "HS256",
            issuer=config.app_id,
            audience=config.audience,
        )
        return grant_from_claims(tenant, claims, _locate)
