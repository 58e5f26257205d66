"""Another tenant's ids from outside: its webhooks and seats are never read, changed,
renewed or released, and its bans do not follow an identity into another tenant."""

from __future__ import annotations

from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import webhooks_service_pb2 as ws

from tests.shared.errors import LoggedErrors
from tests.shared.outside_in import Code, Two, delete_webhooks, no_errors, open_room, refused


async def test_another_tenants_webhook_cannot_be_changed_or_deleted(
    two: Two, server_errors: LoggedErrors
) -> None:
    a, b = two.a, two.b
    theirs = await b.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(webhook=ws.Webhook(url="https://b.example/hook")),
        metadata=b.metadata,
    )
    update = ws.UpdateWebhookRequest(
        webhook=ws.Webhook(webhook_id=theirs.webhook_id, url="https://a.example/stolen")
    )
    update.update_mask.paths.append("url")
    for call in (
        a.webhooks.GetWebhook(
            ws.GetWebhookRequest(webhook_id=theirs.webhook_id), metadata=a.metadata
        ),
        a.webhooks.UpdateWebhook(update, metadata=a.metadata),
        a.webhooks.DeleteWebhook(
            ws.DeleteWebhookRequest(webhook_id=theirs.webhook_id), metadata=a.metadata
        ),
        a.webhooks.DeleteWebhook(
            ws.DeleteWebhookRequest(webhook_id=theirs.webhook_id, etag=theirs.etag),
            metadata=a.metadata,
        ),
    ):
        error = await refused(call, Code.NOT_FOUND)
        assert error.reason == "WEBHOOK_NOT_FOUND", error
    # B's page token means nothing to A.
    for _ in range(2):
        await b.webhooks.CreateWebhook(
            ws.CreateWebhookRequest(webhook=ws.Webhook(url="https://b.example/more")),
            metadata=b.metadata,
        )
    page = await b.webhooks.ListWebhooks(ws.ListWebhooksRequest(page_size=1), metadata=b.metadata)
    assert page.next_page_token
    error = await refused(
        a.webhooks.ListWebhooks(
            ws.ListWebhooksRequest(page_size=1, page_token=page.next_page_token),
            metadata=a.metadata,
        )
    )
    assert error.fields == ["page_token"], error
    # B's webhook is untouched.
    got = await b.webhooks.GetWebhook(
        ws.GetWebhookRequest(webhook_id=theirs.webhook_id), metadata=b.metadata
    )
    assert (got.url, got.etag) == ("https://b.example/hook", theirs.etag)
    listed = await a.webhooks.ListWebhooks(ws.ListWebhooksRequest(), metadata=a.metadata)
    assert theirs.webhook_id not in [w.webhook_id for w in listed.webhooks]
    # Nothing of B's is left to deliver (later tests run delivery passes).
    await delete_webhooks(b)
    no_errors(server_errors)


async def test_another_tenants_seat_is_never_renewed_or_released(
    two: Two, server_errors: LoggedErrors
) -> None:
    a, b = two.a, two.b
    room_id = await open_room(b)
    seat = (
        await b.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="host", claim_seat=True),
            metadata=b.metadata,
        )
    ).seat
    error = await refused(
        a.participants.RenewSeat(ps.RenewSeatRequest(seat_id=seat.seat_id), metadata=a.metadata),
        Code.NOT_FOUND,
    )
    assert error.reason == "SEAT_NOT_FOUND"
    await a.participants.ReleaseSeat(
        ps.ReleaseSeatRequest(seat_id=seat.seat_id), metadata=a.metadata
    )
    # B's seat is still held, with its expiry unchanged.
    seats = await b.participants.ListSeats(
        ps.ListSeatsRequest(room_id=room_id), metadata=b.metadata
    )
    assert [(s.seat_id, s.expire_time) for s in seats.seats] == [(seat.seat_id, seat.expire_time)]
    # B's ban of a user in B's room does not follow the same user into A's same-named room.
    await b.participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["guest"], ban=True),
        metadata=b.metadata,
    )
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id, room=room_pb2.Room(join_policy=room_pb2.JOIN_POLICY_OPEN)
        ),
        metadata=a.metadata,
    )
    decision = await a.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="guest"), metadata=a.metadata
    )
    assert decision.allowed
    no_errors(server_errors)
