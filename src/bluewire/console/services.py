"""What the console's pages act through: the Gateway's own service objects, the very ones the
API's routes call. The console holds no rules of its own, so an action taken on a page is
validated, refused, recorded, streamed as an event and sent to webhooks exactly as the same
request to the API would be.

A page module's `routes(services)` takes what it needs from here. A page that needs a service
not listed adds it here and in `Gateway.asgi` (app.py), which builds this once per process.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..media.service import MediaService
from ..services.accounts import AccountService, Authenticator
from ..services.analytics import Analytics
from ..services.contacts import ContactService
from ..services.conversations import ConversationService
from ..services.delivery_log import DeliveryLog
from ..services.event_feed import EventFeed
from ..services.follow_ups import FollowUpService
from ..services.groups import GroupService
from ..services.lines import ConnectorRegistry, LineDirectory
from ..services.lookup import LookupService
from ..services.messaging import MessagingService
from ..services.read_receipts import ReadReceipts
from ..services.sandbox_phones import SandboxPhones
from ..services.typing import TypingIndicators
from ..services.webhooks import WebhookConfig
from ..store.accounts import Account
from .sessions import ConsoleSessions, Session


@dataclass(frozen=True, slots=True)
class ConsoleServices:
    settings: Settings
    sessions: ConsoleSessions
    authenticator: Authenticator
    accounts: AccountService
    lines: LineDirectory
    registry: ConnectorRegistry
    messaging: MessagingService
    groups: GroupService
    lookup: LookupService
    contacts: ContactService
    webhooks: WebhookConfig
    delivery_log: DeliveryLog
    read_receipts: ReadReceipts
    typing: TypingIndicators
    sandbox_phones: SandboxPhones
    media: MediaService
    feed: EventFeed
    conversations: ConversationService
    analytics: Analytics
    follow_ups: FollowUpService

    async def account_of(self, session: Session) -> Account:
        """The signed-in account, as the services take it (the API's `request.account`)."""
        account = await self.accounts.account(session.account_id)
        if account is None:  # deleted under a live session: as good as signed out
            raise LookupError(f"no account {session.account_id}")
        return account
