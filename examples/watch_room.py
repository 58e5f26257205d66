"""Print a room's changes live; the client resumes after disconnects by itself.

    .venv/bin/python examples/watch_room.py ROOM_ID [--address 127.0.0.1:50051] [--key KEY]

Starts with the room's retained history (after revision 0); pass --after N to start
after revision N instead. Stops when the room is deleted, or on Ctrl-C.
(The `rooms watch ROOM_ID` command does the same.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from rooms.client import RoomsClient
from rooms.errors import RoomsError
from rooms.events import describe_event


async def watch(address: str, room_id: str, after: int, key: str | None) -> None:
    async with RoomsClient(address, api_key=key) as client:
        async for event in client.watch_room(room_id, after_revision=after):
            print(describe_event(event), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Print a room's changes live.")
    parser.add_argument("room_id")
    parser.add_argument("--address", default="127.0.0.1:50051")
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--key", default=None, help="API key (none in development)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(watch(args.address, args.room_id, args.after, args.key))
        except RoomsError as error:
            raise SystemExit(f"error: {error.one_line()}") from None


if __name__ == "__main__":
    main()
