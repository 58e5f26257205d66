"""A Janus restarted in the middle gets its rooms back from the database, and its
secrets stay out of the logs."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from rooms.v1 import participant_pb2 as pp

from service.domain.clock import ManualClock
from service.media.janus import tokens as derive
from service.storage import delivery as delivery_sql
from tests.conftest import ServerFactory
from tests.janus.conftest import started
from tests.janus.drive.deployment import NOT_ALLOWED, deploy, join_with
from tests.shared.calls import timestamp
from tests.shared.errors import expect_error


async def test_janus_restarted_in_the_middle_gets_its_rooms_back(
    start: ServerFactory, tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    own = await started(tmp_path / "janus")  # restarted here: not the shared one
    try:
        async for d in deploy(start, own, tmp_path, clock):
            until = (clock.now() + timedelta(hours=1)).replace(microsecond=0)
            room_id = await d.make_room(
                {"hank": pp.ROLE_PRESENTER, "ivy": pp.ROLE_ATTENDEE},
                valid_until=timestamp(until),
            )
            await d.running.lifecycle.run_once()
            await d.deliver()
            control = d.running.janus
            assert control is not None
            assert await control.check_once() >= 1  # first check: reconciled
            assert await control.check_once() == 0  # Janus holds its rooms
            hank = (await d.authorize(room_id, "hank")).credential
            ivy = (await d.authorize(room_id, "ivy")).credential

            await own.stop()
            # Janus is away: AuthorizeJoin cannot admit anyone there, and says so.
            await expect_error(
                d.authorize(room_id, "hank"),
                grpc.StatusCode.UNAVAILABLE,
                "MEDIA_SERVER_UNAVAILABLE",
            )
            # Changes made meanwhile: the removal's delivery fails and is retried.
            await d.remove(room_id, "ivy")
            await d.roster(room_id, jack=pp.ROLE_ATTENDEE)
            assert (await d.running.delivery.run_once()).failed >= 1
            async with d.running.pool.acquire() as connection:
                state = await delivery_sql.destination_state(connection, d.tenant, "janus")
            assert state is not None and state.pending_events > 0
            assert state.last_error == "Janus is unreachable"
            assert await control.check_once() == 0  # unreachable

            await own.start()  # a new Janus process: it remembers no room
            assert not await d.adapter.exists(d.number(room_id))
            assert await control.check_once() == 1

            # Restored from the database: hank's credential works again, ivy's does not.
            allowed = await d.adapter.allowed_tokens(d.number(room_id), d.secret(room_id))
            key = d.config.token_auth_key
            expected = {
                derive.join_token(key, d.tenant, room_id, user, 0, until)
                for user in ("hank", "jack")
            }
            assert allowed == expected
            client, joined = await join_with(d, hank)
            assert joined.get("videoroom") == "joined", joined
            other, refused = await join_with(d, ivy)
            assert refused.get("error_code") == NOT_ALLOWED, refused
            for made in (client, other):
                await made.aclose()

            # The failed delivery, retried once due, finds its work done.
            clock.advance(timedelta(seconds=30))
            await d.deliver()
            participants = await d.adapter.participants(d.number(room_id))
            assert [p.id for p in participants] == [
                derive.participant_id(d.tenant, room_id, "hank")
            ]

            # Janus's secrets, the room's secret and the join tokens stay out of the logs
            # (of the failures above too).
            assert "Janus of tenant" in caplog.text  # the outage was logged
            for secret in (
                d.config.token_auth_secret.get_secret_value(),
                d.config.room_secret.get_secret_value(),
                own.admin_key,
                d.secret(room_id),
                hank.janus.join_token,
                ivy.janus.join_token,
                hank.token.rsplit(":", 1)[1],
            ):
                assert secret not in caplog.text
    finally:
        await own.stop()
