"""A small async client for Janus's HTTP API (the VideoRoom plugin's synchronous
requests): one Janus session with one plugin handle, made on first use and made again
when Janus has forgotten it (session timeout, restart).

Every request carries a fresh core token signed with the deployment's token_auth_secret
(in the JSON body, never in a URL), so nothing secret reaches a request log. The HTTP
calls go through the delivery's `HttpClient` (aiohttp: bounded in time and size, no
redirects, no proxies from the environment).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Awaitable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from service.domain.clock import Clock, SystemClock
from service.http_client import Answer, HttpClient, HttpFailure, HttpLimits
from service.media.janus.tokens import VIDEOROOM_PLUGIN, core_token

# Janus core error codes (janus/apierror.h) that mean "make a new session and retry".
SESSION_NOT_FOUND = 458
HANDLE_NOT_FOUND = 459
# The VideoRoom's "No such feed" (janus_videoroom.c): a feed that publishes nothing.
NO_SUCH_FEED = 428

# The lifetime of the core tokens rooms signs for its own requests.
OWN_TOKEN_LIFETIME = timedelta(minutes=2)
# An answer listing a big room's participants or tokens is a few hundred kB at most.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class JanusUnavailable(Exception):
    """Janus could not be reached, or answered something that is not its API."""


class JanusError(Exception):
    """Janus refused a request (its core `error`): e.g. 403 for a bad or expired token."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class VideoRoomError(Exception):
    """The VideoRoom plugin refused a request (its `error_code`): e.g. 426 no such room."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"VideoRoom error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusClient:
    """Requests to one Janus over HTTP, as rooms itself (not as a participant)."""

    def __init__(
        self,
        url: str,
        token_auth_secret: bytes,
        *,
        clock: Clock | None = None,
        http: HttpClient | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._url = url.rstrip("/")
        self._secret = token_auth_secret
        self._clock = clock or SystemClock()
        self._http = http or HttpClient(HttpLimits(timeout=timeout))
        self._owns_http = http is None
        self._path: str | None = None  # "/<session>/<handle>" once attached
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"JanusClient({self._url!r})"

    def _token(self) -> str:
        return core_token(self._secret, self._clock.now() + OWN_TOKEN_LIFETIME)

    async def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        payload = {**body, "transaction": secrets.token_hex(8), "token": self._token()}
        answer = await self._json(
            self._http.post(
                self._url + path,
                json.dumps(payload).encode(),
                {"content-type": "application/json", "user-agent": "rooms-janus/1"},
                max_response_bytes=MAX_ANSWER_BYTES,
            )
        )
        if not isinstance(answer, dict):
            raise JanusUnavailable(f"Janus at {self._url}: not a JSON object")
        if answer.get("janus") == "error":
            refusal = answer.get("error") or {}
            raise JanusError(int(refusal.get("code", 0)), str(refusal.get("reason", "")))
        return answer

    async def _json(self, sent: Awaitable[Answer]) -> Any:
        """The JSON of Janus's answer to a request; JanusUnavailable when the request
        fails, the status is not 200 or the body is not JSON."""
        try:
            response = await sent
        except HttpFailure as error:
            raise JanusUnavailable(f"Janus at {self._url}: {error}") from None
        if response.status != 200:
            raise JanusUnavailable(f"Janus at {self._url}: HTTP {response.status}")
        try:
            return json.loads(response.body)
        except ValueError:
            raise JanusUnavailable(f"Janus at {self._url}: not JSON") from None

    async def _attach(self) -> str:
        async with self._lock:
            if self._path is None:
                session = await self._post("", {"janus": "create"})
                session_id = int(session["data"]["id"])
                handle = await self._post(
                    f"/{session_id}", {"janus": "attach", "plugin": VIDEOROOM_PLUGIN}
                )
                self._path = f"/{session_id}/{int(handle['data']['id'])}"
            return self._path

    async def videoroom(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Send a synchronous VideoRoom request; its `plugindata.data`, or VideoRoomError."""
        for attempt in (1, 2):
            path = await self._attach()
            try:
                answer = await self._post(path, {"janus": "message", "body": dict(body)})
            except JanusError as error:
                if attempt == 1 and error.code in (SESSION_NOT_FOUND, HANDLE_NOT_FOUND):
                    async with self._lock:
                        if self._path == path:
                            self._path = None
                    continue
                raise
            try:
                data = answer["plugindata"]["data"]
            except (KeyError, TypeError):
                raise JanusUnavailable(f"Janus at {self._url}: no plugin data") from None
            if not isinstance(data, dict):
                raise JanusUnavailable(f"Janus at {self._url}: no plugin data")
            if "error_code" in data:
                raise VideoRoomError(int(data["error_code"]), str(data.get("error", "")))
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    async def feed_streams(self, room: int, join_token: str, feed: int) -> list[dict[str, Any]]:
        """The streams `feed` publishes in `room` (each with `type` and `feed_mid`), read
        as a subscriber would: a throwaway session joins as a subscriber to the feed
        (`join_token` signed for the room), reads the `attached` event from the long-poll,
        and is destroyed. Empty when the feed publishes nothing (428, "No such feed").

        The long-poll is a GET whose core token Janus reads from the query string only:
        that one token (two minutes long) is the one rooms puts in a URL."""
        session = await self._post("", {"janus": "create"})
        session_id = int(session["data"]["id"])
        try:
            attached = await self._post(
                f"/{session_id}", {"janus": "attach", "plugin": VIDEOROOM_PLUGIN}
            )
            handle = int(attached["data"]["id"])
            body = {
                "request": "join",
                "ptype": "subscriber",
                "room": room,
                "token": join_token,
                "streams": [{"feed": feed}],
            }
            await self._post(f"/{session_id}/{handle}", {"janus": "message", "body": body})
            data = await self._next_event(session_id)
            if "error_code" in data:
                if int(data["error_code"]) == NO_SUCH_FEED:
                    return []
                raise VideoRoomError(int(data["error_code"]), str(data.get("error", "")))
            streams = data.get("streams") or []
            return [dict(s) for s in streams if isinstance(s, dict)]
        finally:
            with contextlib.suppress(JanusError, JanusUnavailable):
                await self._post(f"/{session_id}", {"janus": "destroy"})

    async def _next_event(self, session_id: int) -> dict[str, Any]:
        """The next plugin event of a session (long-poll; keepalives skipped)."""
        for _ in range(3):
            url = f"{self._url}/{session_id}?maxev=1&token={quote(self._token(), safe='')}"
            answer = await self._json(
                self._http.get(
                    url, {"user-agent": "rooms-janus/1"}, max_response_bytes=MAX_ANSWER_BYTES
                )
            )
            if isinstance(answer, dict) and answer.get("janus") == "event":
                data = (answer.get("plugindata") or {}).get("data")
                if isinstance(data, dict):
                    return data
        raise JanusUnavailable(f"Janus at {self._url}: no event")

    async def aclose(self) -> None:
        """Leave Janus tidy: destroy the session (if Janus still has it), close the pool."""
        path, self._path = self._path, None
        try:
            if path is not None:
                session = path.split("/")[1]
                with contextlib.suppress(JanusError, JanusUnavailable):
                    await self._post(f"/{session}", {"janus": "destroy"})
        finally:
            if self._owns_http:
                await self._http.close()
