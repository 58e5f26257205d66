"""The ACS API's settings: HTTPS unless plain HTTP is allowed, and then only on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from service.acs.app import tls_context
from service.config import ConfigError, Settings
from tests.acs.conftest import Tls


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"acs_listen_address": "127.0.0.1:8443"}, "ROOMS_ACS_TLS_CERT_FILE"),
        (
            {"acs_listen_address": "0.0.0.0:8443", "acs_allow_plaintext": True},
            "ROOMS_ACS_ALLOW_PLAINTEXT",
        ),
        (
            {"acs_listen_address": "127.0.0.1:8443", "acs_tls_cert_file": "x"},
            "ROOMS_ACS_TLS_KEY_FILE",
        ),
        (
            {
                "acs_listen_address": "127.0.0.1:8443",
                "acs_tls_cert_file": "/no",
                "acs_tls_key_file": "/no",
            },
            "ROOMS_ACS_TLS_CERT_FILE",
        ),
    ],
)
def test_what_cannot_run_names_its_variable(values: dict[str, Any], variable: str) -> None:
    with pytest.raises(ConfigError) as error:
        tls_context(_settings(**values))
    assert error.value.variable == variable


def test_https_or_plain_http_on_loopback(acs_tls: Tls) -> None:
    for host in ("127.0.0.1", "localhost", "[::1]"):
        plain = _settings(acs_listen_address=f"{host}:8443", acs_allow_plaintext=True)
        assert tls_context(plain) is None
    tls = _settings(
        acs_listen_address="0.0.0.0:8443",
        acs_tls_cert_file=acs_tls.cert,
        acs_tls_key_file=acs_tls.key,
    )
    assert tls_context(tls) is not None


def test_the_settings_have_their_documented_names_and_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROOMS_ACS_LISTEN_ADDRESS", "127.0.0.1:8443")
    monkeypatch.setenv("ROOMS_ACS_ALLOW_PLAINTEXT", "true")
    settings = Settings(_env_file=None)
    assert (settings.acs_listen_address, settings.acs_allow_plaintext) == ("127.0.0.1:8443", True)
    assert settings.acs_page_size == 100
