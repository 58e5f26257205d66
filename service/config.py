"""Server settings, read from environment variables with the `ROOMS_` prefix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.domain.delivery import EngineConfig, RetryPolicy
from service.domain.lifecycle import Retention
from service.domain.limits import Limits
from service.http_client import HttpLimits

# Defaults of the domain's rules live in Limits and Retention; settings only expose them.
_LIMITS = Limits()
_RETENTION = Retention()
_RETRY = RetryPolicy()
_HTTP = HttpLimits()
_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)
ENV_PREFIX = "ROOMS_"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A configuration the server cannot run with, naming the environment variable.

    `python -m service` prints it as one line and exits with status 2 (README "Exit
    statuses"); its text never holds a secret's value."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class Settings(BaseSettings):
    """Every setting; the README's configuration table lists them with these defaults."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    listen_address: str = "127.0.0.1:50051"
    database_url: SecretStr | None = None
    data_dir: Path = Path(".data")
    db_pool_min_size: int = Field(2, ge=1)
    db_pool_max_size: int = Field(10, ge=1)
    db_command_timeout_seconds: float = Field(10.0, gt=0)
    shutdown_grace_seconds: float = Field(10.0, ge=0)
    health_check_interval_seconds: float = Field(2.0, gt=0)
    log_level: str = "INFO"
    page_token_secret: SecretStr | None = None

    # Performance and operations (README "Performance and operations").
    workers: int = Field(1, ge=1, le=64)
    metrics_address: str = ""
    log_format: Literal["text", "json"] = "text"
    access_log: Literal["all", "errors", "off"] = "errors"
    # Internal: the index of this worker process (set by the parent for its children).
    worker_index: int = Field(0, ge=0)

    # Change stream and lifecycle.
    lifecycle_interval_seconds: float = Field(1.0, ge=0)
    lifecycle_batch_size: int = Field(500, ge=1)
    deleted_room_retention_days: float = Field(_RETENTION.deleted_rooms / _DAY, ge=0)
    ended_room_retention_days: float = Field(_RETENTION.ended_rooms / _DAY, ge=0)
    event_retention_days: float = Field(_RETENTION.events / _DAY, ge=0)
    watch_poll_seconds: float = Field(_LIMITS.watch_poll_interval.total_seconds(), gt=0)
    watch_max_lag: int = Field(_LIMITS.watch_max_lag, ge=1)

    # Security: API keys (hashes), TLS, and what is allowed without them.
    api_keys: SecretStr | None = None
    api_keys_file: Path | None = None
    auth_protect_health_and_reflection: bool = False
    allow_insecure: bool = False
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    max_request_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    max_metadata_bytes: int = Field(16 * 1024, ge=1024)

    # Join credentials (README "Use rooms with LiveKit" / "with Jitsi").
    media_config_file: Path | None = None
    credential_ttl_seconds: int = Field(int(_LIMITS.credential_ttl.total_seconds()), ge=1)
    credential_issuer: str = Field("rooms", min_length=1)
    credential_audience: str = Field("rooms", min_length=1)
    signing_key_refresh_seconds: float = Field(60.0, gt=0)
    # Delivery of events to webhooks and media servers (README "Webhooks").
    delivery_poll_seconds: float = Field(1.0, ge=0)
    delivery_lease_seconds: float = Field(3.0, ge=0.3)
    webhook_retry_period_seconds: float = Field(_RETRY.period.total_seconds(), gt=0)
    webhook_max_backoff_seconds: float = Field(_RETRY.max_delay.total_seconds(), gt=0)
    webhook_timeout_seconds: float = Field(_HTTP.timeout, gt=0)
    webhook_max_response_bytes: int = Field(_HTTP.max_response_bytes, ge=0)
    webhook_allowed_http_hosts: str = ""
    # Janus (docs/janus.md): seconds between checks that each tenant's Janus still holds
    # its rooms (a restart forgets them; the check then reconciles). 0: never.
    janus_check_seconds: float = Field(5.0, ge=0)
    max_webhooks_per_tenant: int = Field(20, ge=1)
    # Calendar feeds (docs/calendar.md): the feed server's address ("" : no feed
    # server) and the base of the URLs CreateCalendarFeed hands out ("" : http:// and
    # the address listened on).
    http_listen_address: str = ""
    http_public_url: str = ""

    # The ACS Rooms REST API (service/acs/, docs/azure.md); unset address: not served.
    acs_listen_address: str = ""
    acs_tls_cert_file: Path | None = None
    acs_tls_key_file: Path | None = None
    acs_allow_plaintext: bool = False
    acs_page_size: int = Field(100, ge=1)

    # The domain's limits; their defaults are those of `Limits`.
    default_window_days: int = Field(_LIMITS.default_window.days, ge=1)
    max_window_days: int = Field(_LIMITS.max_window.days, ge=1)
    max_start_ahead_days: int = Field(_LIMITS.max_start_ahead.days, ge=0)
    max_early_entry_minutes: int = Field(_LIMITS.max_early_entry // _MINUTE, ge=0)
    max_roster_size: int = Field(_LIMITS.max_roster_size, ge=1)
    max_batch_size: int = Field(_LIMITS.max_batch_size, ge=1)
    max_metadata_entries: int = Field(_LIMITS.max_metadata_entries, ge=0)
    max_metadata_key_length: int = Field(_LIMITS.max_metadata_key_length, ge=1)
    max_metadata_value_length: int = Field(_LIMITS.max_metadata_value_length, ge=0)
    default_page_size: int = Field(_LIMITS.default_page_size, ge=1)
    max_page_size: int = Field(_LIMITS.max_page_size, ge=1)
    # Seats (README "Waiting room and seats").
    seat_ttl_seconds: float = Field(_LIMITS.seat_ttl.total_seconds(), gt=0)
    max_participants: int = Field(_LIMITS.max_participants_ceiling, ge=1)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in _LOG_LEVELS:
            raise ValueError("must be one of " + ", ".join(_LOG_LEVELS))
        return value

    def limits(self) -> Limits:
        return Limits(
            default_window=timedelta(days=self.default_window_days),
            max_window=timedelta(days=self.max_window_days),
            max_start_ahead=timedelta(days=self.max_start_ahead_days),
            max_early_entry=timedelta(minutes=self.max_early_entry_minutes),
            max_roster_size=self.max_roster_size,
            max_batch_size=self.max_batch_size,
            max_metadata_entries=self.max_metadata_entries,
            max_metadata_key_length=self.max_metadata_key_length,
            max_metadata_value_length=self.max_metadata_value_length,
            default_page_size=min(self.default_page_size, self.max_page_size),
            max_page_size=self.max_page_size,
            watch_max_lag=self.watch_max_lag,
            watch_poll_interval=timedelta(seconds=self.watch_poll_seconds),
            credential_ttl=timedelta(seconds=self.credential_ttl_seconds),
            seat_ttl=timedelta(seconds=self.seat_ttl_seconds),
            max_participants_ceiling=self.max_participants,
        )

    def retention(self) -> Retention:
        return Retention(
            deleted_rooms=timedelta(days=self.deleted_room_retention_days),
            ended_rooms=timedelta(days=self.ended_room_retention_days),
            events=timedelta(days=self.event_retention_days),
        )

    def delivery(self) -> EngineConfig:
        return EngineConfig(
            poll_interval=self.delivery_poll_seconds,
            lease=timedelta(seconds=self.delivery_lease_seconds),
            retry=RetryPolicy(
                period=timedelta(seconds=self.webhook_retry_period_seconds),
                max_delay=timedelta(seconds=self.webhook_max_backoff_seconds),
            ),
        )

    def http_limits(self) -> HttpLimits:
        return HttpLimits(
            timeout=self.webhook_timeout_seconds,
            max_response_bytes=self.webhook_max_response_bytes,
        )

    def allowed_http_hosts(self) -> list[str]:
        return [h.strip().lower() for h in self.webhook_allowed_http_hosts.split(",") if h.strip()]


def variable_of(field: str) -> str:
    """The environment variable of a setting: `workers` -> `ROOMS_WORKERS`."""
    return ENV_PREFIX + field.upper()


def load_settings() -> Settings:
    """The settings from the environment; a bad value raises ConfigError naming every
    bad variable (never echoing a value, which may be a secret)."""
    try:
        return Settings()
    except ValidationError as error:
        problems = [
            (variable_of(str(e["loc"][0])) if e["loc"] else "ROOMS_*", e["msg"])
            for e in error.errors(include_url=False, include_input=False)
        ]
        variable = problems[0][0]
        text = "; ".join(f"{name}: {message}" for name, message in problems)
        raise ConfigError(variable, text.removeprefix(f"{variable}: ")) from None
