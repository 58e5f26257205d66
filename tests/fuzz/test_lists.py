"""Fuzzing the three Lists (ListRooms, ListParticipants, ListRoomsForParticipant), which
page alike: odd and huge page sizes; page tokens that are real, foreign (of another
list or tenant), tampered, truncated, re-spelt, forged or garbage; unknown filter
values. Every call answers OK or a precise error (`Fuzz.send`); an OK page holds at
most what was asked for, each item once, in its list's order, only the items of the
filter asked for, and its token is kept for later cases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.fuzz.harness import Fuzz
from tests.fuzz.sending import Sending, sendings
from tests.fuzz.strategies import (
    FUZZ,
    page_sizes,
    page_tokens,
    roles,
    room_ids,
    room_states,
    user_ids,
)
from tests.fuzz.texts import SQL


@dataclass(frozen=True)
class Listing:
    """One List as the fuzzing sees it: its request for a scope and a filter value,
    what scopes and filters it, its items, their order and each item's filtered value."""

    method: Callable[[Fuzz], grpc.aio.UnaryUnaryMultiCallable[Any, Any]]
    request: Callable[[Any, Any], Any]  # (scope, filter value) -> request
    scopes: st.SearchStrategy[Any]
    filters: st.SearchStrategy[int]
    items: Callable[[Any], Any]
    key: Callable[[Any], Any]
    filtered: Callable[[Any], int]
    newest_first: bool = False


LISTINGS = {
    "ListRooms": Listing(
        method=lambda fuzz: fuzz.rooms.ListRooms,
        request=lambda _, state: rs.ListRoomsRequest(state=state),
        scopes=st.none(),
        filters=room_states,
        items=lambda page: page.rooms,
        key=lambda room: (room.create_time.ToDatetime(), room.room_id),
        filtered=lambda room: room.state,
        newest_first=True,
    ),
    "ListParticipants": Listing(
        method=lambda fuzz: fuzz.participants.ListParticipants,
        request=lambda room_id, role: ps.ListParticipantsRequest(room_id=room_id, role=role),
        scopes=room_ids,
        filters=roles,
        items=lambda page: page.participants,
        key=lambda participant: participant.user_id.encode(),  # byte order
        filtered=lambda participant: participant.role,
    ),
    "ListRoomsForParticipant": Listing(
        method=lambda fuzz: fuzz.participants.ListRoomsForParticipant,
        request=lambda user_id, state: ps.ListRoomsForParticipantRequest(
            user_id=user_id, state=state
        ),
        scopes=st.one_of(user_ids, user_ids, st.sampled_from(SQL)),
        filters=room_states,
        items=lambda page: page.memberships,
        key=lambda m: (m.room.valid_from.ToDatetime(), m.room.room_id.encode()),
        filtered=lambda membership: membership.room.state,
    ),
}


def cap(page_size: int) -> int:
    """How many items a page of `page_size` may hold."""
    return 50 if page_size == 0 else min(page_size, 500)


@pytest.mark.parametrize("rpc", LISTINGS)
@FUZZ
@given(data=st.data(), page_size=page_sizes, page_token=page_tokens, sending=sendings)
async def test_fuzz_list(
    fuzz: Fuzz, rpc: str, data: st.DataObject, page_size: int, page_token: Any, sending: Sending
) -> None:
    listing = LISTINGS[rpc]
    wanted = data.draw(listing.filters, label="filter")
    request = listing.request(fuzz.resolve(data.draw(listing.scopes, label="scope")), wanted)
    request.page_size = page_size
    request.page_token = fuzz.resolve(page_token)
    page = await fuzz.send(listing.method(fuzz), request, sending)
    if page is None:
        return
    fuzz.remember("tokens", page.next_page_token)
    items = listing.items(page)
    assert len(items) <= cap(page_size)
    keys = [listing.key(item) for item in items]
    assert keys == sorted(set(keys), reverse=listing.newest_first)
    if wanted:
        assert all(listing.filtered(item) == wanted for item in items)
