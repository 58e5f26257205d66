"""Who is calling. Until API keys are configured, every caller is the default tenant."""

from __future__ import annotations

from typing import Any

import grpc

from service.domain.models import Caller

DEFAULT_CALLER = Caller(tenant="default", key_name="anonymous")


def caller_of(context: grpc.aio.ServicerContext[Any, Any]) -> Caller:
    """The caller of the current RPC."""
    return DEFAULT_CALLER
