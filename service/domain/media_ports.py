"""The ports of the media side: signing join credentials, one media server's issuer, and
driving a media server (the first and last re-exported by service.domain.ports)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from service.domain.credentials import CredentialFormat, CredentialGrant, JanusJoin
from service.domain.models import Role


class CredentialSigner(Protocol):
    """Signs and reads join credentials (the formats' keys and secrets live behind it)."""

    def configured(self, tenant: str, format: CredentialFormat) -> bool:
        """Whether the tenant may be issued credentials of this format."""
        ...

    def server_url(self, tenant: str, format: CredentialFormat) -> str: ...

    def sign(self, format: CredentialFormat, grant: CredentialGrant) -> str: ...

    def janus_join(
        self, tenant: str, room_id: str, user_id: str, role: Role, epoch: int, until: datetime
    ) -> JanusJoin:
        """The VideoRoom values of a Janus credential (tenant configured for Janus);
        `until` is the end of the identity's window (its join token's expiry)."""
        ...

    def read(
        self, tenant: str, token: str, format: CredentialFormat | None
    ) -> tuple[CredentialFormat, CredentialGrant]:
        """The format and grant of a token with a good signature issued to `tenant`;
        raises `UnreadableClaims` for any other token. Times are not checked."""
        ...


class CredentialIssuer(Protocol):
    """One media server's credentials, for every tenant configured for it: a row of the
    table in `service.media.issuers`, used by the server's `CredentialSigner`."""

    def server_url(self, tenant: str) -> str | None:
        """Where the tenant's clients connect; None when the tenant has no configuration
        for this media server."""
        ...

    def sign(self, grant: CredentialGrant) -> str:
        """The signed credential (for a tenant with a configuration)."""
        ...

    def recognises(self, claims: Mapping[str, Any]) -> bool:
        """Whether a JWT's claims (signature not yet checked) are of this format."""
        ...

    def read(self, tenant: str, token: str) -> CredentialGrant:
        """The grant of a token with a good signature issued to `tenant`; raises
        `UnreadableClaims` for any other token. Times are not checked."""
        ...

    def media_join(
        self, tenant: str, room_id: str, user_id: str, role: Role, epoch: int, until: datetime
    ) -> JanusJoin | None:
        """What a client's join carries besides the token (Janus's VideoRoom values);
        None for a media server whose token is all a client needs."""
        ...


class MediaControl(Protocol):
    """The media server rooms drives (Janus): what AuthorizeJoin must do there before it
    answers with a credential."""

    async def admit(
        self, tenant: str, room_id: str, user_id: str, role: Role, epoch: int, until: datetime
    ) -> None:
        """Put the identity's join token in the room's allowed list when its role may
        publish (creating the VideoRoom if it is missing). Raises DomainError
        MEDIA_SERVER_UNAVAILABLE."""
        ...

    async def retract(
        self, tenant: str, room_id: str, user_id: str, epoch: int, until: datetime
    ) -> None:
        """Take the token out again (best effort: a failure is logged, not raised)."""
        ...
