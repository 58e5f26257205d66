"""The one reader of a configured secret (`service.secrets.read_secret`): inline or from
a file, never both; a file's trailing whitespace stripped; errors that name the key and
never hold the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.media.base import MediaConfigError
from service.media.config import parse_media_config
from service.media.janus.config import JanusConfigError, parse_janus_table
from service.secrets import read_secret

SECRET = "s3cr3t-" + "z" * 24


def _read(table: dict[str, object], base: Path | None = None, required: bool = True) -> str | None:
    return read_secret(table, "api_secret", where="t", base_dir=base, required=required)


@pytest.mark.parametrize("ending", ["", "\n", "\r\n", " \t\n\n"])
def test_a_file_loses_its_trailing_whitespace_only(tmp_path: Path, ending: str) -> None:
    (tmp_path / "s").write_text(f"  {SECRET}{ending}")
    assert _read({"api_secret_file": "s"}, tmp_path) == f"  {SECRET}"


def test_inline_is_taken_as_written_and_absolute_paths_ignore_the_base(tmp_path: Path) -> None:
    assert _read({"api_secret": f"{SECRET} \n"}) == f"{SECRET} \n"
    (tmp_path / "s").write_text(SECRET)
    assert _read({"api_secret_file": str(tmp_path / "s")}, Path("/nonexistent")) == SECRET
    assert _read({}, required=False) is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"api_secret": SECRET, "api_secret_file": "s"},
            "t: set api_secret or api_secret_file, not both",
        ),
        ({}, "t: api_secret (or api_secret_file) is required"),
        ({"api_secret": ""}, "t.api_secret must be a non-empty string"),
        ({"api_secret": [SECRET]}, "t.api_secret must be a non-empty string"),
        ({"api_secret_file": 7}, "t.api_secret_file must be a file path"),
        ({"api_secret_file": "missing"}, "t.api_secret_file: cannot read '"),
        ({"api_secret_file": "blank"}, "is empty"),
        ({"api_secret_file": "binary"}, "cannot read '"),
    ],
)
def test_every_refusal_names_the_key_never_the_secret(
    tmp_path: Path, table: dict[str, object], message: str
) -> None:
    (tmp_path / "blank").write_text(" \n\n")
    (tmp_path / "binary").write_bytes(b"\xff\xfe" + SECRET.encode())
    with pytest.raises(ValueError) as refused:
        _read(table, tmp_path)
    assert message in str(refused.value)
    assert SECRET not in str(refused.value)
    assert "\\xff" not in str(refused.value)


def test_both_configuration_files_read_secrets_the_same_way(tmp_path: Path) -> None:
    """The same file, the same value and the same wording from the media and Janus
    tables; each raises its own error class."""
    (tmp_path / "s").write_text(SECRET + " \r\n")
    media = parse_media_config(
        '[tenants.a.livekit]\nurl = "u"\napi_key = "k"\napi_secret_file = "s"\n', tmp_path
    )
    janus = parse_janus_table(
        {"url": "http://j/janus", "token_auth_secret_file": "s", "room_secret": SECRET},
        where="j",
        base_dir=tmp_path,
    )
    livekit = media.livekit_for("a")
    assert livekit is not None and livekit.api_secret.reveal() == SECRET
    assert janus.token_auth_secret.get_secret_value() == SECRET
    with pytest.raises(MediaConfigError, match="api_secret_file, not both"):
        parse_media_config(
            f'[tenants.a.livekit]\nurl = "u"\napi_key = "k"\napi_secret = "{SECRET}"\n'
            'api_secret_file = "s"\n',
            tmp_path,
        )
    with pytest.raises(JanusConfigError, match="token_auth_secret_file, not both"):
        parse_janus_table(
            {"url": "http://j/janus", "token_auth_secret": SECRET, "token_auth_secret_file": "s"},
            where="j",
        )
