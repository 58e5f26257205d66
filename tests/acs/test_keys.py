"""The key ring alone (a loader that counts its reads): a key added after the last read
is found by the first request signed with it, a burst of bad signatures shares reads,
and a failed read keeps the keys it had."""

from __future__ import annotations

import asyncio
import time

from service.acs.keys import KeyRing, signature
from service.domain.acs import AcsKey, new_acs_key


class Loader:
    def __init__(self) -> None:
        self.keys: list[AcsKey] = []
        self.reads = 0
        self.fail = False

    async def __call__(self) -> list[AcsKey]:
        self.reads += 1
        await asyncio.sleep(0.01)
        if self.fail:
            raise OSError("database down")
        return list(self.keys)


async def test_a_new_key_is_found_at_once_and_bad_signatures_share_reads() -> None:
    loader = Loader()
    ring = KeyRing(loader)
    await ring.reload()
    key = new_acs_key("t")
    loader.keys.append(key)
    text = "GET\n/rooms\nDATE;host;HASH"
    found = await ring.find([text], signature(key.secret, text), time.monotonic())
    assert found == key and loader.reads == 2
    arrived = time.monotonic()
    reads = loader.reads
    misses = await asyncio.gather(*(ring.find([text], b"x" * 32, arrived) for _ in range(20)))
    assert misses == [None] * 20 and loader.reads == reads + 1
    # Keys read after the request arrived are not read again for it.
    assert await ring.find([text], b"x" * 32, arrived) is None and loader.reads == reads + 1


async def test_a_failed_read_keeps_the_keys() -> None:
    loader = Loader()
    key = new_acs_key("t")
    loader.keys.append(key)
    ring = KeyRing(loader)
    await ring.reload()
    loader.fail = True
    text = "GET\n/rooms\nDATE;host;HASH"
    assert await ring.find([text], b"y" * 32, time.monotonic()) is None
    assert await ring.find([text], signature(key.secret, text), time.monotonic()) == key
    assert repr(key) == f"AcsKey(tenant='t', key_id={key.key_id!r})"  # never the key
