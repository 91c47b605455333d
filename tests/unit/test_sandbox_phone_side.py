"""The sandbox phone's side: what a phone reports when acted as, and what it sees."""

from __future__ import annotations

import asyncio

import pytest

from bluewire.connectors.protocol import Inbound, OutboundMessage, StatusUpdate, Typing
from bluewire.connectors.sandbox import (
    PHONE_HISTORY,
    PhoneActionRefused,
    SandboxConnector,
    SandboxTiming,
)
from bluewire.domain.statuses import Service, Status

LINE = "+14155550199"


class Sink:
    def __init__(self) -> None:
        self.reports: list[StatusUpdate | Inbound | Typing] = []

    def status(self, update: StatusUpdate) -> None:
        self.reports.append(update)

    def inbound(self, message: Inbound) -> None:
        self.reports.append(message)

    def typing(self, event: Typing) -> None:
        self.reports.append(event)

    def reads(self) -> list[str]:
        return [r.handle for r in self.reports
                if isinstance(r, StatusUpdate) and r.status is Status.READ]


async def network(read_ms: int = 600_000) -> tuple[SandboxConnector, Sink]:
    sandbox, sink = SandboxConnector(SandboxTiming(deliver_ms=0, read_ms=read_ms)), Sink()
    await sandbox.start(sink)
    return sandbox, sink


async def deliver(sandbox: SandboxConnector, number: str, *handles: str) -> None:
    for handle in handles:
        await sandbox.send(OutboundMessage(handle, LINE, number, f"message {handle}"))
    await asyncio.sleep(0)  # the deliveries are due at once


async def test_a_phone_sends_one_inbound_with_every_attachment() -> None:
    sandbox, sink = await network()
    sent = sandbox.phone_send("+14155550102", LINE, "look", ("https://x.test/a.png",
                                                             "https://x.test/b.png"))
    [report] = sink.reports
    assert isinstance(report, Inbound)
    assert report.media_urls == ("https://x.test/a.png", "https://x.test/b.png")
    assert report.service is Service.SMS and report.at_ms == sent.at_ms
    with pytest.raises(PhoneActionRefused):
        sandbox.phone_send("+14155550100", LINE, None, ())


async def test_reading_reports_each_delivered_message_once() -> None:
    sandbox, sink = await network(read_ms=0)
    number = "+14155550100"
    await sandbox.send(OutboundMessage("a", LINE, number, "a"))
    await sandbox.send(OutboundMessage("b", "+14155550198", number, "b"))  # another line
    read = sandbox.phone_read(number, LINE)  # before delivery: nothing is on the phone yet
    assert read.read == ()
    await asyncio.sleep(0)  # delivered; the automatic reads are now due
    read = sandbox.phone_read(number, LINE)
    assert read.read == read.reported == ("a",)
    await asyncio.sleep(0.01)  # the automatic reads come: only "b" is still unread
    assert sink.reads() == ["a", "b"]
    await sandbox.stop()
    assert sink.reads() == ["a", "b"]


@pytest.mark.parametrize("number", ["+14155550101", "+14155550102"])
async def test_a_phone_without_receipts_reads_silently(number: str) -> None:
    sandbox, sink = await network()
    await deliver(sandbox, number, "a")
    read = sandbox.phone_read(number, LINE)
    assert read.read == ("a",) and read.reported == ()
    assert sink.reads() == []
    [message] = sandbox.view(number).received
    assert message.status is Status.READ and message.read_at_ms is not None


async def test_only_a_manual_phone_delivers_by_hand() -> None:
    sandbox, sink = await network()
    await deliver(sandbox, "+14155550108", "a")
    assert sandbox.phone_deliver("+14155550108", LINE) == ("a",)
    assert sandbox.phone_deliver("+14155550108", LINE) == ()
    assert sink.reports[-1] == StatusUpdate("a", Status.DELIVERED, sink.reports[-1].at_ms,
                                            Service.IMESSAGE)
    with pytest.raises(PhoneActionRefused):
        sandbox.phone_deliver("+14155550100", LINE)


async def test_the_phone_sees_receipts_and_typing_but_not_on_sms() -> None:
    sandbox, sink = await network()
    number = "+14155550100"
    sandbox.phone_send(number, LINE, "hello", ())
    await sandbox.mark_read(LINE, number)
    await sandbox.set_typing(LINE, number, True)
    seen = sandbox.view(number)
    assert [r.line for r in seen.receipts] == [LINE]
    assert seen.sent[0].read_at_ms == seen.receipts[0].at_ms
    assert [(t.line, t.is_typing) for t in seen.typing_seen] == [(LINE, True)]

    sms = "+14155550102"
    await sandbox.mark_read(LINE, sms)
    await sandbox.set_typing(LINE, sms, True)
    sandbox.phone_type(sms, LINE, True)
    seen = sandbox.view(sms)
    assert seen.receipts == () and seen.typing_seen == ()
    assert [t.is_typing for t in seen.typing] == [True]
    assert not any(isinstance(r, Typing) for r in sink.reports)


async def test_what_a_phone_remembers_is_bounded() -> None:
    sandbox, _ = await network()
    number = "+14155550108"
    for i in range(PHONE_HISTORY + 10):
        await sandbox.send(OutboundMessage(f"m{i}", LINE, number, "x"))
        sandbox.phone_send(number, LINE, "y", ())
        await sandbox.mark_read(LINE, number)
    seen = sandbox.view(number)
    assert len(seen.received) == len(seen.sent) == len(seen.receipts) == PHONE_HISTORY
    assert seen.received[-1].handle == f"m{PHONE_HISTORY + 9}"
