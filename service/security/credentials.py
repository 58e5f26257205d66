"""Signing and reading join credentials: rooms' own tokens (ES256 with the signing keys,
PyJWT) here, and every media server's through its issuer (`CredentialIssuer`), looked up
by format in the media configuration's table (`service.media.issuers`). The claims come
from `service.domain.credentials` and each issuer; security does not import the media
adapters: the composition root hands it the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import jwt

from service.domain.clock import Clock
from service.domain.credentials import (
    CredentialFormat,
    CredentialGrant,
    JanusJoin,
    UnreadableClaims,
    rooms_claims,
    rooms_grant,
)
from service.domain.media_ports import CredentialIssuer
from service.domain.models import Role
from service.security.signing import ALGORITHM, SigningKeys
from service.security.tokens import unverified_claims, verify


class MediaIssuers(Protocol):
    """The issuer of each media server's credentials (`service.media.config.MediaConfig`
    is one); None for rooms' own format."""

    def issuer(self, format: CredentialFormat) -> CredentialIssuer | None: ...


# A token longer than this is not one of ours.
MAX_TOKEN_LENGTH = 8192


class Credentials:
    """The `CredentialSigner` of the server."""

    def __init__(
        self,
        media: MediaIssuers,
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

    def _issuer(self, format: CredentialFormat) -> CredentialIssuer:
        found = self._media.issuer(format)
        assert found is not None, "rooms' own format has no media issuer"
        return found

    def configured(self, tenant: str, format: CredentialFormat) -> bool:
        found = self._media.issuer(format)
        return found is None or found.server_url(tenant) is not None

    def server_url(self, tenant: str, format: CredentialFormat) -> str:
        found = self._media.issuer(format)
        return "" if found is None else found.server_url(tenant) or ""

    def sign(self, format: CredentialFormat, grant: CredentialGrant) -> str:
        if format is not CredentialFormat.ROOMS:
            return self._issuer(format).sign(grant)  # configured(): checked by the caller
        key = self._keys.signer(self._clock.now())
        claims = rooms_claims(grant, self.issuer, self.audience)
        return jwt.encode(
            claims, key.private, algorithm=ALGORITHM, headers={"kid": key.key_id, "typ": "JWT"}
        )

    def janus_join(
        self, tenant: str, room_id: str, user_id: str, role: Role, epoch: int, until: datetime
    ) -> JanusJoin:
        joined = self._issuer(CredentialFormat.JANUS).media_join(
            tenant, room_id, user_id, role, epoch, until
        )
        assert joined is not None, "a Janus credential carries its VideoRoom values"
        return joined

    def _recognise(self, token: str) -> CredentialFormat:
        if jwt.get_unverified_header(token).get("alg") == ALGORITHM:
            return CredentialFormat.ROOMS
        claims = unverified_claims(token)
        for format in CredentialFormat:
            found = self._media.issuer(format)
            if found is not None and found.recognises(claims):
                return format
        raise UnreadableClaims("not a credential format this service issues")

    def _read_own(self, tenant: str, token: str) -> CredentialGrant:
        key_id = jwt.get_unverified_header(token).get("kid")
        key = self._keys.find(key_id) if isinstance(key_id, str) else None
        if key is None:
            raise UnreadableClaims("signed by an unknown key")
        claims = verify(token, key.public, ALGORITHM, issuer=self.issuer, audience=self.audience)
        return rooms_grant(tenant, claims)

    def read(
        self, tenant: str, token: str, format: CredentialFormat | None
    ) -> tuple[CredentialFormat, CredentialGrant]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise UnreadableClaims("too long")
        try:
            format = format or self._recognise(token)
            if format is CredentialFormat.ROOMS:
                return format, self._read_own(tenant, token)
            return format, self._issuer(format).read(tenant, token)
        except jwt.PyJWTError as error:
            # PyJWT's messages name claims and algorithms, never secrets or values.
            raise UnreadableClaims(str(error)) from None
