"""Retry schedule, signatures and the SSRF address rules (no I/O, no sleeping)."""

from __future__ import annotations

import base64
import json
import random
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bluewire.domain.ssrf import refusal, refusal_of_all
from bluewire.domain.webhooks import (
    JITTER,
    MAX_RETRY_AFTER_S,
    RETRY_SCHEDULE_S,
    next_attempt_at,
    parse_retry_after,
    signature_headers,
    signing_key,
)

NOW = 1_700_000_000_000


def test_the_schedule_spans_about_two_days_in_twelve_attempts() -> None:
    assert len(RETRY_SCHEDULE_S) + 1 == 12
    assert 46 * 3600 <= sum(RETRY_SCHEDULE_S) <= 50 * 3600
    assert list(RETRY_SCHEDULE_S) == sorted(RETRY_SCHEDULE_S)


@pytest.mark.parametrize("failures", range(1, len(RETRY_SCHEDULE_S) + 1))
def test_each_retry_waits_its_scheduled_delay_within_twenty_percent(failures: int) -> None:
    rng = random.Random(failures)
    delays = [(next_attempt_at(failures, NOW, rng=rng) - NOW) / 1000 for _ in range(200)]
    planned = RETRY_SCHEDULE_S[failures - 1]
    assert min(delays) >= planned * (1 - JITTER) - 0.001
    assert max(delays) <= planned * (1 + JITTER) + 0.001
    assert max(delays) - min(delays) > planned * JITTER  # it really is jittered


def test_retries_stop_when_the_schedule_is_spent() -> None:
    assert next_attempt_at(len(RETRY_SCHEDULE_S) + 1, NOW) is None
    assert next_attempt_at(0, NOW) is None


def test_a_longer_retry_after_is_honoured_and_a_shorter_one_does_not_hurry_us() -> None:
    rng = random.Random(1)
    assert next_attempt_at(1, NOW, retry_after_s=120, rng=rng) == NOW + 120_000
    soon = next_attempt_at(3, NOW, retry_after_s=1, rng=random.Random(2))
    assert soon is not None and soon - NOW >= RETRY_SCHEDULE_S[2] * (1 - JITTER) * 1000
    capped = next_attempt_at(1, NOW, retry_after_s=10 * 24 * 3600, rng=rng)
    assert capped == NOW + MAX_RETRY_AFTER_S * 1000


def test_a_custom_schedule_is_followed() -> None:
    rng = random.Random(3)
    first = next_attempt_at(1, NOW, schedule=(1.0, 2.0), rng=rng)
    assert first is not None and 800 <= first - NOW <= 1200
    assert next_attempt_at(3, NOW, schedule=(1.0, 2.0)) is None


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), (" 2.5 ", 2.5), ("0", 0.0),
                                                 ("-1", None), ("soon", None), (None, None),
                                                 ("Wed, 21 Oct 2015 07:28:00 GMT", None)])
def test_retry_after_is_read_in_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


BODY = json.dumps({"status": "READ", "message_handle": "m1"}).encode()


def test_a_whsec_secret_signs_so_that_standard_webhooks_verifies() -> None:
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    headers = signature_headers(secret, "evt_1", int(time.time()), BODY)
    assert headers["webhook-id"] == "evt_1"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["sb-signing-secret"] == secret
    webhook = Webhook(secret)
    assert webhook.verify(BODY, headers) == {"status": "READ", "message_handle": "m1"}


def test_a_plain_secret_is_its_own_key_and_verifies_in_base64_form() -> None:
    headers = signature_headers("my plain secret", "evt_2", int(time.time()), BODY)
    assert signing_key("my plain secret") == b"my plain secret"
    webhook = Webhook(base64.b64encode(b"my plain secret").decode())
    assert webhook.verify(BODY, headers)["message_handle"] == "m1"


def test_a_tampered_body_does_not_verify() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    headers = signature_headers(secret, "evt_3", int(time.time()), BODY)
    webhook = Webhook(secret)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        webhook.verify(BODY.replace(b"READ", b"SENT"), headers)


def test_without_a_secret_there_is_no_signature() -> None:
    headers = signature_headers(None, "evt_4", 1_700_000_000, BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp"}


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"),
    ("172.16.0.1", "private"), ("192.168.1.10", "private"), ("100.64.0.1", "private"),
    ("169.254.169.254", "metadata"), ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"), ("169.254.10.10", "link-local"),
    ("fe80::1", "link-local"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "reserved"), ("240.0.0.1", "reserved"), ("fc00::1", "private"),
    ("::ffff:10.0.0.1", "private"), ("::ffff:127.0.0.1", "loopback"),
])
def test_internal_addresses_are_refused_with_the_reason(address: str, reason: str) -> None:
    found = refusal(address)
    assert found is not None and reason in found


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::6810:84e5",
                                     "1.1.1.1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(address) is None


def test_a_name_is_refused_only_when_every_address_it_resolves_to_is() -> None:
    found = refusal_of_all("intranet.example", ["10.0.0.7", "127.0.0.1"])
    assert found is not None and "intranet.example" in found
    assert "private" in found and "loopback" in found
    assert refusal_of_all("mixed.example", ["10.0.0.7", "93.184.215.14"]) is None
    assert refusal_of_all("nowhere.example", []) is None
