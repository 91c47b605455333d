"""Group messages: participants, and the rule for what per-participant receipts do.

A group message keeps one receipt per participant (delivered_at, read_at). The message's own
status is the highest status every participant has reached, except READ, which the first reader
sets. Each participant's read is its own event, naming that participant, whether or not it
changed the message's status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .errors import validation_error
from .messages import MessageRecord, advance
from .phones import require_number
from .statuses import Service, Status

MIN_PARTICIPANTS = 2


@dataclass(slots=True)
class Receipt:
    """One participant's copy of a group message."""

    number: str
    delivered_at: int | None = None
    read_at: int | None = None

    @property
    def has_it(self) -> bool:
        return self.delivered_at is not None or self.read_at is not None


@dataclass(slots=True)
class GroupOutcome:
    """What one participant's report did: whether the message's status changed, the receipts
    to save, and the events to emit (each with the participant it names; None: the message's
    own number)."""

    message_changed: bool = False
    receipts: list[Receipt] = field(default_factory=list)
    events: list[str | None] = field(default_factory=list)


def apply_group_report(message: MessageRecord, receipts: Mapping[str, Receipt], number: str,
                       status: Status, at_ms: int, *, service: Service | None = None,
                       was_downgraded: bool | None = None, error_code: int | None = None,
                       error_message: str | None = None) -> GroupOutcome:
    """Apply `number`'s report of `status` for group `message` (mutating it and `receipts`).

    DELIVERED is recorded on the participant's receipt; the message becomes DELIVERED once every
    participant has it. READ is recorded on the receipt and is an event naming the reader the
    first time that participant reads; the first reader makes the message READ. Any other status
    (SENT, ERROR, …) applies to the message as a whole. A receipt from someone who is not a
    participant of the message changes nothing.
    """
    outcome = GroupOutcome()
    if status not in (Status.DELIVERED, Status.READ):
        if advance(message, status, at_ms, service=service, was_downgraded=was_downgraded,
                   error_code=error_code, error_message=error_message):
            outcome.message_changed = True
            outcome.events.append(None)
        return outcome
    receipt = receipts.get(number)
    if receipt is None:
        return outcome  # not a participant of this message: nothing of theirs to record
    if status is Status.DELIVERED:
        if receipt.has_it:
            return outcome
        receipt.delivered_at = at_ms
        outcome.receipts.append(receipt)
        if all(r.has_it for r in receipts.values()) and advance(
                message, Status.DELIVERED, at_ms, service=service):
            outcome.message_changed = True
            outcome.events.append(None)
        return outcome
    if receipt.read_at is not None:
        return outcome  # this participant's read was heard already
    receipt.read_at = at_ms
    outcome.receipts.append(receipt)
    outcome.message_changed = advance(message, Status.READ, at_ms, service=service)
    outcome.events.append(number)
    return outcome


def parse_participants(raw: object, line: str) -> tuple[str, ...]:
    """`numbers[]` of a group send: E.164 each, no duplicates, not the line, at least two."""
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise validation_error("`numbers` must be a list of E.164 phone numbers")
    numbers = tuple(require_number(value, f"numbers[{i}]") for i, value in enumerate(raw))
    if len(numbers) < MIN_PARTICIPANTS:
        raise validation_error(f"a group needs at least {MIN_PARTICIPANTS} `numbers`")
    seen: set[str] = set()
    for number in numbers:
        if number in seen:
            raise validation_error(f"`numbers` lists {number} more than once")
        seen.add(number)
    if line in seen:
        raise validation_error(f"`numbers` includes the sending line {line}")
    return numbers
