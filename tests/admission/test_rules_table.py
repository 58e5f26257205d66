"""Pure unit tests of service.domain.admission: who may join, when, and with what (the
table of roles, policies and times), the capabilities per role, and open rooms. Why
not and until when: test_rules_when.py.

The expected capability sets are written out from the role -> capability table of
the product facts (virtual-rooms-facts.md), not taken from ROLE_CAPABILITIES.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from service.domain.admission import (
    Capability,
    JoinReason,
    capabilities_in,
    decide_join,
)
from service.domain.models import JoinPolicy, Role
from tests.admission.fixed_room import EARLY_ENTRY, MICROSECOND, VALID_FROM, VALID_UNTIL, make_room

C = Capability

# The facts' table, one row per capability, written out per role.
PRESENTER_CAPABILITIES = frozenset(
    {
        C.SPEAK,
        C.VIDEO,
        C.SHARE_SCREEN,
        C.MUTE_OTHERS,
        C.REMOVE_PARTICIPANTS,
        C.INVITE_PARTICIPANTS,
        C.DIAL_OUT,
        C.RECEIVE_MEDIA,
        C.RAISE_HAND,
        C.REACT,
        C.SPOTLIGHT_OTHERS,
        C.ADMIT_PARTICIPANTS,
    }
)
# A presenter dials out only where the room allows it.
PRESENTER_CAPABILITIES_WITHOUT_DIAL_OUT = PRESENTER_CAPABILITIES - {C.DIAL_OUT}
ATTENDEE_CAPABILITIES = frozenset({C.SPEAK, C.VIDEO, C.RECEIVE_MEDIA, C.RAISE_HAND, C.REACT})
CONSUMER_CAPABILITIES = frozenset({C.RECEIVE_MEDIA, C.RAISE_HAND, C.REACT})
COLLABORATOR_CAPABILITIES = frozenset(
    {C.SPEAK, C.VIDEO, C.SHARE_SCREEN, C.RECEIVE_MEDIA, C.RAISE_HAND, C.REACT}
)


def expected_capabilities(role: Role, dial_out_enabled: bool) -> frozenset[Capability]:
    if role is Role.PRESENTER:
        if dial_out_enabled:
            return PRESENTER_CAPABILITIES
        return PRESENTER_CAPABILITIES_WITHOUT_DIAL_OUT
    if role is Role.ATTENDEE:
        return ATTENDEE_CAPABILITIES
    if role is Role.CONSUMER:
        return CONSUMER_CAPABILITIES
    assert role is Role.COLLABORATOR
    return COLLABORATOR_CAPABILITIES


# --- The table -------------------------------------------------------------------------

TIMES = {
    "well before the window": VALID_FROM - timedelta(days=1),
    "inside the early-entry period": VALID_FROM - timedelta(minutes=10),
    "at valid_from - early_entry": VALID_FROM - EARLY_ENTRY,
    "at valid_from": VALID_FROM,
    "inside the window": VALID_FROM + timedelta(hours=1),
    "one microsecond before valid_until": VALID_UNTIL - MICROSECOND,
    "at valid_until": VALID_UNTIL,
    "after the window": VALID_UNTIL + timedelta(days=1),
}
EARLY_ENTRY_ROLES = {Role.PRESENTER, Role.COLLABORATOR}

CASES = list(
    itertools.product(
        [Role.PRESENTER, Role.ATTENDEE, Role.CONSUMER, Role.COLLABORATOR],
        [JoinPolicy.INVITE_ONLY, JoinPolicy.OPEN],
        list(TIMES),
        [True, False],  # rostered
        [False, True],  # pstn_dial_out_enabled
    )
)


def case_id(case: tuple[Role, JoinPolicy, str, bool, bool]) -> str:
    role, policy, time, rostered, dial_out = case
    return "-".join(
        [
            role.value,
            policy.value,
            time.replace(" ", "_"),
            "rostered" if rostered else "not_rostered",
            "dial_out" if dial_out else "no_dial_out",
        ]
    )


@pytest.mark.parametrize(
    ("role", "policy", "time", "rostered", "dial_out"), CASES, ids=[case_id(c) for c in CASES]
)
def test_join_decision_table(
    role: Role, policy: JoinPolicy, time: str, rostered: bool, dial_out: bool
) -> None:
    now = TIMES[time]
    if rostered:
        # The rostered role wins over the open-join role, which is set to something else.
        open_join_role = Role.CONSUMER if role is not Role.CONSUMER else Role.ATTENDEE
        rostered_role: Role | None = role
    else:
        # A non-rostered identity can only be admitted, with the open-join role, by an open room.
        open_join_role = role
        rostered_role = None
    room = make_room(
        pstn_dial_out_enabled=dial_out,
        join_policy=policy,
        open_join_role=open_join_role,
        early_entry=EARLY_ENTRY,
    )

    decision = decide_join(room, rostered_role, now)

    # The expectation, from the product rules.
    admitted = rostered or policy is JoinPolicy.OPEN
    opens_at = VALID_FROM - EARLY_ENTRY if role in EARLY_ENTRY_ROLES else VALID_FROM
    expected: tuple[bool, JoinReason, Role | None, frozenset[Capability]]
    if not admitted:
        expected = (False, JoinReason.NOT_INVITED, None, frozenset())
    elif now < opens_at:
        expected = (False, JoinReason.NOT_YET_OPEN, role, frozenset())
    elif now >= VALID_UNTIL:
        expected = (False, JoinReason.ENDED, role, frozenset())
    else:
        expected = (True, JoinReason.ALLOWED, role, expected_capabilities(role, dial_out))

    assert (decision.allowed, decision.reason, decision.role, decision.capabilities) == expected
    assert isinstance(decision.capabilities, frozenset)
    assert decision.message
    if decision.reason is JoinReason.NOT_YET_OPEN:
        assert decision.opens_at == opens_at
        assert decision.opens_in == opens_at - now
    else:
        assert decision.opens_at is None
        assert decision.opens_in is None
    if admitted:
        assert (decision.valid_from, decision.valid_until) == (VALID_FROM, VALID_UNTIL)


def test_the_table_covers_every_role() -> None:
    assert {case[0] for case in CASES} == set(Role)


# --- Capabilities and dial-out -----------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("dial_out", [False, True])
def test_capabilities_in(role: Role, dial_out: bool) -> None:
    room = make_room(pstn_dial_out_enabled=dial_out)
    assert capabilities_in(role, room) == expected_capabilities(role, dial_out)


def test_dial_out_is_granted_only_to_presenters_of_rooms_that_allow_it() -> None:
    granted = {
        (role, dial_out)
        for role in Role
        for dial_out in (False, True)
        if C.DIAL_OUT
        in decide_join(
            make_room(pstn_dial_out_enabled=dial_out), role, VALID_FROM + timedelta(minutes=1)
        ).capabilities
    }
    assert granted == {(Role.PRESENTER, True)}


# --- Open rooms --------------------------------------------------------------------------


@pytest.mark.parametrize("open_join_role", list(Role))
def test_open_room_admits_strangers_with_its_open_join_role(open_join_role: Role) -> None:
    room = make_room(join_policy=JoinPolicy.OPEN, open_join_role=open_join_role)
    decision = decide_join(room, None, VALID_FROM + timedelta(minutes=5))
    assert decision.allowed
    assert decision.reason is JoinReason.ALLOWED
    assert decision.role is open_join_role
    assert decision.capabilities == expected_capabilities(open_join_role, False)


def test_open_room_keeps_rostered_roles() -> None:
    room = make_room(join_policy=JoinPolicy.OPEN, open_join_role=Role.CONSUMER)
    decision = decide_join(room, Role.PRESENTER, VALID_FROM)
    assert decision.role is Role.PRESENTER
    assert decision.capabilities == PRESENTER_CAPABILITIES_WITHOUT_DIAL_OUT


def test_invite_only_room_refuses_strangers_even_inside_the_window() -> None:
    decision = decide_join(make_room(), None, VALID_FROM + timedelta(minutes=5))
    assert not decision.allowed
    assert decision.reason is JoinReason.NOT_INVITED
    assert decision.role is None
    assert decision.capabilities == frozenset()
    assert "not invited" in decision.message
