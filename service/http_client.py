"""The one outbound HTTP call of the sinks: bounded in time and in what it reads, and
never following a redirect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import aiohttp


@dataclass(frozen=True, slots=True)
class HttpLimits:
    timeout: float = 10.0  # seconds for the whole exchange
    max_response_bytes: int = 4096  # read at most this much of an answer


class Answer(NamedTuple):
    status: int
    body: bytes  # at most `max_response_bytes`


class HttpFailure(Exception):
    """No answer: a timeout or a connection failure (the message is safe to show)."""


class HttpClient:
    def __init__(self, limits: HttpLimits | None = None) -> None:
        self._limits = limits or HttpLimits()
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._limits.timeout),
                # No proxies or netrc from the environment, no cookies between receivers.
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                connector=aiohttp.TCPConnector(limit=100, limit_per_host=16),
            )
        return self._session

    async def post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        *,
        max_response_bytes: int | None = None,
    ) -> Answer:
        """POST `body`; the status and at most `max_response_bytes` (default: the
        limits') of the answer."""
        return await self._request("POST", url, headers, body, max_response_bytes)

    async def get(
        self, url: str, headers: dict[str, str], *, max_response_bytes: int | None = None
    ) -> Answer:
        """GET `url`; the status and at most `max_response_bytes` of the answer."""
        return await self._request("GET", url, headers, None, max_response_bytes)

    async def _request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        max_response_bytes: int | None,
    ) -> Answer:
        limit = max_response_bytes or self._limits.max_response_bytes
        try:
            async with self._open().request(
                method, url, data=body, headers=headers, allow_redirects=False
            ) as response:
                head = await response.content.read(limit)
                return Answer(response.status, head)
        except TimeoutError as error:
            raise HttpFailure(f"timed out after {self._limits.timeout:g} s") from error
        except aiohttp.ClientError as error:
            # The exception's text names the host and port; keep to its kind.
            raise HttpFailure(f"connection failed ({type(error).__name__})") from error

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
