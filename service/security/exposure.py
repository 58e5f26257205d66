"""What the server exposes and how: keys from the settings, TLS credentials, and the
refusal to serve an unauthenticated API beyond this machine."""

from __future__ import annotations

import ipaddress
import logging

import grpc

from service.config import Settings
from service.security.keys import KeyRing, parse_entries

log = logging.getLogger(__name__)


def load_keys(settings: Settings) -> KeyRing:
    """Every key entry from ROOMS_API_KEYS and ROOMS_API_KEYS_FILE."""
    text = settings.api_keys.get_secret_value() if settings.api_keys else ""
    if settings.api_keys_file is not None:
        text += "\n" + settings.api_keys_file.read_text()
    return KeyRing(parse_entries(text))


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
    if keys:
        log.info("API keys: %d configured; every call needs one", len(keys))
        if settings.tls_cert_file is None and not is_loopback(listen):
            log.warning("API keys travel in clear text: configure ROOMS_TLS_CERT_FILE")
        return
    log.warning(
        "no API keys configured (ROOMS_API_KEYS / ROOMS_API_KEYS_FILE): every caller is "
        "the tenant 'default', unauthenticated. Development use only."
    )
    if not is_loopback(listen) and not settings.allow_insecure:
        raise RuntimeError(
            f"refusing to serve without API keys on the non-loopback address {listen}; "
            "configure keys, or set ROOMS_ALLOW_INSECURE=true to accept the risk"
        )


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials when a certificate is configured; mutual TLS with a client CA."""
    if settings.tls_cert_file is None and settings.tls_key_file is None:
        if settings.tls_client_ca_file is not None:
            raise RuntimeError("ROOMS_TLS_CLIENT_CA_FILE needs ROOMS_TLS_CERT_FILE and _KEY_FILE")
        return None
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        raise RuntimeError("TLS needs both ROOMS_TLS_CERT_FILE and ROOMS_TLS_KEY_FILE")
    client_ca = settings.tls_client_ca_file.read_bytes() if settings.tls_client_ca_file else None
    return grpc.ssl_server_credentials(
        [(settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes())],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )
