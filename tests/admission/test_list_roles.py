"""RoomsService.ListRoles end to end: the capability table, and the same answer as
AuthorizeJoin gives."""

from __future__ import annotations

from rooms.v1 import admission_pb2 as ad
from rooms.v1 import rooms_service_pb2 as rs

from tests.admission.decisions import (
    ATTENDEE,
    ATTENDEE_CAPABILITIES,
    COLLABORATOR,
    COLLABORATOR_CAPABILITIES,
    CONSUMER,
    CONSUMER_CAPABILITIES,
    PRESENTER,
    PRESENTER_CAPABILITIES,
    Capability,
    Role,
    assert_allowed,
    authorize,
)
from tests.shared.calls import Rooms, make_room, person


async def test_list_roles_matches_the_capability_table(rooms: Rooms) -> None:
    response = await rooms.ListRoles(rs.ListRolesRequest())
    by_role = {definition.role: definition for definition in response.roles}
    assert len(by_role) == len(response.roles) == 4
    expected: dict[Role, tuple[str, set[Capability]]] = {
        PRESENTER: ("presenter", PRESENTER_CAPABILITIES),
        ATTENDEE: ("attendee", ATTENDEE_CAPABILITIES),
        CONSUMER: ("consumer", CONSUMER_CAPABILITIES),
        COLLABORATOR: ("collaborator", COLLABORATOR_CAPABILITIES),
    }
    assert set(by_role) == set(expected)
    for role, (name, granted) in expected.items():
        definition = by_role[role]
        assert definition.name == name
        listed = list(definition.capabilities)
        assert len(listed) == len(set(listed)), name
        assert set(listed) == granted, name
        assert ad.CAPABILITY_UNSPECIFIED not in listed
    # The same answer every time.
    assert (await rooms.ListRoles(rs.ListRolesRequest())) == response


async def test_list_roles_agrees_with_authorize_join(rooms: Rooms) -> None:
    response = await rooms.ListRoles(rs.ListRolesRequest())
    members = [person(f"as-{d.name}", d.role) for d in response.roles]
    room = await make_room(rooms, members, pstn_dial_out_enabled=True)
    for definition in response.roles:
        decision = await authorize(rooms, room.room_id, f"as-{definition.name}")
        assert_allowed(decision, definition.role, set(definition.capabilities))
