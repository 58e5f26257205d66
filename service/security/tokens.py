"""Verifying a signed JWT credential with PyJWT, the same way for every format: rooms'
own ES256 tokens (`service.security.credentials`) and the HS256 tokens of the media
servers' issuers (`service.media.<server>.issuer`). Times are judged by the domain
(with the injectable clock), not by PyJWT; any failure is `UnreadableClaims`."""

from __future__ import annotations

from typing import Any

import jwt
from jwt.types import Options

from service.domain.credentials import UnreadableClaims

_NO_TIME_CHECKS: Options = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "require": ["exp", "nbf", "sub"],
}


def verify(
    token: str, key: Any, algorithm: str, *, issuer: str, audience: str | None = None
) -> dict[str, Any]:
    """The claims of `token` when `key` signed it with `algorithm` for `issuer` (and
    `audience`, when given). PyJWT's messages name claims and algorithms, never secrets
    or values."""
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=audience,
            options=_NO_TIME_CHECKS,
        )
    except jwt.PyJWTError as error:
        raise UnreadableClaims(str(error)) from None


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT before its signature is checked (to recognise its format)."""
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise UnreadableClaims(str(error)) from None


def sign_hs256(claims: dict[str, Any], secret: str) -> str:
    """A JWT of `claims`, HS256 with a shared secret (LiveKit's and Jitsi's)."""
    return jwt.encode(claims, secret, algorithm="HS256")
