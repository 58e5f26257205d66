"""rooms.v1: generated from protos/rooms/v1 by `make gen`. Do not edit."""
