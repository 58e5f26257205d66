// Decode the google.rpc.Status that a rooms.v1 error carries in its
// `grpc-status-details-bin` trailer: ErrorInfo (domain "rooms.v1", the ErrorReason
// name, metadata such as room_id and request_id), BadRequest, PreconditionFailure,
// RetryInfo. The schemas come from google-proto-files (googleapis' own protos).
"use strict";

const protobuf = require("protobufjs");
const { getProtoPath } = require("google-proto-files");

const root = protobuf.loadSync([
  getProtoPath("rpc", "status.proto"),
  getProtoPath("rpc", "error_details.proto"),
]);
const Status = root.lookupType("google.rpc.Status");

// The error's details as plain objects, each with its type name in "@type";
// [] when the error carries none (e.g. UNAVAILABLE from the transport itself).
function statusDetails(error) {
  const raw = error.metadata ? error.metadata.get("grpc-status-details-bin") : [];
  if (raw.length === 0) return [];
  const status = Status.decode(raw[0]);
  return status.details.map((any) => {
    const name = any.type_url.slice(any.type_url.lastIndexOf("/") + 1);
    const type = root.lookupType(name);
    return { "@type": name, ...type.toObject(type.decode(any.value), { enums: String }) };
  });
}

module.exports = { statusDetails };
