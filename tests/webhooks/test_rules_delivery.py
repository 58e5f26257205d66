"""Pure rules of delivery: URLs, backoff, delivery ids and the signature (checked with
the `standardwebhooks` library)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from service.domain.delivery import RetryPolicy, delivery_id
from service.domain.webhooks import new_secret, signature, url_violation

ALLOWED = {"127.0.0.1", "localhost"}


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://hooks.example.com/x?a=1", None),
        ("http://127.0.0.1:8080/x", None),
        ("http://LOCALHOST/x", None),
        ("http://hooks.example.com/x", "SCHEME"),
        ("https:///x", "SCHEME"),
        ("file:///etc/passwd", "SCHEME"),
        ("https://a@hooks.example.com", "MALFORMED"),
        ("https://hooks.example.com/#x", "MALFORMED"),
        ("https://hooks.example.com:99999/", "MALFORMED"),
        ("https://hooks.example.com/a b", "MALFORMED"),
        ("https://h/" + "a" * 2048, "TOO_LONG"),
    ],
)
def test_url_rules(url: str, rule: str | None) -> None:
    found = url_violation(url, ALLOWED)
    assert (found[0] if found else None) == rule


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(first_delay=timedelta(seconds=1), max_delay=timedelta(minutes=1))
    rng = random.Random(7)
    for attempts, base in ((1, 1), (2, 2), (3, 4), (7, 60), (500, 60)):
        for _ in range(50):
            delay = policy.delay(attempts, rng).total_seconds()
            assert base / 2 <= delay < base, (attempts, delay)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert not policy.gives_up(start, start + timedelta(hours=23, minutes=59))
    assert policy.gives_up(start, start + timedelta(hours=24))


def test_delivery_ids_are_stable_and_distinct() -> None:
    one = delivery_id("acme", "webhook/a", "room", 3)
    assert one == delivery_id("acme", "webhook/a", "room", 3)
    assert one.startswith("msg_") and len(one) == 36
    others = {
        delivery_id("acme", "webhook/a", "room", 4),
        delivery_id("acme", "webhook/b", "room", 3),
        delivery_id("globex", "webhook/a", "room", 3),
    }
    assert one not in others and len(others) == 3


def test_the_signature_is_the_standard_one() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    now = int(datetime.now(UTC).timestamp())
    body = '{"type":"room.created","roomId":"ü"}'.encode()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": signature(secret, "msg_1", now, body),
    }
    assert Verifier(secret).verify(body, headers) == {"type": "room.created", "roomId": "ü"}
    with pytest.raises(Exception, match="signature"):
        Verifier(new_secret()).verify(body, headers)
