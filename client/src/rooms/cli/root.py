"""The CLI's root: the `rooms` group and its connection flags, the common options, how
a call is run (one line on stderr and an exit status on failure) and exit statuses."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from rooms.cli.parsing import ETAG
from rooms.client import DEFAULT_ADDRESS, DEFAULT_TIMEOUT, TLS, RoomsClient
from rooms.errors import RoomsError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

EXIT_ERROR = 1  # the server or the connection answered with an error
EXIT_USAGE = 2  # bad flags or arguments (click's own convention)
EXIT_REFUSED = 3  # `rooms authorize`: the answer is that the join is refused


@dataclass(frozen=True)
class Connection:
    """Where and how to reach the server, from the group's flags."""

    address: str
    api_key: str | None
    tls: bool
    tls_ca: str | None
    tls_cert: str | None
    tls_key: str | None
    tls_server_name: str | None
    timeout: float

    def client(self) -> RoomsClient:
        tls: TLS | bool = False
        if self.tls or self.tls_ca or self.tls_cert or self.tls_key:
            tls = TLS.from_files(
                self.tls_ca, self.tls_cert, self.tls_key, server_name=self.tls_server_name
            )
        return RoomsClient(self.address, api_key=self.api_key, tls=tls, timeout=self.timeout)

    def run(self, action: Callable[[RoomsClient], Awaitable[T]]) -> T:
        """Run `action` with a client; a failure is one line on stderr and exit 1."""

        async def main() -> T:
            async with self.client() as client:
                return await action(client)

        try:
            return asyncio.run(main())
        except RoomsError as error:
            click.echo(f"error: {error.one_line()}", err=True)
            raise click.exceptions.Exit(EXIT_ERROR) from None
        except ValueError as error:  # bad TLS material, a bad value caught by the client
            click.echo(f"error: {error}", err=True)
            raise click.exceptions.Exit(EXIT_ERROR) from None
        except OSError as error:  # an unreadable TLS file
            click.echo(f"error: {error}", err=True)
            raise click.exceptions.Exit(EXIT_ERROR) from None

    def collect(
        self, pages: Callable[[RoomsClient], AsyncIterator[T]], limit: int | None
    ) -> list[T]:
        """The items of a list call, up to `limit` (None: all), run as `run` runs."""
        return self.run(lambda client: _collect(pages(client), limit))


async def _collect(items: AsyncIterator[T], limit: int | None) -> list[T]:
    found: list[T] = []
    if limit is not None and limit <= 0:
        return found
    async for item in items:
        found.append(item)
        if limit is not None and len(found) >= limit:
            break
    return found


def etag_option_of(kind: str) -> Callable[[F], F]:
    """`--etag`: only if the resource (`room`, `webhook`) has not changed since."""
    return click.option(
        "--etag",
        type=ETAG,
        default="",
        help=f"Only if the {kind}'s etag is still this, quoted as printed or not "
        "(else ETAG_MISMATCH).",
    )


json_option = click.option("--json", "as_json_", is_flag=True, help="Print JSON for scripts.")
etag_option = etag_option_of("room")
limit_option = click.option(
    "--limit", type=click.IntRange(min=0), default=None, help="At most this many [all]."
)


def _pem_option(flag: str, env: str, what: str) -> Callable[[F], F]:
    return click.option(
        flag, envvar=env, type=click.Path(dir_okay=False), help=f"{what} [env {env}]."
    )


class _OneLineErrors(click.Group):
    """The root command: a usage error is one line on stderr, like every other error."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            click.echo(f"error: {error.format_message()}{hint}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as error:
            click.echo(f"error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(EXIT_ERROR)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--address",
    envvar="ROOMS_ADDRESS",
    default=DEFAULT_ADDRESS,
    show_default=True,
    help="host:port of the server [env ROOMS_ADDRESS].",
)
@click.option("--api-key", envvar="ROOMS_API_KEY", help="API key [env ROOMS_API_KEY].")
@click.option("--tls", is_flag=True, help="Use TLS with the system's trusted roots.")
@_pem_option("--tls-ca", "ROOMS_TLS_CA", "CA certificate (PEM) to trust; implies TLS")
@_pem_option("--tls-cert", "ROOMS_TLS_CERT", "Client certificate (PEM) for mutual TLS")
@_pem_option("--tls-key", "ROOMS_TLS_KEY", "Client private key (PEM) for mutual TLS")
@click.option(
    "--tls-server-name",
    envvar="ROOMS_TLS_SERVER_NAME",
    help="Name expected in the server's certificate, if not the address's host.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Deadline of each call, in seconds.",
)
@click.version_option(package_name="rooms-client", prog_name="rooms")
@click.pass_context
def cli(
    ctx: click.Context,
    address: str,
    api_key: str | None,
    tls: bool,
    tls_ca: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_server_name: str | None,
    timeout: float,
) -> None:
    """Manage rooms and their participants, and ask who may join, on a rooms server."""
    ctx.obj = Connection(
        address, api_key or None, tls, tls_ca, tls_cert, tls_key, tls_server_name, timeout
    )
