"""The message status machine.

Outbound statuses only move up in rank. DECLINED, ERROR and READ are final. SMS ends at
SENT. A transition that would move a status down, or repeat it, is not a transition at all:
it changes nothing and emits nothing, because connectors may report out of order or twice.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    REGISTERED = "REGISTERED"
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    ACCEPTED = "ACCEPTED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    DECLINED = "DECLINED"
    ERROR = "ERROR"
    RECEIVED = "RECEIVED"


class Service(StrEnum):
    IMESSAGE = "iMessage"
    SMS = "SMS"
    RCS = "RCS"


RANK: dict[Status, int] = {
    Status.REGISTERED: 0,
    Status.PENDING: 1,
    Status.QUEUED: 2,
    Status.ACCEPTED: 3,
    Status.SENT: 4,
    Status.DELIVERED: 5,
    Status.READ: 6,
}

FINAL: frozenset[Status] = frozenset({Status.DECLINED, Status.ERROR, Status.READ, Status.RECEIVED})

# Once handed to the network, the message can no longer fail as a whole: a DELIVERED
# message that later reports an error keeps its DELIVERED status.
_ERROR_ALLOWED_BELOW = RANK[Status.DELIVERED]

# Statuses a message waits in before its connector has told us what happened to it.
UNRESOLVED: frozenset[Status] = frozenset(
    {Status.REGISTERED, Status.PENDING, Status.QUEUED, Status.ACCEPTED}
)


def can_transition(current: Status, new: Status, service: Service | None) -> bool:
    """Whether an outbound message in `current` may move to `new`.

    `service` is what the message is (or is about to be) carried on; None while unknown.
    """
    if current in FINAL or new is Status.RECEIVED:
        return False
    if new is Status.DECLINED:
        return RANK[current] < RANK[Status.QUEUED]
    if new is Status.ERROR:
        return RANK[current] < _ERROR_ALLOWED_BELOW and not is_terminal(current, service)
    if RANK[new] <= RANK[current]:
        return False
    return not (service is Service.SMS and RANK[new] > RANK[Status.SENT])


def is_terminal(status: Status, service: Service | None) -> bool:
    """Whether a message in `status` on `service` has reached the end of its life.

    SMS ends at SENT; iMessage and RCS at DELIVERED, or READ when the recipient has read
    receipts on (DELIVERED stays terminal: a READ may still follow, but need not).
    """
    if status in FINAL:
        return True
    if status is Status.SENT:
        return service is Service.SMS
    return status is Status.DELIVERED


def timestamp_field(status: Status) -> str | None:
    """The message column that records when `status` was reached, if it has one."""
    return _TIMESTAMP_FIELDS.get(status)


_TIMESTAMP_FIELDS = {
    Status.SENT: "sent_at",
    Status.DELIVERED: "delivered_at",
    Status.READ: "read_at",
}
