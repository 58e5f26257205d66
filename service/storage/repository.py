"""`RoomStore` on PostgreSQL, one class per responsibility composed into one.

The statements are in queries.sql (loaded by service/storage/queries.py); each module
here holds the methods of one responsibility.
"""

from service.storage.base import translate_errors
from service.storage.knocks_and_seats import KnocksAndSeatsStore
from service.storage.rooms import RoomsStore
from service.storage.roster import RosterStore
from service.storage.signing_keys import SigningKeysStore

__all__ = ["PgRoomStore", "translate_errors"]


class PgRoomStore(RoomsStore, RosterStore, KnocksAndSeatsStore, SigningKeysStore):
    """Rooms and rosters in PostgreSQL, scoped by tenant."""
