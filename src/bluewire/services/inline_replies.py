"""An inline reply given with a send (`reply_to`): it must answer a message of the same
conversation on the same line, from a line whose connector can send inline replies."""

from __future__ import annotations

from ..domain.errors import validation_error
from ..domain.messages import in_conversation
from ..domain.wire.common import ReplyTo
from ..store import messages as store
from ..store.accounts import Account, Line
from ..store.database import Database
from .lines import ConnectorRegistry


async def answered(database: Database, registry: ConnectorRegistry, account: Account,
                   line: Line, reply_to: ReplyTo | None, *, number: str | None = None,
                   group_id: str | None = None) -> tuple[str | None, int | None]:
    """(handle, part) of the message a send to `number` (1:1) or to group `group_id` on `line`
    answers; (None, None) without `reply_to`. A 400 says what is wrong otherwise."""
    if reply_to is None:
        return None, None
    capabilities = registry.capabilities_for(line.number)
    if capabilities is None or not capabilities.replies:
        raise validation_error(f"`reply_to`: line {line.number} cannot send inline replies "
                               f"(replies): its connector ({line.connector}) does not support "
                               f"them{registry.capability_note(line.number)}",
                               error_key="CAPABILITY_MISSING")
    handle = reply_to.message_handle.strip()
    parent = await database.read_async(lambda conn: store.message_by_handle(conn, handle))
    where = f"group {group_id}" if group_id is not None else f"{number} on {line.number}"
    if parent is None or not in_conversation(parent, account.id, line.number, number, group_id):
        raise validation_error(f"`reply_to.message_handle` {handle} is not a message of this "
                               f"conversation ({where}): a reply answers a message of the "
                               "conversation it is sent in")
    return parent.handle, reply_to.part_index
