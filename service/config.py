"""Server settings, read from environment variables with the `ROOMS_` prefix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.domain.limits import Limits
from service.lifecycle import Retention


class Settings(BaseSettings):
    """Every setting; the README's configuration table lists them with these defaults."""

    model_config = SettingsConfigDict(env_prefix="ROOMS_", extra="ignore")

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
    access_log: Literal["all", "errors", "off"] = "all"
    # Internal: the index of this worker process (set by the parent for its children).
    worker_index: int = Field(0, ge=0)

    # Change stream and lifecycle.
    lifecycle_interval_seconds: float = Field(1.0, ge=0)
    lifecycle_batch_size: int = Field(500, ge=1)
    deleted_room_retention_days: float = Field(7, ge=0)
    ended_room_retention_days: float = Field(30, ge=0)
    event_retention_days: float = Field(30, ge=0)
    watch_poll_seconds: float = Field(5.0, gt=0)
    watch_max_lag: int = Field(10_000, ge=1)

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

    default_window_days: int = Field(180, ge=1)
    max_window_days: int = Field(180, ge=1)
    max_start_ahead_days: int = Field(180, ge=0)
    max_early_entry_minutes: int = Field(24 * 60, ge=0)
    max_roster_size: int = Field(10_000, ge=1)
    max_batch_size: int = Field(1_000, ge=1)
    max_metadata_entries: int = Field(32, ge=0)
    max_metadata_key_length: int = Field(64, ge=1)
    max_metadata_value_length: int = Field(512, ge=0)
    default_page_size: int = Field(50, ge=1)
    max_page_size: int = Field(500, ge=1)

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
        )

    def retention(self) -> Retention:
        return Retention(
            deleted_rooms=timedelta(days=self.deleted_room_retention_days),
            ended_rooms=timedelta(days=self.ended_room_retention_days),
            events=timedelta(days=self.event_retention_days),
        )
