"""Webhooks from the Python client (`RoomsClient`) and the `rooms webhooks` CLI,
against a real server whose caller is a tenant of its own (so the lists hold only
this module's webhooks). The signing secret is shown by the answer to create only:
never by get, list, update, or any CLI output but `create`'s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from rooms.client import RoomsClient
from rooms.errors import EtagMismatch, WebhookAlreadyExists, WebhookNotFound, WebhookUrlNotAllowed
from rooms.v1 import events_pb2 as ev
from rooms.v1 import webhooks_service_pb2 as ws

from service.security.keys import new_key
from tests.cli.in_process import Cli, fields, rows
from tests.conftest import ServerFactory
from tests.shared.calls import unique

T = ev.RoomEventType
URL = "https://hooks.example.com/rooms"


@dataclass(frozen=True)
class Tenant:
    port: int
    key: str

    def client(self) -> RoomsClient:
        return RoomsClient(f"127.0.0.1:{self.port}", api_key=self.key)

    def cli(self) -> Cli:
        return Cli(self.port, api_key=self.key)


@pytest.fixture(scope="module")
async def tenant(start: ServerFactory) -> AsyncIterator[Tenant]:
    key, entry = new_key(unique("hooks").replace("-", ""), "tests")
    running = await start(api_keys=entry.line(), max_webhooks_per_tenant=50)
    yield Tenant(running.port, key)


async def _delete_all(client: RoomsClient) -> None:
    async for webhook in client.list_webhooks():
        await client.delete_webhook(webhook.webhook_id)


# ---- the client ---------------------------------------------------------------------


async def test_create_get_list_update_delete(tenant: Tenant) -> None:
    async with tenant.client() as client:
        await _delete_all(client)
        created = await client.create_webhook(
            URL,
            webhook_id=unique("hook"),
            event_types=["participant_removed", "ROOM_EVENT_TYPE_DELETED", T.ROOM_EVENT_TYPE_ENDED],
            room_ids=["visit-42"],
        )
        assert created.secret.startswith("whsec_") and len(created.secret) > 40
        assert (created.url, list(created.event_types), list(created.room_ids)) == (
            URL,
            [
                T.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED,
                T.ROOM_EVENT_TYPE_DELETED,
                T.ROOM_EVENT_TYPE_ENDED,
            ],
            ["visit-42"],
        )
        assert created.delivery.status == ws.WEBHOOK_STATUS_ACTIVE and created.etag

        got = await client.get_webhook(created.webhook_id)
        assert got.secret == ""
        expected = ws.Webhook()
        expected.CopyFrom(created)
        expected.ClearField("secret")
        assert got == expected

        # Only the fields given change (the mask names them); the others stay.
        moved = await client.update_webhook(
            created.webhook_id, url="https://hooks.example.com/v2", etag=created.etag
        )
        assert moved.url == "https://hooks.example.com/v2"
        assert list(moved.event_types) == list(created.event_types)
        assert list(moved.room_ids) == ["visit-42"]
        assert moved.secret == "" and moved.etag != created.etag
        # An empty list, named, means every type / every room.
        widened = await client.update_webhook(created.webhook_id, event_types=[], room_ids=[])
        assert (list(widened.event_types), list(widened.room_ids)) == ([], [])
        assert widened.url == "https://hooks.example.com/v2"
        # No field: nothing changes but the etag (it resumes a failing webhook).
        resumed = await client.update_webhook(created.webhook_id)
        assert resumed.url == widened.url and resumed.etag != widened.etag
        with pytest.raises(EtagMismatch):
            await client.update_webhook(created.webhook_id, url=URL, etag=created.etag)

        listed = [webhook async for webhook in client.list_webhooks()]
        assert [webhook.webhook_id for webhook in listed] == [created.webhook_id]
        assert all(webhook.secret == "" for webhook in listed)

        with pytest.raises(EtagMismatch):
            await client.delete_webhook(created.webhook_id, etag=created.etag)
        await client.delete_webhook(created.webhook_id, etag=resumed.etag)
        with pytest.raises(WebhookNotFound) as caught:
            await client.get_webhook(created.webhook_id)
        assert caught.value.metadata["webhook_id"] == created.webhook_id
        with pytest.raises(WebhookNotFound):
            await client.delete_webhook(created.webhook_id)


async def test_list_follows_pages_in_id_order_and_never_shows_a_secret(tenant: Tenant) -> None:
    async with tenant.client() as client:
        await _delete_all(client)
        prefix = unique("paged")
        made = [
            await client.create_webhook(URL, webhook_id=f"{prefix}-{index}") for index in range(5)
        ]
        assert all(webhook.secret for webhook in made)
        listed = [webhook async for webhook in client.list_webhooks(page_size=2)]
        assert [webhook.webhook_id for webhook in listed] == sorted(w.webhook_id for w in made)
        assert [webhook.secret for webhook in listed] == [""] * 5
        await _delete_all(client)


async def test_refusals_are_typed(tenant: Tenant) -> None:
    async with tenant.client() as client:
        webhook_id = unique("taken")
        await client.create_webhook(URL, webhook_id=webhook_id)
        with pytest.raises(WebhookAlreadyExists):
            await client.create_webhook(URL, webhook_id=webhook_id)
        with pytest.raises(WebhookUrlNotAllowed) as caught:
            await client.create_webhook("http://hooks.example.com/plain")
        assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(ValueError, match="unknown event type"):
            await client.create_webhook(URL, event_types=["no-such-event"])
        await client.delete_webhook(webhook_id)


# ---- the CLI ---------------------------------------------------------------------------


async def test_cli_create_show_list_update_delete(tenant: Tenant) -> None:
    cli = tenant.cli()
    webhook_id = unique("cli-hook")
    created = fields(
        await cli.ok(
            "webhooks", "create", URL, "--id", webhook_id,
            "--event", "participant-removed", "--event", "deleted", "--room", "visit-42",
        )
    )  # fmt: skip
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert created["webhook_id"] == webhook_id
    assert created["url"] == URL
    assert created["event_types"] == "participant-removed, deleted"
    assert created["room_ids"] == "visit-42"
    assert created["status"] == "active"
    assert created["pending_events"] == "0"

    shown = await cli.ok("webhooks", "show", webhook_id)
    assert fields(shown) == {name: value for name, value in created.items() if name != "secret"}
    as_json = await cli.json("webhooks", "show", webhook_id)
    assert as_json["webhookId"] == webhook_id and as_json["secret"] == ""
    assert as_json["eventTypes"] == [
        "ROOM_EVENT_TYPE_PARTICIPANT_REMOVED",
        "ROOM_EVENT_TYPE_DELETED",
    ]
    listed = await cli.ok("webhooks", "list")
    table = rows(listed)
    assert table[0] == ["WEBHOOK_ID", "URL", "STATUS", "PENDING", "EVENTS", "ROOMS"]
    assert [row[0] for row in table[1:]].count(webhook_id) == 1
    listed_json = await cli.json("webhooks", "list")
    assert webhook_id in [item["webhookId"] for item in listed_json]
    for output in (shown, str(as_json), listed, str(listed_json)):
        assert secret not in output
        assert secret.removeprefix("whsec_") not in output

    updated = fields(
        await cli.ok(
            "webhooks", "update", webhook_id, "--url", "https://hooks.example.com/v2",
            "--all-events", "--etag", created["etag"],
        )
    )  # fmt: skip
    assert updated["url"] == "https://hooks.example.com/v2"
    assert updated["event_types"] == "all"
    assert updated["room_ids"] == "visit-42"
    assert "secret" not in updated
    stale = await cli.fails(
        "webhooks", "update", webhook_id, "--room", "x", "--etag", created["etag"]
    )
    assert stale.startswith("error: ETAG_MISMATCH (ABORTED)")

    assert await cli.ok("webhooks", "delete", webhook_id) == f"deleted {webhook_id}\n"
    gone = await cli.fails("webhooks", "show", webhook_id)
    assert gone.startswith("error: WEBHOOK_NOT_FOUND (NOT_FOUND)")


async def test_cli_usage_errors(tenant: Tenant) -> None:
    cli = tenant.cli()
    for args in (
        ("webhooks", "create", URL, "--event", "no-such-event"),
        ("webhooks", "update", "any", "--event", "deleted", "--all-events"),
        ("webhooks", "update", "any", "--room", "r", "--all-rooms"),
    ):
        result = await cli(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
