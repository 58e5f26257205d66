// The official @azure/communication-rooms client against rooms' ACS API: every method,
// two pages of rooms and of participants, and a wrong key. Prints one JSON object for
// tests/acs/test_node_client.py to check. Usage: node check.js "<connection string>"
"use strict";
const { RoomsClient } = require("@azure/communication-rooms");
const { CommunicationIdentityClient } = require("@azure/communication-identity");

async function collect(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function pageSizes(paged) {
  const sizes = [];
  for await (const page of paged.byPage()) sizes.push(page.length);
  return sizes;
}

async function main(connectionString) {
  const identities = new CommunicationIdentityClient(connectionString);
  const alice = await identities.createUser();
  const bob = await identities.createUser();
  const client = new RoomsClient(connectionString);
  const validFrom = new Date(Date.now() + 24 * 3600 * 1000);
  const validUntil = new Date(validFrom.getTime() + 30 * 24 * 3600 * 1000);
  const room = await client.createRoom({
    validFrom,
    validUntil,
    pstnDialOutEnabled: true,
    participants: [{ id: alice, role: "Presenter" }],
  });
  const got = await client.getRoom(room.id);
  const updated = await client.updateRoom(room.id, { pstnDialOutEnabled: false });
  await client.addOrUpdateParticipants(room.id, [
    { id: alice, role: "Consumer" },
    { id: bob, role: "Collaborator" },
    { id: { communicationUserId: "8:acs:third" } },
  ]);
  const participantPages = await pageSizes(client.listParticipants(room.id));
  await client.removeParticipants(room.id, [alice, { communicationUserId: "8:acs:absent" }]);
  const after = await collect(client.listParticipants(room.id));
  const others = [await client.createRoom({}), await client.createRoom({})];
  const roomPages = await pageSizes(client.listRooms());
  const listed = (await collect(client.listRooms())).map((r) => r.id).sort();
  for (const other of others) await client.deleteRoom(other.id);
  await client.deleteRoom(room.id);
  let deleted = null;
  try {
    await client.getRoom(room.id);
  } catch (error) {
    deleted = { status: error.statusCode, code: error.code };
  }
  const wrongKey = connectionString.replace(/accesskey=.*/, "accesskey=" + Buffer.alloc(64, 7).toString("base64"));
  let refused = null;
  try {
    await new RoomsClient(wrongKey).getRoom(room.id);
  } catch (error) {
    refused = { status: error.statusCode, code: error.code };
  }
  return {
    alice: alice.communicationUserId,
    bob: bob.communicationUserId,
    room: {
      id: room.id,
      validFrom: room.validFrom.toISOString(),
      validUntil: room.validUntil.toISOString(),
      pstnDialOutEnabled: room.pstnDialOutEnabled,
      createdOn: room.createdOn.toISOString(),
    },
    sent: { validFrom: validFrom.toISOString(), validUntil: validUntil.toISOString() },
    got: got.id,
    updatedPstn: updated.pstnDialOutEnabled,
    participantPages,
    after: after.map((p) => [p.id.communicationUserId, p.role]),
    roomPages,
    listed,
    made: [room.id, ...others.map((r) => r.id)].sort(),
    deleted,
    refused,
  };
}

main(process.argv[2]).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(String(error && error.stack ? error.stack : error));
    process.exit(1);
  },
);
