"""LiveKit access tokens (HS256 with the tenant's API secret): the claims of a join
token from its typed grants (`grants`), and reading one back for introspection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.credentials import (
    CredentialGrant,
    UnreadableClaims,
    common_claims,
    grant_from_claims,
    role_name,
)
from service.media.base import TenantIssuer
from service.media.livekit.config import LiveKitConfig
from service.media.livekit.grants import ROLE_ATTRIBUTE, join_grant, sip_grant
from service.security.tokens import sign_hs256, verify


def livekit_claims(grant: CredentialGrant, api_key: str) -> dict[str, Any]:
    """The claims of a LiveKit access token for `grant`, issued by `api_key`."""
    return {
        **common_claims(grant),
        "iss": api_key,
        "name": grant.display_name,
        "kind": "standard",
        "video": join_grant(grant.room_id, grant.capabilities).claim(),
        "sip": sip_grant(grant.capabilities).claim(),
        "attributes": {ROLE_ATTRIBUTE: role_name(grant.role)},
    }


def _locate(claims: Mapping[str, Any]) -> tuple[object, object]:
    return claims["video"]["room"], claims["sub"]


class LiveKitIssuer(TenantIssuer[LiveKitConfig]):
    """The LiveKit credentials of every tenant with a `livekit` table."""

    def sign(self, grant: CredentialGrant) -> str:
        config = self._configs[grant.tenant]
        return sign_hs256(livekit_claims(grant, config.api_key), config.api_secret.reveal())

    def recognises(self, claims: Mapping[str, Any]) -> bool:
        return "video" in claims

    def read(self, tenant: str, token: str) -> CredentialGrant:
        config = self._configs.get(tenant)
        if config is None:
            raise UnreadableClaims("the tenant has no LiveKit configuration")
        claims = verify(token, config.api_secret.reveal(), "HS256", issuer=config.api_key)
        return grant_from_claims(tenant, claims, _locate)
