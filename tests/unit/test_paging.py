"""Pure unit tests of service.domain.paging: opaque, tamper-evident page tokens."""

from __future__ import annotations

import base64

import pytest

from service.domain.errors import DomainError, ErrorKind, ErrorReason
from service.domain.paging import Cursor, PageTokens

SECRET = b"0123456789abcdef0123456789abcdef"
TOKENS = PageTokens(SECRET)
SCOPE = ["rooms", "tenant-a", "state=open"]
CURSOR: Cursor = ["2030-01-01T12:00:00.123456+00:00", "room-42"]


def token() -> str:
    return TOKENS.encode(SCOPE, CURSOR)


def assert_bad_token(error: DomainError, field: str = "page_token") -> None:
    assert error.reason is ErrorReason.INVALID_PAGE_TOKEN
    assert error.kind is ErrorKind.INVALID
    assert error.metadata == {"field": field}
    assert [v.field for v in error.field_violations] == [field]
    assert error.field_violations[0].reason is ErrorReason.INVALID_PAGE_TOKEN


def decode_error(value: str, scope: list[str] = SCOPE, tokens: PageTokens = TOKENS) -> DomainError:
    with pytest.raises(DomainError) as info:
        tokens.decode(scope, value)
    return info.value


# --- Round trips -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        CURSOR,
        [],
        [0],
        ["2030-01-01T12:00:00+00:00", "room-1", 17],
        ["ünïcödé", "用户", 'with "quotes" and \\ backslashes'],
        ["x" * 300],
    ],
)
def test_round_trip(cursor: Cursor) -> None:
    encoded = TOKENS.encode(SCOPE, cursor)
    assert TOKENS.decode(SCOPE, encoded) == cursor


def test_tokens_are_url_safe_and_unpadded() -> None:
    encoded = token()
    assert encoded
    assert "=" not in encoded
    assert set(encoded) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_tokens_are_deterministic() -> None:
    assert token() == token()
    assert PageTokens(SECRET).encode(SCOPE, CURSOR) == token()


def test_another_replica_with_the_same_secret_accepts_the_token() -> None:
    assert PageTokens(bytes(SECRET)).decode(list(SCOPE), token()) == CURSOR


def test_the_secret_must_be_at_least_16_bytes() -> None:
    PageTokens(b"k" * 16)
    with pytest.raises(ValueError):
        PageTokens(b"k" * 15)
    with pytest.raises(ValueError):
        PageTokens(b"")


# --- Rejections ------------------------------------------------------------------------


def flip(char: str) -> str:
    return "B" if char == "A" else "A"


@pytest.mark.parametrize("position", ["first", "payload", "middle", "mac"])
def test_a_flipped_character_is_rejected(position: str) -> None:
    encoded = token()
    # The last character may carry only base64 padding bits, so flip one before it.
    index = {
        "first": 0,
        "payload": 5,
        "middle": len(encoded) // 2,
        "mac": len(encoded) - 3,
    }[position]
    tampered = encoded[:index] + flip(encoded[index]) + encoded[index + 1 :]
    assert tampered != encoded
    assert_bad_token(decode_error(tampered))


def test_every_single_character_flip_before_the_last_is_rejected() -> None:
    encoded = token()
    for index in range(len(encoded) - 1):
        tampered = encoded[:index] + flip(encoded[index]) + encoded[index + 1 :]
        with pytest.raises(DomainError) as info:
            TOKENS.decode(SCOPE, tampered)
        assert info.value.reason is ErrorReason.INVALID_PAGE_TOKEN, index


def test_an_edited_cursor_with_the_old_mac_is_rejected() -> None:
    raw = base64.urlsafe_b64decode(token() + "=" * (-len(token()) % 4))
    payload, mac = raw[:-16], raw[-16:]
    forged_payload = payload.replace(b"room-42", b"room-43")
    assert forged_payload != payload
    forged = base64.urlsafe_b64encode(forged_payload + mac).decode().rstrip("=")
    assert_bad_token(decode_error(forged))


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.25])
def test_a_truncated_token_is_rejected(keep: float) -> None:
    encoded = token()
    assert_bad_token(decode_error(encoded[: int(len(encoded) * keep)]))


@pytest.mark.parametrize("cut", [1, 2, 3, 4, 5])
def test_a_token_missing_its_last_characters_is_rejected(cut: int) -> None:
    assert_bad_token(decode_error(token()[:-cut]))


def test_a_token_with_extra_characters_is_rejected() -> None:
    assert_bad_token(decode_error(token() + "AAAA"))
    assert_bad_token(decode_error("AAAA" + token()))


@pytest.mark.parametrize(
    "garbage",
    [
        "not a page token",
        "!!!!",
        "%%%%%%%%",
        "éé",
        "\x00\x00\x00\x00",
        "eyJvZmZzZXQiOjEwMH0",  # base64 of {"offset":100}
        "W10",  # base64 of [] (too short to hold a MAC)
        "A" * 64,
        "A" * 2000,
    ],
)
def test_garbage_is_rejected(garbage: str) -> None:
    assert_bad_token(decode_error(garbage))


@pytest.mark.parametrize("empty_ish", ["", " ", "=", "==", "====", "A", "AA", "\n"])
def test_empty_ish_tokens_are_rejected(empty_ish: str) -> None:
    assert_bad_token(decode_error(empty_ish))


def test_a_token_of_a_longer_cursor_over_1024_characters_is_rejected() -> None:
    encoded = TOKENS.encode(SCOPE, ["x" * 1_000])
    assert len(encoded) > 1024
    assert_bad_token(decode_error(encoded))


@pytest.mark.parametrize(
    "other_scope",
    [
        ["rooms", "tenant-b", "state=open"],  # another tenant
        ["rooms", "tenant-a", "state=ended"],  # another filter
        ["rooms", "tenant-a"],  # no filter
        ["participants", "tenant-a", "state=open"],  # another list kind
        ["rooms", "tenant-a", "state=open", ""],  # one more (empty) scope part
        ["rooms", "tenant-astate=open"],  # the same characters, split differently
        ["rooms", "tenant-a", "state", "open"],
        [],
    ],
)
def test_a_token_from_another_scope_is_rejected(other_scope: list[str]) -> None:
    assert_bad_token(decode_error(token(), scope=other_scope))


def test_a_token_signed_with_another_secret_is_rejected() -> None:
    other = PageTokens(b"another secret, also 32 bytes..!")
    assert_bad_token(decode_error(other.encode(SCOPE, CURSOR)))
    assert_bad_token(decode_error(token(), tokens=other))


def test_the_error_names_the_given_field() -> None:
    with pytest.raises(DomainError) as info:
        TOKENS.decode(SCOPE, "garbage", field="request.page_token")
    assert_bad_token(info.value, field="request.page_token")
