"""Who is calling: API keys in `authorization: Bearer <key>` metadata, checked at the
edge, which makes the caller available to the servicers."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import grpc

from service.domain.errors import DomainError, ErrorReason
from service.domain.models import Caller
from service.security.keys import KeyRing
from service.transport.errors import to_status

# Without configured keys (development), every caller is this tenant.
DEFAULT_CALLER = Caller(tenant="default", key_name="anonymous")

# Methods of these services need no key unless configured otherwise.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

_caller: ContextVar[Caller] = ContextVar("rooms_caller")


def current_caller() -> Caller:
    """The authenticated caller of the RPC being handled (set by `authenticate` when the
    call reached the edge; a context variable, so it follows the call's task)."""
    return _caller.get()


def _bearer(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def refused() -> grpc.Status:
    """Built per call: the status carries the call's request id."""
    return to_status(
        DomainError(
            ErrorReason.UNAUTHENTICATED,
            "missing or unknown API key: send 'authorization: Bearer <key>'",
        )
    )


class Authenticator:
    """Authenticates every call but health and reflection (unless `protect_open`); the
    edge (service/transport/edge.Edge) asks it once per call."""

    def __init__(self, keys: KeyRing, *, protect_open: bool = False) -> None:
        self._keys = keys
        self._protect_open = protect_open

    def authenticate(self, method: str, metadata: Any) -> bool:
        """Make the caller of the current call known from its metadata; False when the
        call must be refused (UNAUTHENTICATED, `refused()`). The server calls this from
        the wrapper every handler gets at registration (service/transport/edge.py),
        which costs less per call than an interceptor."""
        if not self._keys:
            _caller.set(DEFAULT_CALLER)
            return True
        if not self._protect_open and method.startswith(OPEN_SERVICES):
            return True
        key = _bearer(metadata)
        caller = self._keys.caller_for(key) if key is not None else None
        if caller is None:
            return False
        _caller.set(caller)
        return True
