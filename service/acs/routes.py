"""The ACS Rooms operations: parse the JSON, call the use cases the gRPC servicers call,
write the JSON. The middleware (app.py) has authenticated the caller and checked the
api-version; request[CALLER] and request[BODY] are set."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from service.acs import convert
from service.acs.errors import AcsError, bad_request
from service.domain.models import Caller
from service.usecases.participants import ParticipantUseCases
from service.usecases.rooms import RoomUseCases

API_VERSION = "2025-03-13"
# The continuation parameter of a nextLink (its value is one of our page tokens).
CONTINUATION = "continuationToken"

ROOMS = web.AppKey("rooms", RoomUseCases)
PARTICIPANTS = web.AppKey("participants", ParticipantUseCases)
PAGE_SIZE = web.AppKey("page_size", int)
# Set by the middleware: who calls (from the access key) and the parsed JSON body.
CALLER = web.RequestKey("caller", Caller)
BODY = web.RequestKey("json", object)


def _caller(request: web.Request) -> Caller:
    return request[CALLER]


def _json(status: int, value: Any) -> web.Response:
    return web.json_response(value, status=status)


def _rooms(request: web.Request) -> RoomUseCases:
    return request.app[ROOMS]


def _participants(request: web.Request) -> ParticipantUseCases:
    return request.app[PARTICIPANTS]


def _next_link(request: web.Request, token: str) -> str | None:
    """Absolute, keeping api-version, as ACS writes it."""
    if not token:
        return None
    query = f"api-version={API_VERSION}&{CONTINUATION}={token}"
    return f"{request.scheme}://{request.host}{request.path}?{query}"


def _page(request: web.Request, items: list[dict[str, Any]], token: str) -> web.Response:
    body: dict[str, Any] = {"value": items}
    link = _next_link(request, token)
    if link is not None:
        body["nextLink"] = link
    return _json(200, body)


async def create_room(request: web.Request) -> web.Response:
    body = convert.body_object(request[BODY], "createRoomRequest")
    settings, _ = convert.room_settings_in(body)
    roster, _ = convert.participants_in(body.get("participants"), removals=False)
    # Repeatability-Request-ID is the create's idempotency key (the gRPC request_id).
    room = await _rooms(request).create_room(
        _caller(request),
        idempotency_key=request.headers.get("Repeatability-Request-ID", ""),
        room_id="",
        settings=settings,
        roster=roster,
    )
    return _json(201, convert.room_out(room))


async def get_room(request: web.Request) -> web.Response:
    room = await _rooms(request).get_room(_caller(request), request.match_info["room_id"])
    return _json(200, convert.room_out(room))


async def list_rooms(request: web.Request) -> web.Response:
    page = await _rooms(request).list_rooms(
        _caller(request), request.app[PAGE_SIZE], request.query.get(CONTINUATION, ""), None
    )
    return _page(request, [convert.room_out(r) for r in page.items], page.next_page_token)


async def update_room(request: web.Request) -> web.Response:
    body = convert.body_object(request[BODY], "updateRoomRequest")
    settings, given = convert.room_settings_in(body)
    room = await _rooms(request).update_room(
        _caller(request), request.match_info["room_id"], "", settings, [], given
    )
    return _json(200, convert.room_out(room))


async def delete_room(request: web.Request) -> web.Response:
    await _rooms(request).delete_room(_caller(request), request.match_info["room_id"], "")
    return web.Response(status=204)


async def list_participants(request: web.Request) -> web.Response:
    page = await _participants(request).list_participants(
        _caller(request),
        request.match_info["room_id"],
        request.app[PAGE_SIZE],
        request.query.get(CONTINUATION, ""),
        None,
    )
    items = [convert.participant_out(p) for p in page.items]
    return _page(request, items, page.next_page_token)


async def update_participants(request: web.Request) -> web.Response:
    """Merge-patch of the roster: `{rawId: {"role": R}}` adds or updates, `{rawId: null}`
    removes (an absent one: a no-op). Upserts, then removals (two transactions)."""
    body = convert.body_object(request[BODY], "updateParticipantsRequest")
    upserts, removals = convert.participants_in(body.get("participants"), removals=True)
    participants, caller, room_id = (
        _participants(request),
        _caller(request),
        request.match_info["room_id"],
    )
    if upserts:
        await participants.add_or_update_participants(caller, room_id, upserts, "")
    if removals:
        await participants.remove_participants(caller, room_id, removals, "")
    if not upserts and not removals:
        await _rooms(request).get_room(caller, room_id)  # an unknown room is still a 404
    return _json(200, {})


async def create_identity(request: web.Request) -> web.Response:
    """A new ACS user id, so that clients and tests can mint ids; no access token."""
    body = request[BODY] if request[BODY] is not None else {}
    scopes = convert.body_object(body, "body").get("createTokenWithScopes")
    if scopes:
        raise bad_request("createTokenWithScopes", "rooms issues no ACS access tokens")
    resource = uuid.uuid5(uuid.NAMESPACE_URL, "rooms:" + _caller(request).tenant)
    return _json(201, {"identity": {"id": f"8:acs:{resource}_{uuid.uuid4()}"}})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/rooms", create_room)
    app.router.add_get("/rooms", list_rooms)
    app.router.add_get("/rooms/{room_id}", get_room)
    app.router.add_patch("/rooms/{room_id}", update_room)
    app.router.add_delete("/rooms/{room_id}", delete_room)
    app.router.add_get("/rooms/{room_id}/participants", list_participants)
    app.router.add_patch("/rooms/{room_id}/participants", update_participants)
    app.router.add_post("/identities", create_identity)


__all__ = ["API_VERSION", "PAGE_SIZE", "PARTICIPANTS", "ROOMS", "AcsError", "add_routes"]
