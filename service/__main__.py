"""`python -m service`: run the rooms server."""

from __future__ import annotations

import contextlib
import logging
import sys

import uvloop

from service.config import Settings
from service.server import serve


def main() -> None:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
