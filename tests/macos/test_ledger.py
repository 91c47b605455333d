"""The connector's state file: its writes run in threads, and a write whose awaiting task was
cancelled (at stop) keeps running while the next one starts."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bluewire.connectors.macos.ledger import Ledger, SentRecord


def _record(handle: str) -> SentRecord:
    return SentRecord(handle=handle, number="+14155550100", chat_guid=None, text="hi",
                      after_rowid=0, sent_at_ms=1_000)


def test_overlapping_writes_all_succeed_and_the_newest_snapshot_wins(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "state.json")
    snapshots = []
    for i in range(200):
        ledger.records[f"h{i}"] = _record(f"h{i}")
        snapshots.append(ledger.dump(now_ms=2_000))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(ledger.write, snapshots))  # raises if any write failed

    saved = json.loads((tmp_path / "state.json").read_text())
    assert len(saved["sends"]) == 200
    assert Ledger.load(tmp_path / "state.json").records.keys() == ledger.records.keys()


def test_an_older_snapshot_never_replaces_a_newer_one(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "state.json")
    ledger.records["first"] = _record("first")
    older = ledger.dump(now_ms=2_000)
    ledger.records["second"] = _record("second")
    newer = ledger.dump(now_ms=2_000)

    ledger.write(newer)
    ledger.write(older)  # the slow thread of a cancelled save, finishing last

    assert set(Ledger.load(tmp_path / "state.json").records) == {"first", "second"}
