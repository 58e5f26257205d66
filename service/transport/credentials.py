"""rooms.v1.CredentialsService: convert, call the use case, convert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import credentials_service_pb2_grpc

from service.domain.clock import Clock
from service.domain.errors import checked
from service.security.signing import SigningKeys
from service.transport import convert, convert_admission
from service.transport.auth import current_caller
from service.transport.errors import answers_errors
from service.usecases.admission import AdmissionUseCases

Context = grpc.aio.ServicerContext[Any, Any]


@dataclass(frozen=True, kw_only=True)
class CredentialsServicer(credentials_service_pb2_grpc.CredentialsServiceServicer):
    """rooms.v1.CredentialsService, on the admission area and the signing keys."""

    admission: AdmissionUseCases
    keys: SigningKeys
    clock: Clock

    @answers_errors
    async def GetSigningKeys(
        self, request: cs.GetSigningKeysRequest, context: Context
    ) -> cs.GetSigningKeysResponse:
        current_caller()  # any authenticated caller; the keys are public
        now = self.clock.now()
        published = self.keys.published(now)
        keys = []
        for key in published:
            entry = cs.SigningKey(
                key_id=key.key_id,
                algorithm=str(key.jwk["alg"]),
                activate_time=convert.timestamp(key.activate_time),
            )
            if key.retire_time is not None:
                entry.retire_time.CopyFrom(convert.timestamp(key.retire_time))
            keys.append(entry)
        return cs.GetSigningKeysResponse(jwks=self.keys.jwks(now), keys=keys)

    @answers_errors
    async def IntrospectCredential(
        self, request: cs.IntrospectCredentialRequest, context: Context
    ) -> cs.IntrospectCredentialResponse:
        credential_format = checked(
            convert_admission.credential_format_in, "format", request.format
        )
        verdict, found, grant = await self.admission.introspect_credential(
            current_caller(), request.token, credential_format
        )
        return convert_admission.introspection_out(verdict, found, grant)
