"""`python -m service`: run the rooms server; `python -m service keys create`: make a key;
`python -m service signing-keys rotate`: make a new credential signing key;
`python -m service acs-keys create|list|revoke`: ACS access keys (docs/azure.md)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Coroutine
from typing import Any

from service.config import ConfigError, load_settings
from service.observability.logging import configure as configure_logging
from service.observability.tracing import configure_tracing
from service.security.keys import new_key
from service.server import serve
from service.workers import run_workers, write_config_error

# Exit statuses (README "Exit statuses"): 0 after a clean stop, 2 for a configuration
# the server cannot run with; anything else is a failure (with its traceback).
EXIT_CONFIG_ERROR = 2


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


def _rotate_signing_key(activate_in: float) -> int:
    """Store a new signing key that signs from now + `activate_in` seconds."""
    from datetime import timedelta

    from service.database import connect_database
    from service.domain.clock import SystemClock
    from service.security.signing import SigningKeys
    from service.storage.db import migrate
    from service.storage.repository import PgRoomStore

    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"rooms: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    if settings.database_url is None:
        print("error: set ROOMS_DATABASE_URL to the server's database", file=sys.stderr)
        return 2

    async def rotate() -> str:
        assert settings.database_url is not None
        pool = await connect_database(settings.database_url.get_secret_value(), settings, size=1)
        try:
            async with pool.acquire() as connection:
                await migrate(connection)
            keys = SigningKeys(PgRoomStore(pool), settings.limits().credential_ttl)
            return await keys.rotate(SystemClock().now(), timedelta(seconds=activate_in))
        finally:
            await pool.close()

    try:
        key_id = asyncio.run(rotate())
    except ConfigError as error:  # the database cannot be reached: one line, as `serve`
        print(f"rooms: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    print(f"new signing key {key_id}: signs from {activate_in:g} s from now; replicas pick it")
    print(
        f"up within ROOMS_SIGNING_KEY_REFRESH_SECONDS ({settings.signing_key_refresh_seconds:g} s)."
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rooms-server", description="The rooms gRPC server.")
    commands = parser.add_subparsers(dest="command")
    serve_parser = commands.add_parser("serve", help="serve (the default)")
    # Internal: run as worker I of a ROOMS_WORKERS=N group (see service/workers.py).
    serve_parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    # Internal: where such a worker puts a configuration error, for the parent to report.
    serve_parser.add_argument("--config-error-file", default=None, help=argparse.SUPPRESS)
    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(dest="action")
    create = keys.add_parser("create", help="create an API key and print its config entry")
    create.add_argument("--tenant", required=True, help="the tenant the key acts for")
    create.add_argument("--name", required=True, help="a name for the key (shown in logs)")
    signing = commands.add_parser("signing-keys", help="manage the credential signing keys")
    rotate = signing.add_subparsers(dest="action").add_parser(
        "rotate", help="store a new signing key (older ones stay published until expiry)"
    )
    rotate.add_argument(
        "--activate-in",
        type=float,
        default=0.0,
        help="seconds until the new key signs; give replicas time to publish it first",
    )
    acs = commands.add_parser("acs-keys", help="manage the ACS REST API's access keys")
    acs_actions = acs.add_subparsers(dest="action")
    acs_create = acs_actions.add_parser("create", help="print a new key's connection string")
    acs_create.add_argument("--endpoint", required=True, help="the URL clients reach the API at")
    acs_list = acs_actions.add_parser("list", help="print the ids of the keys in force")
    acs_revoke = acs_actions.add_parser("revoke", help="revoke a key (401 within a second)")
    acs_revoke.add_argument("key_id", help="the id `list` prints")
    for acs_parser in (acs_create, acs_list, acs_revoke):
        acs_parser.add_argument("--tenant", required=True, help="the tenant the key acts for")
    args = parser.parse_args(argv)

    if args.command == "acs-keys":
        if args.action is None:
            parser.error("acs-keys: say 'create', 'list' or 'revoke'")
        from service.acs.cli import run as run_acs_keys

        raise SystemExit(
            run_acs_keys(
                args.action,
                args.tenant,
                getattr(args, "endpoint", None),
                getattr(args, "key_id", None),
            )
        )

    if args.command == "signing-keys":
        if args.action != "rotate":
            parser.error("signing-keys: say 'rotate'")
        raise SystemExit(_rotate_signing_key(args.activate_in))

    if args.command == "keys":
        if args.action != "create":
            parser.error("keys: say 'create'")
        raise SystemExit(_create_key(args.tenant, args.name))

    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format, sys.stderr)
        worker = getattr(args, "worker", None)
        if worker is not None:
            settings = settings.model_copy(update={"worker_index": worker})
        elif settings.workers > 1:
            raise SystemExit(run_workers(settings))
        configure_tracing()  # each serving process (every worker) traces for itself
        with contextlib.suppress(KeyboardInterrupt):
            _run(serve(settings))
    except ConfigError as error:
        report_to = getattr(args, "config_error_file", None)
        if report_to is not None:  # a worker: the parent prints it, once for all workers
            write_config_error(report_to, error)
        else:
            # One line, no traceback: the operator fixes the variable it names.
            print(f"rooms: configuration error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None


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
