"""What the server exposes and how: keys from the settings, TLS credentials, and the
refusal to serve an unauthenticated API beyond this machine."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

import grpc

from service.config import ConfigError, Settings
from service.security.keys import KeyRing, parse_entries

log = logging.getLogger(__name__)


def load_keys(settings: Settings) -> KeyRing:
    """Every key entry from ROOMS_API_KEYS and ROOMS_API_KEYS_FILE."""
    text = settings.api_keys.get_secret_value() if settings.api_keys else ""
    try:
        entries = parse_entries(text)
    except ValueError as error:
        raise ConfigError("ROOMS_API_KEYS", str(error)) from None
    if settings.api_keys_file is not None:
        file_text = _read(settings.api_keys_file, "ROOMS_API_KEYS_FILE").decode()
        try:
            entries += parse_entries(file_text)
        except ValueError as error:
            raise ConfigError("ROOMS_API_KEYS_FILE", str(error)) from None
    return KeyRing(entries)


def _read(path: Path, variable: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(variable, f"cannot read {path}: {error.strerror}") from None


def check_configuration(
    settings: Settings, listen: str
) -> tuple[KeyRing, grpc.ServerCredentials | None]:
    """The keys and TLS credentials to serve `listen` with; ConfigError if the
    configuration cannot be served (checked before anything starts or is logged)."""
    keys = load_keys(settings)
    credentials = server_credentials(settings)
    check_exposure(settings, keys, listen)
    return keys, credentials


def is_loopback(address: str) -> bool:
    """Whether `host:port` listens on this machine only."""
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, keys: KeyRing, listen: str) -> None:
    """Without keys, serve loopback only, unless told explicitly that this is fine."""
    if not keys and not is_loopback(listen) and not settings.allow_insecure:
        raise ConfigError(
            "ROOMS_API_KEYS",
            f"no API keys configured, and ROOMS_LISTEN_ADDRESS {listen} is not a loopback"
            " address; configure keys, or set ROOMS_ALLOW_INSECURE=true to accept the risk",
        )


def log_exposure(settings: Settings, keys: KeyRing, listen: str) -> None:
    """Say how the server is exposed (logged once it serves, so that a configuration
    error is the only line printed)."""
    if keys:
        log.info("API keys: %d configured; every call needs one", len(keys))
        if settings.tls_cert_file is None and not is_loopback(listen):
            log.warning("API keys travel in clear text: configure ROOMS_TLS_CERT_FILE")
        return
    log.warning(
        "no API keys configured (ROOMS_API_KEYS / ROOMS_API_KEYS_FILE): every caller is "
        "the tenant 'default', unauthenticated. Development use only."
    )


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials when a certificate is configured; mutual TLS with a client CA."""
    if settings.tls_cert_file is None and settings.tls_key_file is None:
        if settings.tls_client_ca_file is not None:
            raise ConfigError(
                "ROOMS_TLS_CLIENT_CA_FILE", "needs ROOMS_TLS_CERT_FILE and ROOMS_TLS_KEY_FILE"
            )
        return None
    if settings.tls_cert_file is None:
        raise ConfigError("ROOMS_TLS_CERT_FILE", "is needed with ROOMS_TLS_KEY_FILE")
    if settings.tls_key_file is None:
        raise ConfigError("ROOMS_TLS_KEY_FILE", "is needed with ROOMS_TLS_CERT_FILE")
    cert = _read(settings.tls_cert_file, "ROOMS_TLS_CERT_FILE")
    key = _read(settings.tls_key_file, "ROOMS_TLS_KEY_FILE")
    client_ca = (
        _read(settings.tls_client_ca_file, "ROOMS_TLS_CLIENT_CA_FILE")
        if settings.tls_client_ca_file
        else None
    )
    return grpc.ssl_server_credentials(
        [(key, cert)],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )
