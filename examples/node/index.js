// The rooms.v1 API from Node.js: load ../../protos with @grpc/proto-loader, create a
// room, add a participant, ask whether they may join, and read a room that does not
// exist to show an error's google.rpc.ErrorInfo (decoded by ./status.js).
//
//   npm install          (the versions package-lock.json pins)
//   node index.js [host:port]        (or ROOMS_ADDRESS; default 127.0.0.1:50051)
//
// Optional: ROOMS_API_KEY (sent as "authorization: Bearer <key>"), ROOMS_TLS_CA (a PEM
// file to trust; turns TLS on), ROOMS_TLS_CERT and ROOMS_TLS_KEY (mutual TLS).
// Prints each result as JSON and exits non-zero if any call fails (the one expected
// NOT_FOUND aside), printing the error's details.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const { statusDetails } = require("./status");

const PROTOS = path.resolve(__dirname, "..", "..", "protos");
const DEADLINE_MS = 10_000;

function loadApi() {
  const definition = protoLoader.loadSync(
    ["rooms/v1/rooms_service.proto", "rooms/v1/participants_service.proto"],
    {
      includeDirs: [PROTOS],
      keepCase: false, // fields in lowerCamelCase: roomId, userId
      longs: String,
      enums: String, // enum values by name: "ROLE_PRESENTER"
      defaults: true,
      oneofs: true,
    },
  );
  return grpc.loadPackageDefinition(definition).rooms.v1;
}

function credentials() {
  const ca = process.env.ROOMS_TLS_CA;
  const cert = process.env.ROOMS_TLS_CERT;
  const key = process.env.ROOMS_TLS_KEY;
  if (!ca && !cert && !key) return grpc.credentials.createInsecure();
  const read = (file) => (file ? fs.readFileSync(file) : null);
  return grpc.credentials.createSsl(read(ca), read(key), read(cert));
}

function metadata() {
  const md = new grpc.Metadata();
  if (process.env.ROOMS_API_KEY) md.set("authorization", `Bearer ${process.env.ROOMS_API_KEY}`);
  return md;
}

// A unary call as a promise, with a deadline and the API key.
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + DEADLINE_MS);
    client[method](request, metadata(), { deadline }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

function show(label, value) {
  console.log(`${label}: ${JSON.stringify(value, null, 2)}`);
}

async function main() {
  const address = process.argv[2] || process.env.ROOMS_ADDRESS || "127.0.0.1:50051";
  const api = loadApi();
  const rooms = new api.RoomsService(address, credentials());
  const participants = new api.ParticipantsService(address, credentials());
  try {
    // request_id makes the create safe to retry: the same id returns the same room.
    const room = await call(rooms, "CreateRoom", {
      requestId: crypto.randomUUID(),
      participants: [{ userId: "dr-house", role: "ROLE_PRESENTER" }],
    });
    show("room", room);

    const added = await call(participants, "AddOrUpdateParticipants", {
      roomId: room.roomId,
      participants: [{ userId: "patient-7", role: "ROLE_ATTENDEE" }],
    });
    show("participants", added);

    const decision = await call(rooms, "AuthorizeJoin", {
      roomId: room.roomId,
      userId: "patient-7",
    });
    show("decision", decision);

    // Every error carries a google.rpc.Status with an ErrorInfo: branch on its reason.
    try {
      await call(rooms, "GetRoom", { roomId: `${room.roomId}-gone` });
      throw new Error("expected ROOM_NOT_FOUND");
    } catch (error) {
      if (error.code !== grpc.status.NOT_FOUND) throw error;
      const info = statusDetails(error).find((d) => d["@type"] === "google.rpc.ErrorInfo");
      show("error", info);
    }
  } finally {
    rooms.close();
    participants.close();
  }
}

main().catch((error) => {
  const code = error.code !== undefined ? grpc.status[error.code] || error.code : "";
  const info = statusDetails(error).find((d) => d["@type"] === "google.rpc.ErrorInfo");
  const reason = info ? ` (${info.reason})` : "";
  console.error(`error: ${code ? `${code}: ` : ""}${error.details || error.message}${reason}`);
  process.exit(1);
});
