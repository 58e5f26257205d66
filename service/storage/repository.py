"""The store of rooms, on PostgreSQL: one class per responsibility composed into one.

The statements are in sql/*.sql (loaded by service/storage/queries.py); each module
here holds the methods of one responsibility.
"""

from service.storage.base import translate_errors
from service.storage.knocks_and_seats import KnocksAndSeatsStore
from service.storage.rooms import RoomsStore
from service.storage.roster import RosterStore
from service.storage.signing_keys import SigningKeysStore

__all__ = ["PgRoomStore", "translate_errors"]


class PgRoomStore(RoomsStore, RosterStore, KnocksAndSeatsStore, SigningKeysStore):
    """Rooms and rosters in PostgreSQL, scoped by tenant: what the use cases call.
    Methods raise DomainError for expected failures and take keyword arguments only.
    `version` is a room's counter behind its etag; `revision` only ever an event's
    number in the room's history."""
