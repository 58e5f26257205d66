"""The keys that sign rooms' own credentials (ES256), shared by every replica through
the database.

On its first start the first replica generates a key and stores it; the others read
it. A rotation stores a newer key with an activation time: from then on it signs, and
the older key stays published until every credential it signed has expired (its
successor's activation + the longest credential lifetime). Every replica re-reads the
keys every `ROOMS_SIGNING_KEY_REFRESH_SECONDS`, and a new key is published (by the
replica that made it at once, by the others at their next refresh) before it signs
when it is made with `--activate-in`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from service.domain.credentials import StoredSigningKey
from service.domain.ports import SigningKeyStore

ALGORITHM = "ES256"


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of an EC public key."""
    canonical = json.dumps(
        {name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def generate_key(now: datetime, activate_time: datetime | None = None) -> StoredSigningKey:
    """A fresh P-256 key pair, ready to store."""
    private = ec.generate_private_key(ec.SECP256R1())
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    key_id = thumbprint(jwk)
    jwk.update({"kid": key_id, "alg": ALGORITHM, "use": "sig"})
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return StoredSigningKey(
        key_id=key_id,
        algorithm=ALGORITHM,
        private_key=pem,
        public_jwk=jwk,
        create_time=now,
        activate_time=activate_time or now,
    )


@dataclass(frozen=True, slots=True)
class LoadedKey:
    key_id: str
    private: ec.EllipticCurvePrivateKey
    public: ec.EllipticCurvePublicKey
    jwk: dict[str, Any]
    activate_time: datetime
    retire_time: datetime | None  # the successor's activation

    def __repr__(self) -> str:
        return f"LoadedKey(key_id={self.key_id!r})"


def _load(stored: list[StoredSigningKey]) -> list[LoadedKey]:
    """Newest activation first, each with its successor's activation as retire time."""
    keys: list[LoadedKey] = []
    successor: datetime | None = None
    for row in sorted(stored, key=lambda k: k.activate_time, reverse=True):
        private = serialization.load_pem_private_key(row.private_key.encode(), password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise ValueError(f"signing key {row.key_id} is not an EC key")
        keys.append(
            LoadedKey(
                key_id=row.key_id,
                private=private,
                public=private.public_key(),
                jwk=dict(row.public_jwk),
                activate_time=row.activate_time,
                retire_time=successor,
            )
        )
        successor = row.activate_time
    return keys


class SigningKeys:
    """The keys in memory: which one signs now, which ones are published."""

    def __init__(self, store: SigningKeyStore, max_lifetime: timedelta) -> None:
        self._store = store
        self._max_lifetime = max_lifetime
        self._keys: list[LoadedKey] = []
        self._lock = threading.Lock()  # the HTTP endpoint reads from another thread

    async def start(self, now: datetime) -> None:
        """Load the keys, making the first one if there is none yet (one read at start-up
        when keys exist)."""
        stored = await self._store.signing_keys()
        if not stored:
            await self._store.add_signing_key(generate_key(now), only_if_none=True)
            stored = await self._store.signing_keys()
        self._use(stored)

    async def refresh(self) -> None:
        self._use(await self._store.signing_keys())

    def _use(self, stored: list[StoredSigningKey]) -> None:
        keys = _load(stored)
        with self._lock:
            self._keys = keys

    async def rotate(self, now: datetime, activate_in: timedelta = timedelta(0)) -> str:
        """Store a new key that signs from `now + activate_in`; return its id."""
        key = generate_key(now, now + activate_in)
        await self._store.add_signing_key(key, only_if_none=False)
        await self.refresh()
        return key.key_id

    def signer(self, now: datetime) -> LoadedKey:
        """The key that signs at `now`: the latest activated one."""
        with self._lock:
            keys = self._keys
        for key in keys:
            if key.activate_time <= now:
                return key
        if not keys:
            raise RuntimeError("no signing key loaded")
        return keys[-1]  # only keys activating later: the earliest of them

    def find(self, key_id: str) -> LoadedKey | None:
        with self._lock:
            keys = self._keys
        return next((key for key in keys if key.key_id == key_id), None)

    def published(self, now: datetime) -> list[LoadedKey]:
        """Keys to publish at `now`: those about to sign, the one signing, and retired
        ones whose credentials may not all have expired yet."""
        with self._lock:
            keys = self._keys
        return [
            key
            for key in keys
            if key.retire_time is None or key.retire_time + self._max_lifetime > now
        ]

    def jwks(self, now: datetime) -> str:
        """The JSON Web Key Set of the published keys."""
        return json.dumps({"keys": [key.jwk for key in self.published(now)]})
