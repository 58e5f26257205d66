// The rooms.v1 API from Go, with stubs generated from ../../protos (see build.sh):
// create a room, add a participant, ask whether they may join, and read a room that
// does not exist to show an error's google.rpc.ErrorInfo and RequestInfo.
//
//	./build.sh && ./bin/rooms-go-example [host:port]   (or ROOMS_ADDRESS; default 127.0.0.1:50051)
//
// ROOMS_API_KEY, if set, is sent as "authorization: Bearer <key>". Plain text only.
// Prints one "label: value" line per result; exits 1 with one line on stderr if a call fails.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	roomsv1 "rooms/gen/go/rooms/v1"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
	os.Exit(1)
}

func newRequestID() string {
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		fail("%v", err)
	}
	return hex.EncodeToString(buf)
}

func main() {
	address := os.Getenv("ROOMS_ADDRESS")
	if len(os.Args) > 1 {
		address = os.Args[1]
	}
	if address == "" {
		address = "127.0.0.1:50051"
	}
	conn, err := grpc.Dial(address, grpc.WithInsecure())
	if err != nil {
		fail("%v", err)
	}
	defer conn.Close()
	rooms := roomsv1.NewRoomsServiceClient(conn)
	participants := roomsv1.NewParticipantsServiceClient(conn)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if key := os.Getenv("ROOMS_API_KEY"); key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	}

	// request_id makes the create safe to retry: the same id returns the same room.
	room, err := rooms.CreateRoom(ctx, &roomsv1.CreateRoomRequest{
		RequestId:    newRequestID(),
		Participants: []*roomsv1.Participant{{UserId: "dr-house", Role: roomsv1.Role_ROLE_PRESENTER}},
	}, grpc.WaitForReady(true))
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("room: %s %s\n", room.GetRoomId(), room.GetState())

	added, err := participants.AddOrUpdateParticipants(ctx, &roomsv1.AddOrUpdateParticipantsRequest{
		RoomId:       room.GetRoomId(),
		Participants: []*roomsv1.Participant{{UserId: "patient-7"}},
	})
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("participants: %d etag %s\n", len(added.GetParticipants()), added.GetEtag())

	decision, err := rooms.AuthorizeJoin(ctx, &roomsv1.AuthorizeJoinRequest{
		RoomId: room.GetRoomId(), UserId: "patient-7",
	})
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("decision: %t %s %s\n", decision.GetAllowed(), decision.GetReason(), decision.GetRole())

	// Every error carries a google.rpc.Status: status.FromError decodes its details.
	_, err = rooms.GetRoom(ctx, &roomsv1.GetRoomRequest{RoomId: room.GetRoomId() + "-gone"})
	if status.Code(err) != codes.NotFound {
		fail("expected NOT_FOUND, got %v", err)
	}
	for _, detail := range status.Convert(err).Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			// The reason is a rooms.v1.ErrorReason name.
			fmt.Printf("error: %s %s %s\n", d.GetReason(), d.GetDomain(), d.GetMetadata()["room_id"])
			if _, known := roomsv1.ErrorReason_value[d.GetReason()]; !known {
				fail("unknown reason %s", d.GetReason())
			}
		case *errdetails.RequestInfo:
			fmt.Printf("request_id: %s\n", d.GetRequestId())
		}
	}
}
