"""Signing and reading join credentials with PyJWT: LiveKit and Jitsi tokens (HS256 with
the tenant's own secret from the media configuration), and rooms' own tokens (ES256
with the signing keys). The claims themselves come from `service.domain.credentials`.
Janus credentials are Janus core tokens (HMAC-SHA1, `service.domain.janus`), with the
VideoRoom values derived from the tenant's Janus room secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import jwt
from jwt.types import Options

from service.domain import janus
from service.domain.clock import Clock
from service.domain.credentials import (
    CredentialFormat,
    CredentialGrant,
    JanusJoin,
    UnreadableClaims,
    grant_from_claims,
    jitsi_claims,
    livekit_claims,
    rooms_claims,
)
from service.domain.models import Role
from service.security.signing import ALGORITHM, SigningKeys


# What signing needs of the media configuration (`service.media_config.MediaConfig` is
# one), described here so that security does not import the configuration of the media
# adapters (the Janus adapter's among them).
class _Secret(Protocol):
    def reveal(self) -> str: ...


class _LiveKit(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def api_secret(self) -> _Secret: ...


class _Jitsi(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def app_id(self) -> str: ...
    @property
    def secret(self) -> _Secret: ...
    @property
    def audience(self) -> str: ...
    @property
    def subject(self) -> str: ...


class _Janus(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def token_auth_key(self) -> bytes: ...


class MediaSecrets(Protocol):
    """Each tenant's media servers and their secrets (None: not configured)."""

    def livekit_for(self, tenant: str) -> _LiveKit | None: ...
    def jitsi_for(self, tenant: str) -> _Jitsi | None: ...
    def janus_for(self, tenant: str) -> _Janus | None: ...


# Times are judged by the domain (with the injectable clock), not by PyJWT.
_NO_TIME_CHECKS: Options = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "require": ["exp", "nbf", "sub"],
}
# A token longer than this is not one of ours.
MAX_TOKEN_LENGTH = 8192


class Credentials:
    """The `CredentialSigner` of the server."""

    def __init__(
        self,
        media: MediaSecrets,
        keys: SigningKeys,
        clock: Clock,
        *,
        issuer: str,
        audience: str,
    ) -> None:
        self._media = media
        self._keys = keys
        self._clock = clock
        self.issuer = issuer
        self.audience = audience

    def configured(self, tenant: str, format: CredentialFormat) -> bool:
        if format is CredentialFormat.LIVEKIT:
            return self._media.livekit_for(tenant) is not None
        if format is CredentialFormat.JITSI:
            return self._media.jitsi_for(tenant) is not None
        if format is CredentialFormat.JANUS:
            return self._media.janus_for(tenant) is not None
        return True

    def server_url(self, tenant: str, format: CredentialFormat) -> str:
        if format is CredentialFormat.LIVEKIT:
            livekit = self._media.livekit_for(tenant)
            return livekit.url if livekit else ""
        if format is CredentialFormat.JITSI:
            jitsi = self._media.jitsi_for(tenant)
            return jitsi.url if jitsi else ""
        if format is CredentialFormat.JANUS:
            config = self._media.janus_for(tenant)
            return config.url if config else ""
        return ""

    def sign(self, format: CredentialFormat, grant: CredentialGrant) -> str:
        if format is CredentialFormat.LIVEKIT:
            livekit = self._media.livekit_for(grant.tenant)
            assert livekit is not None, "checked by configured()"
            claims = livekit_claims(grant, livekit.api_key)
            return jwt.encode(claims, livekit.api_secret.reveal(), algorithm="HS256")
        if format is CredentialFormat.JITSI:
            jitsi = self._media.jitsi_for(grant.tenant)
            assert jitsi is not None, "checked by configured()"
            claims = jitsi_claims(grant, jitsi.app_id, jitsi.audience, jitsi.subject)
            return jwt.encode(claims, jitsi.secret.reveal(), algorithm="HS256")
        if format is CredentialFormat.JANUS:
            config = self._media.janus_for(grant.tenant)
            assert config is not None, "checked by configured()"
            return janus.core_token(config.token_auth_key, grant.expire_time)
        key = self._keys.signer(self._clock.now())
        claims = rooms_claims(grant, self.issuer, self.audience)
        return jwt.encode(
            claims, key.private, algorithm=ALGORITHM, headers={"kid": key.key_id, "typ": "JWT"}
        )

    def janus_join(
        self, tenant: str, room_id: str, user_id: str, role: Role, epoch: int, until: datetime
    ) -> JanusJoin:
        config = self._media.janus_for(tenant)
        assert config is not None, "checked by configured()"
        return JanusJoin(
            room=janus.room_number(tenant, room_id),
            participant_id=janus.participant_id(tenant, room_id, user_id),
            join_token=janus.join_token(
                config.token_auth_key, tenant, room_id, user_id, epoch, until
            ),
            may_publish=janus.role_permissions(role).publish,
        )

    def _recognise(self, token: str) -> CredentialFormat:
        header = jwt.get_unverified_header(token)
        if header.get("alg") == ALGORITHM:
            return CredentialFormat.ROOMS
        claims = jwt.decode(token, options={"verify_signature": False})
        if "video" in claims:
            return CredentialFormat.LIVEKIT
        if "context" in claims:
            return CredentialFormat.JITSI
        raise UnreadableClaims("not a credential format this service issues")

    def _verify(self, tenant: str, token: str, format: CredentialFormat) -> dict[str, Any]:
        if format is CredentialFormat.JANUS:
            # A core token names no room and no identity: Janus judges it (its expiry)
            # and the VideoRoom's allowed list judges the join token.
            raise UnreadableClaims("a Janus core token is checked by Janus itself")
        if format is CredentialFormat.LIVEKIT:
            livekit = self._media.livekit_for(tenant)
            if livekit is None:
                raise UnreadableClaims("the tenant has no LiveKit configuration")
            return jwt.decode(
                token,
                livekit.api_secret.reveal(),
                algorithms=["HS256"],
                issuer=livekit.api_key,
                options=_NO_TIME_CHECKS,
            )
        if format is CredentialFormat.JITSI:
            jitsi = self._media.jitsi_for(tenant)
            if jitsi is None:
                raise UnreadableClaims("the tenant has no Jitsi configuration")
            return jwt.decode(
                token,
                jitsi.secret.reveal(),
                algorithms=["HS256"],
                issuer=jitsi.app_id,
                audience=jitsi.audience,
                options=_NO_TIME_CHECKS,
            )
        key_id = jwt.get_unverified_header(token).get("kid")
        key = self._keys.find(key_id) if isinstance(key_id, str) else None
        if key is None:
            raise UnreadableClaims("signed by an unknown key")
        return jwt.decode(
            token,
            key.public,
            algorithms=[ALGORITHM],
            issuer=self.issuer,
            audience=self.audience,
            options=_NO_TIME_CHECKS,
        )

    def read(
        self, tenant: str, token: str, format: CredentialFormat | None
    ) -> tuple[CredentialFormat, CredentialGrant]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise UnreadableClaims("too long")
        try:
            format = format or self._recognise(token)
            claims = self._verify(tenant, token, format)
        except jwt.PyJWTError as error:
            # PyJWT's messages name claims and algorithms, never secrets or values.
            raise UnreadableClaims(str(error)) from None
        return format, grant_from_claims(format, tenant, claims)
