"""The per-tenant media configuration file: parsing, secrets from files, a tenant only
gets its own tables, and secrets never show in a repr or an error message."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.media.base import MediaConfigError, Secret
from service.media.config import load_media_config, parse_media_config

SECRET = "s3cr3t-value-" + "q" * 20


def test_both_servers_with_inline_and_file_secrets(tmp_path: Path) -> None:
    (tmp_path / "jitsi.secret").write_text(SECRET + "\n")
    path = tmp_path / "media.toml"
    path.write_text(
        f"""
[tenants.acme.livekit]
url = "wss://lk.acme.example"
api_key = "APIacme"
api_secret = "{SECRET}"

[tenants.acme.jitsi]
url = "https://meet.acme.example/"
app_id = "acme"
secret_file = "jitsi.secret"
"""
    )
    config = load_media_config(path)
    livekit = config.livekit_for("acme")
    jitsi = config.jitsi_for("acme")
    assert livekit is not None and jitsi is not None
    assert (livekit.url, livekit.api_key, livekit.api_secret.reveal()) == (
        "wss://lk.acme.example",
        "APIacme",
        SECRET,
    )
    assert jitsi.secret.reveal() == SECRET  # trailing newline stripped
    assert (jitsi.audience, jitsi.subject) == ("jitsi", "meet.acme.example")
    # A tenant only gets its own.
    assert config.livekit_for("beta") is None and config.jitsi_for("beta") is None
    for text in (repr(config), str(config), repr(livekit), repr(jitsi), str(Secret(SECRET))):
        assert SECRET not in text


def test_no_file_means_nothing_configured() -> None:
    config = load_media_config(None)
    assert config.livekit_for("default") is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (f'[tenants.a.livekit]\nurl = "u"\napi_key = "k"\napi_secret = "{SECRET}"\nx = 1\n', "x"),
        (f'[tenants.a.livekit]\nurl = "u"\napi_secret = "{SECRET}"\n', "api_key"),
        (
            f'[tenants.a.livekit]\nurl = "u"\napi_key = "k"\napi_secret = "{SECRET}"\n'
            'api_secret_file = "f"\n',
            "set api_secret or api_secret_file, not both",
        ),
        ('[tenants.a.jitsi]\nurl = "u"\napp_id = "a"\nsecret_file = "missing"\n', "cannot read"),
        (f'[tenants.a.jitsi]\nurl = "u"\napp_id = "a"\nsecret = "{SECRET}\n', "not valid TOML"),
        (f'tenant = "{SECRET}"\n', "unknown top-level"),
    ],
)
def test_a_bad_file_names_the_problem_but_never_a_secret(
    tmp_path: Path, text: str, needle: str
) -> None:
    with pytest.raises(MediaConfigError) as caught:
        parse_media_config(text, tmp_path, "media.toml")
    assert needle in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_janus_table_is_read_with_the_janus_parser(tmp_path: Path) -> None:
    (tmp_path / "token.secret").write_text(SECRET + "\n")
    config = parse_media_config(
        f"""
[tenants.acme.janus]
url = "http://127.0.0.1:8088/janus/"
token_auth_secret_file = "token.secret"
room_secret = "{SECRET}-rooms"
""",
        tmp_path,
        "media.toml",
    )
    janus = config.janus_for("acme")
    assert janus is not None
    assert janus.url == "http://127.0.0.1:8088/janus"
    assert janus.token_auth_secret.get_secret_value() == SECRET
    assert janus.admin_key is None
    assert config.janus_for("globex") is None
    assert config.janus_tenants() == ["acme"]
    assert SECRET not in repr(config)


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        (f'url = "http://j/janus"\nroom_secret = "{SECRET}"', "token_auth_secret"),
        (
            f'url = "http://j/janus"\ntoken_auth_secret = "{SECRET}"\nroom_secret = "{SECRET}"'
            f'\npassword = "{SECRET}"',
            "unknown key(s) password",
        ),
        (
            f'url = "ftp://j"\ntoken_auth_secret = "{SECRET}"\nroom_secret = "{SECRET}"',
            "tenants.acme.janus.url",
        ),
    ],
)
def test_a_bad_janus_table_names_the_key_never_the_secret(
    tmp_path: Path, table: str, needle: str
) -> None:
    with pytest.raises(MediaConfigError) as caught:
        parse_media_config(f"[tenants.acme.janus]\n{table}\n", tmp_path, "media.toml")
    assert needle in str(caught.value)
    assert SECRET not in str(caught.value)
