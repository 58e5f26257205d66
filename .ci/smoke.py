"""A real call against a running server: `create TARGET` prints a new room's id;
`get TARGET ROOM_ID` checks that the room is there."""

from __future__ import annotations

import sys
import time
import uuid

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import participant_pb2, room_pb2, rooms_service_pb2, rooms_service_pb2_grpc


def wait_until_serving(channel: grpc.Channel, seconds: float = 120) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = health.Check(health_pb2.HealthCheckRequest(), timeout=2)  # type: ignore[attr-defined]
            if response.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not become SERVING in time")
        time.sleep(0.5)


def main() -> None:
    command, target = sys.argv[1], sys.argv[2]
    with grpc.insecure_channel(target) as channel:
        wait_until_serving(channel)
        rooms = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        if command == "create":
            room = rooms.CreateRoom(
                rooms_service_pb2.CreateRoomRequest(
                    request_id=str(uuid.uuid4()),
                    room=room_pb2.Room(metadata={"made_by": "ci"}),
                    participants=[participant_pb2.Participant(user_id="ci-user")],
                ),
                timeout=10,
            )
            print(room.room_id)
        elif command == "get":
            room = rooms.GetRoom(rooms_service_pb2.GetRoomRequest(room_id=sys.argv[3]), timeout=10)
            assert room.metadata["made_by"] == "ci" and room.participant_count == 1, room
            print(f"room {room.room_id} is there")
        else:
            raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
