"""Delivering room events to other systems from the history (a transactional outbox):
a generic engine (`engine.py`) over pluggable sinks (`webhook.py`, `livekit.py`)."""
