"""CredentialsService: the keys that verify rooms' own credentials, and introspection."""

# Every `timeout` here is the call's gRPC deadline, not a local wait.
# ruff: noqa: ASYNC109

from __future__ import annotations

from rooms.connection import Channel
from rooms.v1 import credentials_service_pb2


class CredentialsMethods(Channel):
    """The calls of rooms.v1.CredentialsService."""

    async def get_signing_keys(
        self, *, timeout: float | None = None
    ) -> credentials_service_pb2.GetSigningKeysResponse:
        """The JSON Web Key Set that verifies rooms' own credentials."""
        request = credentials_service_pb2.GetSigningKeysRequest()
        return await self._call(self._credentials.GetSigningKeys, request, timeout)

    async def introspect_credential(
        self, token: str, *, timeout: float | None = None
    ) -> credentials_service_pb2.IntrospectCredentialResponse:
        """Whether a credential still holds now (`active`), and if not, why (`reason`)."""
        request = credentials_service_pb2.IntrospectCredentialRequest(token=token)
        return await self._call(self._credentials.IntrospectCredential, request, timeout)
