"""The ids networks gave our messages, kept in the database for the connectors that learn them
(BlueBubbles: a message's guid, from its send's answer or webhooks): what the network later
says of a message (a delivery, a read, a tapback on it) reaches it whichever process hears it,
and after a restart."""

from __future__ import annotations

from ..store import network_ids as store
from ..store.database import Database, now_ms
from ..store.writer import Writer


class NetworkIds:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._database = database
        self._writer = writer

    async def remember(self, line: str, network_id: str, handle: str) -> None:
        await self._writer.submit(
            lambda tx: store.remember(tx, line, network_id, handle, now_ms()))

    async def handle_of(self, line: str, network_id: str) -> str | None:
        return await self._database.read_async(
            lambda conn: store.handle_of(conn, line, network_id))

    async def network_id_of(self, line: str, handle: str) -> str | None:
        return await self._database.read_async(
            lambda conn: store.network_id_of(conn, line, handle))
