"""`python -m service`: run the rooms server; `python -m service keys create`: make a key."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Coroutine
from typing import Any

from service.config import Settings
from service.observability.logging import configure as configure_logging
from service.observability.tracing import configure_tracing
from service.security.keys import new_key
from service.server import serve
from service.workers import run_workers


def _create_key(tenant: str, name: str) -> int:
    try:
        key, entry = new_key(tenant, name)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"API key for tenant {tenant!r}, key name {name!r} (shown once; store it safely):")
    print(f"\n    {key}\n")
    print("Add this entry to ROOMS_API_KEYS (comma-separated) or to ROOMS_API_KEYS_FILE:")
    print(f"\n    {entry.line()}\n")
    print("Callers send it as the metadata 'authorization: Bearer <key>'.")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rooms-server", description="The rooms gRPC server.")
    commands = parser.add_subparsers(dest="command")
    serve_parser = commands.add_parser("serve", help="serve (the default)")
    # Internal: run as worker I of a ROOMS_WORKERS=N group (see service/workers.py).
    serve_parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(dest="action")
    create = keys.add_parser("create", help="create an API key and print its config entry")
    create.add_argument("--tenant", required=True, help="the tenant the key acts for")
    create.add_argument("--name", required=True, help="a name for the key (shown in logs)")
    args = parser.parse_args(argv)

    if args.command == "keys":
        if args.action != "create":
            parser.error("keys: say 'create'")
        raise SystemExit(_create_key(args.tenant, args.name))

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format, sys.stderr)
    worker = getattr(args, "worker", None)
    if worker is not None:
        settings = settings.model_copy(update={"worker_index": worker})
    elif settings.workers > 1:
        raise SystemExit(run_workers(settings))
    configure_tracing()  # each serving process (every worker) traces for itself
    with contextlib.suppress(KeyboardInterrupt):
        _run(serve(settings))


def _run(main: Coroutine[Any, Any, None]) -> None:
    """uvloop where it is installed (not on Windows: see its platform marker), else asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main()
