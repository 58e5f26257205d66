"""A recurring room's VideoRoom exists in real Janus only during its occurrences: made
when each opens, destroyed when each ends, following OPENED and ENDED per occurrence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rooms.v1 import participant_pb2 as pp

from service.domain.clock import ManualClock
from tests.janus.drive.deployment import Deployment
from tests.shared.calls import timestamp

pytestmark = pytest.mark.janus

HOUR = timedelta(hours=1)


async def test_the_videoroom_appears_and_disappears_per_occurrence(
    rooms_and_janus: Deployment, clock: ManualClock
) -> None:
    d = rooms_and_janus
    first = clock.now().replace(microsecond=0) + HOUR
    room_id = await d.make_room(
        {"gina": pp.ROLE_ATTENDEE},
        valid_from=timestamp(first),
        valid_until=timestamp(first + HOUR),
        recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
    )

    async def at(moment: timedelta) -> bool:
        clock.set(first + moment)
        await d.running.lifecycle.run_once()
        await d.deliver()
        return bool(await d.adapter.exists(d.number(room_id)))

    assert not await at(-HOUR / 2)
    assert await at(timedelta(minutes=1))  # the first occurrence
    assert (await d.authorize(room_id, "gina")).allowed
    assert not await at(HOUR + timedelta(minutes=1))  # between the first and the second
    assert not (await d.authorize(room_id, "gina")).allowed
    assert await at(timedelta(days=1, minutes=1))  # the second
    assert not await at(timedelta(days=1, hours=1, minutes=1))
    assert await at(timedelta(days=2, minutes=1))  # the third, the last
    assert not await at(timedelta(days=2, hours=1, minutes=1))
