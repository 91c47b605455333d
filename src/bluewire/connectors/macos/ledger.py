"""The sends this connector handed to Messages.app, kept in a small JSON file so that after a
restart `resolve` can still find each message's chat.db row."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...atomic_file import AtomicFile

KEEP_MS = 8 * 24 * 3600 * 1000  # a little longer than the week of rows we follow


@dataclass(slots=True)
class SentRecord:
    handle: str
    number: str | None  # the 1:1 recipient; None for a group send
    chat_guid: str | None  # the group chat; None for a 1:1 send
    text: str | None  # what the tracked row's text will be; None for a file-only send
    after_rowid: int  # the tracked row is newer than this
    sent_at_ms: int
    guid: str | None = None  # learnt by matching the row
    last_status: str | None = None
    settled: bool = False  # nothing more can come of its row: no longer re-read


@dataclass(frozen=True, slots=True)
class Snapshot:
    ticket: int
    content: bytes


@dataclass(slots=True)
class Ledger:
    path: Path | None
    records: dict[str, SentRecord] = field(default_factory=dict)
    last_rowid: int | None = None
    _file: AtomicFile | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._file = AtomicFile(self.path) if self.path is not None else None

    @classmethod
    def load(cls, path: Path | None) -> Ledger:
        if path is None or not path.exists():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        records = {r["handle"]: SentRecord(**r) for r in data.get("sends", [])}
        return cls(path, records, data.get("last_rowid"))

    def dump(self, now_ms: int) -> Snapshot:
        """The file's new content (dropping sends too old to matter), taken on the event loop
        so that writing it in a thread never sees the records change under it."""
        self.records = {h: r for h, r in self.records.items() if now_ms - r.sent_at_ms < KEEP_MS}
        content = json.dumps({"last_rowid": self.last_rowid,
                              "sends": [asdict(r) for r in self.records.values()]})
        return Snapshot(self._file.ticket() if self._file else 0, content.encode())

    def write(self, snapshot: Snapshot) -> None:
        """Blocking, safe from any thread; a snapshot older than the file's is dropped."""
        if self._file is not None:
            self._file.write(snapshot.ticket, snapshot.content)

    def handle_of(self, guid: str) -> str | None:
        """The handle of the send whose row is `guid`, if it is one of ours."""
        return next((r.handle for r in self.records.values() if r.guid == guid), None)

    def claimed_guids(self) -> set[str]:
        return {r.guid for r in self.records.values() if r.guid}
