"""Print a room's changes live, resuming after disconnects without gap or duplicate.

    .venv/bin/python examples/watch_room.py ROOM_ID [--address 127.0.0.1:50051] [--key KEY]

Starts with the room's retained history (after revision 0); pass --after N to start
after revision N instead. Stops when the room is deleted or on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import grpc
from rooms.v1 import events_pb2, participant_pb2, rooms_service_pb2, rooms_service_pb2_grpc


def describe(event: events_pb2.RoomEvent) -> str:
    kind = events_pb2.RoomEventType.Name(event.type).removeprefix("ROOM_EVENT_TYPE_").lower()
    when = event.event_time.ToDatetime().isoformat(timespec="seconds")
    detail = ""
    if event.HasField("participant"):
        role = participant_pb2.Role.Name(event.participant.role).removeprefix("ROLE_").lower()
        detail = f" {event.participant.user_id}" + (f" as {role}" if event.participant.role else "")
    if event.changed_fields:
        detail = " " + ", ".join(event.changed_fields)
    return f"#{event.revision} {when} {kind}{detail} (by {event.actor})"


async def watch(address: str, room_id: str, after: int, key: str | None) -> None:
    metadata = (("authorization", f"Bearer {key}"),) if key else ()
    last = after
    async with grpc.aio.insecure_channel(address) as channel:
        rooms = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        while True:
            stream = rooms.WatchRoom(
                rooms_service_pb2.WatchRoomRequest(room_id=room_id, after_revision=last),
                metadata=metadata,
            )
            try:
                async for event in stream:
                    print(describe(event), flush=True)
                    last = event.revision
                    if event.type == events_pb2.ROOM_EVENT_TYPE_DELETED:
                        return
                return
            except grpc.aio.AioRpcError as error:
                if error.code() in (
                    grpc.StatusCode.UNAVAILABLE,
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                ):
                    print(f"-- {error.code().name}: resuming after #{last}", flush=True)
                    await asyncio.sleep(1)
                    continue
                raise SystemExit(f"{error.code().name}: {error.details()}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("room_id")
    parser.add_argument("--address", default="127.0.0.1:50051")
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--key", default=None, help="API key (or none in development)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(watch(args.address, args.room_id, args.after, args.key))


if __name__ == "__main__":
    main()
