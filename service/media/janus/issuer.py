"""Janus credentials: a Janus core token (HMAC-SHA1 with the tenant's
`token_auth_secret`, `tokens.core_token`) and the VideoRoom values a client's `join`
carries (room number, participant id, join token), derived from the tenant's secrets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.domain.credentials import CredentialGrant, JanusJoin, UnreadableClaims
from service.domain.janus import role_permissions
from service.domain.models import Role
from service.media.base import TenantIssuer
from service.media.janus import tokens
from service.media.janus.config import JanusConfig


class JanusIssuer(TenantIssuer[JanusConfig]):
    """The Janus credentials of every tenant with a `janus` table."""

    def sign(self, grant: CredentialGrant) -> str:
        config = self._configs[grant.tenant]
        return tokens.core_token(config.token_auth_key, grant.expire_time)

    def recognises(self, claims: Mapping[str, Any]) -> bool:
        return False  # a core token is not a JWT

    def read(self, tenant: str, token: str) -> CredentialGrant:
        # A core token names no room and no identity: Janus judges it (its expiry) and
        # the VideoRoom's allowed list judges the join token.
        raise UnreadableClaims("a Janus core token is checked by Janus itself")

    def media_join(
        self, tenant: str, room_id: str, user_id: str, role: Role, epoch: int, until: datetime
    ) -> JanusJoin | None:
        config = self._configs[tenant]
        return JanusJoin(
            room=tokens.room_number(tenant, room_id),
            participant_id=tokens.participant_id(tenant, room_id, user_id),
            join_token=tokens.join_token(
                config.token_auth_key, tenant, room_id, user_id, epoch, until
            ),
            may_publish=role_permissions(role).publish,
        )
