"""Webhooks: endpoint types, which events each type hears, the retry schedule, and signing.

Signing follows two schemes at once. Sendblue's: the secret itself in the
`sb-signing-secret` header (on by default; an account or an endpoint can turn it off, since it
hands the secret to the receiver and to anything on the path of an `http://` URL). Standard
Webhooks': `webhook-id` (the event's id, the same on every retry), `webhook-timestamp`
(seconds) and `webhook-signature` = `v1,` + base64 of the HMAC-SHA256 of `id.timestamp.body`.
The HMAC key is the secret's bytes; for a secret written `whsec_<base64>` (the Standard
Webhooks form) it is the decoded base64, as the spec says.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
from collections.abc import Sequence
from functools import lru_cache

# Every type Sendblue's docs name is accepted and stored; TYPE_FOR_EVENT says which are fired.
ENDPOINT_TYPES: tuple[str, ...] = (
    "receive", "outbound", "typing_indicator", "contact_created", "line_blocked",
    "line_assigned", "call_log", "call_completed", "inbound_call", "contact_profile",
    "follow_up",  # bluewire's own: follow-ups' changes of state (services/follow_ups.py)
    "verification",  # bluewire's own: Verify's approved, expired, canceled (services/verify.py)
    "group",  # bluewire's own: a group renamed, its photo changed, a member left it
)
MAX_SECRET_CHARS = 256  # an endpoint's secret, and the account's global one

# Which endpoint type hears which event type.
TYPE_FOR_EVENT: dict[str, str] = {
    "message.created": "outbound",
    "message.updated": "outbound",
    "message.received": "receive",
    "reaction.received": "receive",  # a phone's tapback (domain/reactions.py)
    "typing.changed": "typing_indicator",
    "contact.created": "contact_created",
    "line.blocked": "line_blocked",
    "line.assigned": "line_assigned",
    "follow_up.scheduled": "follow_up",
    "follow_up.fired": "follow_up",
    "follow_up.skipped": "follow_up",
    "follow_up.cancelled": "follow_up",
    "follow_up.due": "follow_up",
    "group.renamed": "group",
    "group.photo_changed": "group",
    "group.member_left": "group",
    "group.member_added": "group",
    "group.member_removed": "group",
    "verification.approved": "verification",
    "verification.expired": "verification",
    "verification.canceled": "verification",
}

# Seconds to wait after each failed attempt: 12 attempts over about two days (47.7 hours).
RETRY_SCHEDULE_S: tuple[float, ...] = (
    5, 30, 2 * 60, 10 * 60, 30 * 60, 60 * 60, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600, 20 * 3600,
)
JITTER = 0.2
MAX_RETRY_AFTER_S = 24 * 3600
TIMEOUT_S = 15.0
RESPONSE_SNIPPET_BYTES = 1024


def next_attempt_at(failures: int, now_ms: int, *, schedule: Sequence[float] = RETRY_SCHEDULE_S,
                    retry_after_s: float | None = None,
                    rng: random.Random | None = None) -> int | None:
    """When to try again after the `failures`-th failed attempt, or None when retries are spent.

    The schedule's delay moves by up to ±20% (jitter, so that a receiver coming back is not hit by
    every retry at once); a `Retry-After` from the receiver is honoured when it asks for longer.
    """
    if failures < 1 or failures > len(schedule):
        return None
    delay = schedule[failures - 1] * (1 + (rng or random).uniform(-JITTER, JITTER))
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
    return now_ms + round(delay * 1000)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header given in seconds (HTTP dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


@lru_cache(maxsize=4096)
def signing_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def signature_headers(secret: str | None, webhook_id: str, timestamp: int,
                      body: bytes, *, send_secret: bool = True) -> dict[str, str]:
    """The headers of one attempt. Without a secret, only the id and timestamp; the secret
    itself in `sb-signing-secret` unless `send_secret` is off."""
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp)}
    if secret:
        signed = f"{webhook_id}.{timestamp}.".encode() + body
        digest = hmac.digest(signing_key(secret), signed, hashlib.sha256)
        headers["webhook-signature"] = "v1," + base64.b64encode(digest).decode()
        if send_secret:
            headers["sb-signing-secret"] = secret
    return headers
