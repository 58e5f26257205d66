"""`RoomStore` in memory: the same observable behaviour as `PgRoomStore`
(tests/contract/ runs one suite against both), for use-case tests that run in
milliseconds. Deterministic and without I/O: time comes from the `now` arguments,
seat ids from `seat_ids`."""

from service.storage.memory.knocks_and_seats import MemoryKnocksAndSeats
from service.storage.memory.rooms import MemoryRooms
from service.storage.memory.roster import MemoryRoster
from service.storage.memory.tables import MemoryNotifier

__all__ = ["MemoryNotifier", "MemoryRoomStore"]


class MemoryRoomStore(MemoryRooms, MemoryRoster, MemoryKnocksAndSeats):
    """Rooms and rosters in memory, scoped by tenant."""
