"""Fixtures the feature folders share: what the server logs at ERROR, and TLS
certificates. A plugin of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.shared.errors import LoggedErrors, logged_errors


@pytest.fixture
def server_errors() -> Iterator[LoggedErrors]:
    """What the server (and grpc, and the client) log at ERROR or above during the test."""
    with logged_errors("service", "grpc", "rooms") as handler:
        yield handler


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_ca: Path

    def served(self, *, mutual: bool = False) -> dict[str, Path]:
        """A server's TLS settings: its certificate and key, and with `mutual` the CA
        its clients' certificates must chain to."""
        settings = {"tls_cert_file": self.server_cert, "tls_key_file": self.server_key}
        if mutual:
            settings["tls_client_ca_file"] = self.ca
        return settings


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA, a server certificate for 127.0.0.1 and a client certificate it signs, and
    a CA that signed nothing here."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    client_cert = ca.issue_cert("client.rooms.test")
    files = Certificates(*(folder / name for name in ("ca", "sc", "sk", "cc", "ck", "other")))
    ca.cert_pem.write_to_path(str(files.ca))
    server_cert.cert_chain_pems[0].write_to_path(str(files.server_cert))
    server_cert.private_key_pem.write_to_path(str(files.server_key))
    client_cert.cert_chain_pems[0].write_to_path(str(files.client_cert))
    client_cert.private_key_pem.write_to_path(str(files.client_key))
    trustme.CA().cert_pem.write_to_path(str(files.stranger_ca))
    return files
