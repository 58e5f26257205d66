"""The use cases: one method per API operation, joining the domain rules to storage.

No grpc and no asyncpg here: the transport converts messages to the domain's values
and calls these. One module per area, each area one class built from the shared
dependencies (`deps.Deps`), composed by attribute in `UseCases`:

    rooms.py         CreateRoom, GetRoom, ListRooms, UpdateRoom, DeleteRoom
    participants.py  the roster, and an identity's rooms
    history.py       ListRoomEvents, WatchRoom
    admission.py     AuthorizeJoin (decision, seat, credential, Janus), IntrospectCredential
    judge.py         how an identity would be judged joining now (admission, moderation)
    waiting_room.py  ListKnocks, AdmitParticipant, DenyParticipant
    seats.py         RenewSeat, ReleaseSeat, ListSeats
    moderation.py    ModerateParticipant
    webhooks.py      rooms.v1.WebhooksService
    calendar.py      ListOccurrences and calendar feeds
    lifecycle.py     the background passes: windows, seats' expiry, purges
"""

from __future__ import annotations

from dataclasses import dataclass

from service.usecases.admission import AdmissionUseCases
from service.usecases.calendar import CalendarUseCases
from service.usecases.deps import Deps
from service.usecases.history import HistoryUseCases
from service.usecases.moderation import ModerationUseCases
from service.usecases.participants import ParticipantUseCases
from service.usecases.rooms import RoomUseCases
from service.usecases.seats import SeatUseCases
from service.usecases.waiting_room import WaitingRoomUseCases
from service.usecases.webhooks import WebhookUseCases


@dataclass(frozen=True, slots=True, kw_only=True)
class UseCases:
    """Every area an API serves, each built from the same dependencies (webhooks and
    calendar feeds also take stores of their own). The lifecycle runs in the background
    and is built beside these."""

    rooms: RoomUseCases
    participants: ParticipantUseCases
    history: HistoryUseCases
    admission: AdmissionUseCases
    waiting_room: WaitingRoomUseCases
    seats: SeatUseCases
    moderation: ModerationUseCases
    webhooks: WebhookUseCases
    calendar: CalendarUseCases

    @classmethod
    def over(cls, deps: Deps, *, webhooks: WebhookUseCases, calendar: CalendarUseCases) -> UseCases:
        """Every area on `deps`, with the webhooks and calendar areas (built on their
        own stores) as given."""
        return cls(
            rooms=RoomUseCases(deps),
            participants=ParticipantUseCases(deps),
            history=HistoryUseCases(deps),
            admission=AdmissionUseCases(deps),
            waiting_room=WaitingRoomUseCases(deps),
            seats=SeatUseCases(deps),
            moderation=ModerationUseCases(deps),
            webhooks=webhooks,
            calendar=calendar,
        )
