// Verifies a LiveKit access token that rooms issued, with LiveKit's own Node SDK
// (livekit-server-sdk's TokenVerifier, as a LiveKit-side service would), and prints
// its claims as JSON.
//
//   LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... node verify-livekit.js <token>
//
// Exit status 1 with one line on stderr when the token does not verify.
"use strict";

const { TokenVerifier } = require("livekit-server-sdk");

async function main() {
  const token = process.argv[2];
  const { LIVEKIT_API_KEY: key, LIVEKIT_API_SECRET: secret } = process.env;
  if (!token || !key || !secret) {
    throw new Error("usage: LIVEKIT_API_KEY=... LIVEKIT_API_SECRET=... node verify-livekit.js TOKEN");
  }
  const claims = await new TokenVerifier(key, secret).verify(token);
  console.log(JSON.stringify(claims));
}

main().catch((error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
