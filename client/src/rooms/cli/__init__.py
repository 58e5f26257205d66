"""`rooms`: the rooms.v1 API from the command line, for people.

    rooms create --id visit-42 --from 2026-11-24T09:00Z --until 2026-11-24T10:00Z \\
        --presenter dr-house --attendee patient-7
    rooms show visit-42
    rooms list --state open
    rooms participants add visit-42 nurse-1 --role collaborator
    rooms authorize visit-42 patient-7
    rooms webhooks create https://hooks.example.com/rooms --event participant-removed

Tables by default, `--json` for scripts. The address, the TLS files and the API key
come from flags or from ROOMS_ADDRESS, ROOMS_TLS_CA, ROOMS_TLS_CERT, ROOMS_TLS_KEY and
ROOMS_API_KEY. A failure prints one line, `error: REASON (CODE): message [details]`,
on stderr and exits with status 1; a usage error prints one line `error: ...` and
exits with status 2; `rooms authorize` exits with status 3 when the join is refused.
Shell completion: `eval "$(_ROOMS_COMPLETE=bash_source rooms)"` (zsh_source, fish_source).
"""

from __future__ import annotations

import sys

try:
    import click  # noqa: F401
except ImportError:  # pragma: no cover - depends on the installation
    sys.exit("the rooms CLI needs click: pip install 'rooms-client[cli]'")

# Importing a command module registers its commands on the root group.
from rooms.cli import (  # noqa: F401
    calendar,
    history,
    join,
    participant,
    room,
    waiting_room,
    webhook,
)
from rooms.cli.parsing import parse_duration, parse_time
from rooms.cli.root import cli

__all__ = ["cli", "main", "parse_duration", "parse_time"]


def main() -> None:
    """The `rooms` console script."""
    cli(prog_name="rooms")


if __name__ == "__main__":
    main()
