"""The media servers rooms works with, one folder each: `livekit/`, `jitsi/`, `janus/`,
each holding its configuration table, its credential issuer and (LiveKit, Janus) what
rooms pushes to it; Janus also its plan and control. `issuers` is the table from
credential format to media server, `config` reads the media configuration file with it,
`base` is what the servers' configurations share.
"""
