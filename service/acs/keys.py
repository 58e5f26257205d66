"""The access keys in force, cached by each replica and re-read often.

Every `REFRESH_SECONDS` the ring re-reads the keys of every tenant (one small query),
so a key revoked on any replica answers 401 on every replica within that time. A
signature that matches no cached key makes it re-read at once unless a read began
after the request arrived (so a key just created works on its first request, and a
burst of bad signatures shares one read at a time)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from service.domain.acs import AcsKey

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5

Loader = Callable[[], Awaitable[list[AcsKey]]]


def signature(secret: bytes, text: str) -> bytes:
    """HMAC-SHA256 of a string to sign, as the Azure SDKs compute it (UTF-8)."""
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).digest()


class KeyRing:
    """The keys in force on this replica."""

    def __init__(self, load: Loader) -> None:
        self._load = load
        self._keys: list[AcsKey] = []
        self._read_from = 0.0  # when the read that gave the cached keys began
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.reload()
        self._task = asyncio.create_task(self._refresh())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def reload(self, unless_read_since: float | None = None) -> None:
        async with self._lock:
            if unless_read_since is not None and self._read_from >= unless_read_since:
                return  # a read that began after that instant finished meanwhile
            began = time.monotonic()
            self._keys = await self._load()
            self._read_from = began

    async def find(self, texts: Sequence[str], sent: bytes, arrived: float) -> AcsKey | None:
        """The key whose signature of one of `texts` is `sent`, else None, with keys
        read after `arrived` (time.monotonic() when the request came)."""
        key = self._match(texts, sent)
        if key is None and self._read_from < arrived:
            with contextlib.suppress(Exception):  # the database is down: keep the cache
                await self.reload(unless_read_since=arrived)
            key = self._match(texts, sent)
        return key

    def _match(self, texts: Sequence[str], sent: bytes) -> AcsKey | None:
        found = None
        for key in self._keys:
            for text in texts:
                # Every key and text is tried, so the time taken tells nothing.
                if hmac.compare_digest(signature(key.secret, text), sent) and found is None:
                    found = key
        return found

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.reload()
            except Exception as error:  # keep serving with the keys we have
                log.warning("cannot re-read the ACS access keys: %s", type(error).__name__)
