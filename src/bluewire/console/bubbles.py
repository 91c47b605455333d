"""A message as a thread shows it (`Bubble`): which side, its text and media, and for one we
sent, its status chain with the time of each step (QUEUED → SENT → DELIVERED → READ, or ERROR
with its code and text) and, in a group, each participant's copy. The templates render these
(console/_bubbles.html); what a stranger wrote stays text (the environment escapes it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ..domain.groups import Receipt
from ..domain.limits import MEDIA_EXTENSIONS
from ..domain.messages import MessageRecord
from ..domain.payloads import iso
from ..domain.statuses import Status

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "webp", "heic"}) & MEDIA_EXTENSIONS


@dataclass(frozen=True, slots=True)
class Moment:
    iso: str  # the machine-readable time (`<time datetime>`)
    shown: str  # what a person reads: the time of day, UTC

    @classmethod
    def of(cls, ms: int | None) -> Moment | None:
        if ms is None:
            return None
        at = datetime.fromtimestamp(ms / 1000, UTC)
        return cls(iso(ms) or "", at.strftime("%H:%M:%S"))


@dataclass(frozen=True, slots=True)
class Step:
    status: str  # QUEUED, SENT, DELIVERED, READ or ERROR
    at: Moment | None  # None: not reached (yet)
    detail: str = ""  # an error's code and text


@dataclass(frozen=True, slots=True)
class Copy:
    """One participant's copy of a group message we sent."""

    number: str
    name: str
    delivered: Moment | None
    read: Moment | None


@dataclass(frozen=True, slots=True)
class Media:
    url: str
    linkable: bool  # an http(s) URL: shown as a link (any other scheme stays text)
    image_src: str  # our own stored picture: its path on this server, shown inline; else ""


@dataclass(frozen=True, slots=True)
class Bubble:
    id: int
    handle: str
    outbound: bool
    content: str
    media: Media | None
    sender: str  # an inbound group message's author (name or number); else ""
    status: str
    service: str
    send_style: str
    sent: Moment
    steps: tuple[Step, ...]
    copies: tuple[Copy, ...]
    reads: int  # group: how many participants read it

    @property
    def failed(self) -> bool:
        return self.status == Status.ERROR.value


_CHAIN = ((Status.QUEUED, "created_at"), (Status.SENT, "sent_at"),
          (Status.DELIVERED, "delivered_at"), (Status.READ, "read_at"))


def bubble(message: MessageRecord, *, is_own_media: Callable[[str], bool],
           names: Mapping[str, str], receipts: Sequence[Receipt] = ()) -> Bubble:
    copies = tuple(Copy(r.number, names.get(r.number, ""), Moment.of(r.delivered_at),
                        Moment.of(r.read_at)) for r in receipts)
    sender = ""
    if message.group_id and not message.is_outbound:
        sender = names.get(message.number, message.number)
    return Bubble(
        id=message.id or 0, handle=message.handle, outbound=message.is_outbound,
        content=message.content or "", media=_media(message.media_url, is_own_media),
        sender=sender, status=message.status.value,
        service=message.service.value if message.service else "",
        send_style=message.send_style or "", sent=Moment.of(message.created_at) or _EPOCH,
        steps=_steps(message) if message.is_outbound else (),
        copies=copies, reads=sum(1 for c in copies if c.read is not None))


_EPOCH = Moment(iso(0) or "", "00:00:00")


def _steps(message: MessageRecord) -> tuple[Step, ...]:
    steps = [Step(status.value, Moment.of(getattr(message, column)))
             for status, column in _CHAIN]
    if message.status in (Status.ERROR, Status.DECLINED):
        reached = [step for step in steps if step.at is not None]
        code = f"{message.error_code}: " if message.error_code is not None else ""
        detail = code + (message.error_message or message.status.value.lower())
        steps = [*reached, Step(message.status.value, Moment.of(message.updated_at), detail)]
    return tuple(steps)


def _media(url: str | None, is_own: Callable[[str], bool]) -> Media | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return Media(url, False, "")
    linkable = parts.scheme in ("http", "https") and bool(parts.netloc)
    extension = parts.path.rsplit(".", 1)[-1].lower() if "." in parts.path else ""
    # Same-origin, so the Content-Security-Policy's img-src 'self' lets it show.
    image = linkable and extension in IMAGE_EXTENSIONS and is_own(url)
    return Media(url, linkable, parts.path if image else "")
