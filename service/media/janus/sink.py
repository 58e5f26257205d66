"""The Janus sink: the tenant's Janus VideoRooms follow the room's history.

  OPENED, SETTINGS_CHANGED            -> sync: the VideoRoom exists while someone may be
                                         in the room, its allowed list = who is admitted
                                         now (a reconcile against the database)
  PARTICIPANT_REMOVED, _BANNED,
  _DENIED, ADMISSION_REVOKED,
  ROLE_CHANGED that takes
  publishing away                     -> the identity's old join tokens leave the allowed
                                         list, its participant is kicked
  ROLE_CHANGED that gives publishing  -> sync (its token joins the allowed list)
  PARTICIPANT_WINDOW_ENDED            -> evict (the identity's own window ended)
  PARTICIPANT_WINDOW_CHANGED          -> sync (its token's expiry is its window's end)
  PARTICIPANT_MODERATED               -> `moderate` its audio (and video) streams
  ENDED, DELETED                      -> destroy

Every operation is idempotent and reads the room's current state from the database, so
a retry (another replica, a lapsed lease) is harmless. Janus unreachable or refusing:
the event is retried by the engine with its backoff, and `JanusControl.check_once`
reconciles every open room once Janus answers again (or after it restarted).
"""

from __future__ import annotations

from service.delivery.sink import Target
from service.domain.events import EventType, RoomEvent
from service.domain.janus import forbids_publishing, grants_publishing
from service.domain.models import Role
from service.media.janus.client import JanusUnavailable
from service.media.janus.control import JANUS_FAILURES, JanusControl

SINK = "janus"
# The one destination of this sink per tenant with a Janus configuration.
DESTINATION = "janus"

SYNC_EVENTS = frozenset(
    {EventType.OPENED, EventType.SETTINGS_CHANGED, EventType.PARTICIPANT_WINDOW_CHANGED}
)
EVICT_EVENTS = frozenset(
    {
        EventType.PARTICIPANT_REMOVED,
        EventType.PARTICIPANT_BANNED,
        EventType.PARTICIPANT_DENIED,
        EventType.ADMISSION_REVOKED,
        EventType.PARTICIPANT_WINDOW_ENDED,
    }
)
END_EVENTS = frozenset({EventType.ENDED, EventType.DELETED})


def _role_change(event: RoomEvent) -> tuple[Role, Role] | None:
    """(before, after) of a role change; None for any other event."""
    if event.type is not EventType.ROLE_CHANGED:
        return None
    if event.role is None or event.previous_role is None:
        return None
    return event.previous_role, event.role


def evicts(event: RoomEvent) -> bool:
    """Whether the event takes an identity out of the VideoRoom."""
    if event.user_id is None:
        return False
    if event.type in EVICT_EVENTS:
        return True
    change = _role_change(event)
    return change is not None and forbids_publishing(*change)


def promotes(event: RoomEvent) -> bool:
    """Whether the event lets an identity publish (its token joins `allowed`)."""
    change = _role_change(event)
    return change is not None and grants_publishing(*change)


def wanted(event: RoomEvent) -> bool:
    return (
        event.type in SYNC_EVENTS
        or event.type in END_EVENTS
        or evicts(event)
        or promotes(event)
        or (event.type is EventType.PARTICIPANT_MODERATED and event.user_id is not None)
    )


class _JanusTarget:
    def __init__(self, control: JanusControl, tenant: str) -> None:
        self._control = control
        self._tenant = tenant

    def wants(self, event: RoomEvent) -> bool:
        return wanted(event)

    async def send(self, event: RoomEvent, delivery_id: str) -> str | None:
        try:
            if event.type in END_EVENTS:
                await self._control.destroy(self._tenant, event.room_id)
            elif event.type in SYNC_EVENTS or promotes(event):
                await self._control.sync_room(self._tenant, event.room_id)
            elif event.moderation is not None and event.user_id is not None:
                await self._control.moderate(
                    self._tenant,
                    event.room_id,
                    event.user_id,
                    muted=event.moderation.muted,
                    video=event.moderation.video,
                )
            elif event.user_id is not None:
                await self._control.evict(self._tenant, event.room_id, event.user_id)
        except JanusUnavailable:
            return "Janus is unreachable"
        except JANUS_FAILURES as error:
            # A code and Janus's reason: never a token or a secret.
            return f"Janus refused: {error}"[:200]
        return None


class JanusSink:
    name = SINK

    def __init__(self, control: JanusControl) -> None:
        self._control = control

    async def target(self, tenant: str, destination: str) -> Target | None:
        if self._control.tenant(tenant) is None:
            return None
        return _JanusTarget(self._control, tenant)
