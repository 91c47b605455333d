"""Wiring: the store, services, workers and connectors of one bluewire process."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from .agents.hub import AgentConnector
from .agents.questions import QuestionRelay
from .agents.tokens import AgentTokens
from .api.account_overview_routes import register_account_overview_routes
from .api.analytics_routes import register_analytics_routes
from .api.bluebubbles_routes import register_bluebubbles_routes
from .api.contact_routes import register_contact_routes
from .api.conversation_routes import register_conversation_routes
from .api.delivery_routes import register_delivery_routes
from .api.docs_routes import register_docs_routes
from .api.events import STREAM_EVENTS, event_stream_handler
from .api.follow_up_routes import register_follow_up_routes
from .api.group_routes import register_group_routes
from .api.home_routes import register_home_route
from .api.http import App, Request
from .api.line_state_routes import register_line_state_routes
from .api.line_usage_routes import register_line_usage_routes
from .api.media_routes import register_media_routes
from .api.openapi import register_openapi_route
from .api.ops_routes import register_ops_routes
from .api.reaction_routes import register_reaction_routes
from .api.routes import build_router
from .api.sandbox_group_routes import register_sandbox_group_routes
from .api.sandbox_line_routes import register_sandbox_line_routes
from .api.sandbox_routes import register_sandbox_routes
from .api.unserved_routes import register_unserved_routes
from .api.verify_routes import register_verify_routes
from .api.webhook_routes import register_webhook_routes
from .config import Settings
from .connectors.agent.frames import PATH as AGENT_PATH
from .connectors.bluebubbles import BlueBubblesConnector
from .connectors.protocol import Connector
from .connectors.sandbox import SandboxTiming
from .console import PATH as CONSOLE_PATH
from .console import ConsoleServices, ConsoleSessions, build_console
from .delivery.clock import SystemClock
from .delivery.sender import WebhookSender
from .delivery.worker import DeliveryWorker
from .dispatch.reactions import ReactionDispatcher
from .dispatch.sink import NetworkSink
from .dispatch.worker import Dispatcher
from .domain.errors import ApiError
from .domain.new_contacts import NewContactLimits
from .domain.webhooks import RETRY_SCHEDULE_S
from .followups.worker import FollowUpWorker
from .media.wiring import DEFAULT_PUBLIC_URL, build_media
from .observability.metrics import Metrics
from .sandbox.network import SandboxNetwork
from .services.accounts import AccountService, Authenticator
from .services.analytics import Analytics
from .services.contact_book import ContactBook
from .services.contacts import ContactService
from .services.conversations import ConversationService
from .services.delivery_log import DeliveryLog
from .services.event_feed import EventFeed
from .services.follow_ups import FollowUpService
from .services.groups import GroupService
from .services.health import Readiness
from .services.idempotency import IdempotencyKeys
from .services.key_revocation import RevocationCheck
from .services.lines import ConnectorRegistry, LineDirectory
from .services.lookup import LookupService
from .services.messaging import MessagingService
from .services.network import NetworkReports
from .services.network_ids import NetworkIds
from .services.new_contacts import NewContacts
from .services.outbox import Outbox, WebhookDirectory
from .services.ownership import LeaseKeeper, process_identity
from .services.reactions import ReactionService
from .services.read_receipts import ReadReceipts
from .services.sandbox_lines import SandboxLines
from .services.sandbox_phones import SandboxPhones
from .services.totp import TotpService
from .services.typing import TypingIndicators
from .services.verify import VerifyService
from .services.webhook_targets import WebhookTargets
from .services.webhooks import WebhookConfig
from .store import accounts as account_store
from .store import deliveries as delivery_store
from .store import follow_ups as follow_up_store
from .store import leases as lease_store
from .store import messages as message_store
from .store import notifications, sealed_secrets
from .store import reactions as reaction_store
from .store import sandbox_network as sandbox_store
from .store.database import Database, PoolSettings, is_disk_full, is_unavailable
from .store.notifications import Listener
from .store.secret_box import SecretBox, SecretKeyError, box_for
from .store.writer import Writer

log = logging.getLogger(__name__)

# A follow-up's lease: settling one is a single transaction, so a lease that runs out only
# means its process died (or stalled) between the claim and the outcome.
_FOLLOW_UP_LEASE_MS = 15_000


def unavailable_error(exc: Exception) -> ApiError | None:
    """503 rather than 500 when the store cannot be reached or cannot grow: the client should
    retry."""
    if is_disk_full(exc):
        return ApiError(503, "The database's disk is full (or refuses writes): nothing was "
                        "stored; retry once space is freed", error_code=5000,
                        headers={"retry-after": "5"})
    if is_unavailable(exc):
        return ApiError(503, "The database is unavailable; retry shortly", error_code=5000,
                        headers={"retry-after": "1"})
    return None


def _secret_box(settings: Settings) -> SecretBox:
    try:
        return box_for(settings.secret_key, settings.database_url,
                       settings.secret_key_previous)
    except (SecretKeyError, OSError) as exc:
        raise SystemExit(f"error: webhook secret key: {exc}") from None


def pool_settings(settings: Settings) -> PoolSettings:
    return PoolSettings(size=settings.db_pool_size, overflow=settings.db_pool_overflow,
                        timeout_s=settings.db_pool_timeout_ms / 1000,
                        connect_timeout_s=max(1, settings.db_connect_timeout_ms // 1000),
                        statement_timeout_ms=settings.db_statement_timeout_ms)


class Gateway:
    """Everything one process runs. `start` and `stop` bracket its life on an event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database = Database(settings.database_url,
                                 sqlite_synchronous=settings.sqlite_synchronous,
                                 sqlite_cache_mib=settings.sqlite_cache_mib,
                                 sqlite_mmap_mib=settings.sqlite_mmap_mib,
                                 pool=pool_settings(settings))
        self.writer = Writer(self.database, max_batch=settings.writer_batch)
        self.secret_box = _secret_box(settings)
        self.listener = Listener(
            self.database.libpq_dsn(), self.writer.notified,
            own_pids=lambda: {self.writer.backend_pid} if self.writer.backend_pid else set(),
            connect_timeout_s=max(1, settings.db_connect_timeout_ms // 1000),
        ) if self.database.is_postgresql else None
        self.feed = EventFeed(self.database)
        self.writer.listen(notifications.EVENTS, self.feed.wake)
        self.accounts = AccountService(self.database, self.writer)
        # A key revoked by another process stops working at its next request.
        self.authenticator = Authenticator(self.database, revocations=RevocationCheck(
            self.database, listening=lambda: self.listener is not None and self.listener.connected),
            failures_per_minute=settings.auth_failures_per_minute)
        self.writer.listen(notifications.KEYS, self.authenticator.forget_all)
        self.lines = LineDirectory(self.database, settings.line_rate_limit)
        self.sandbox = SandboxNetwork(self.writer, self.database, SandboxTiming(
            deliver_ms=settings.sandbox_deliver_ms,
            read_ms=settings.sandbox_read_ms,
            slow_read_ms=settings.sandbox_slow_read_ms,
        ), sweep_ms=settings.sweep_interval_ms)
        self.bluebubbles = BlueBubblesConnector(
            self.lines.line, lambda: self.database.read(account_store.all_lines),
            settings.public_url, media=lambda: self.media,  # self.media is built below
            ids=NetworkIds(self.database, self.writer))
        self.leases = LeaseKeeper(self.database, self.writer, owner=process_identity(),
                                  term_ms=settings.agent_lease_ms,
                                  on_lost=lambda name: self.agents.lease_lost(name))
        self.agents = AgentConnector(AgentTokens(self.database, self.writer), self.lines,
                                     self.leases, self.writer, media=lambda: self.media)
        self.agent_questions = QuestionRelay(self.database, self.writer,
                                             serving=self.agents.held_lines,
                                             answerer=self.agents.answer)
        self.agents.questions = self.agent_questions
        self.writer.listen(notifications.QUESTIONS, self.agent_questions.wake)
        connectors: dict[str, Connector] = {"sandbox": self.sandbox,
                                            "bluebubbles": self.bluebubbles,
                                            "agent": self.agents}
        self.registry = ConnectorRegistry(self.lines, connectors)
        self.webhook_sender = WebhookSender(allow_private=settings.allow_private_webhooks,
                                            connections=settings.delivery_concurrency,
                                            timeout_s=settings.webhook_timeout_ms / 1000)
        self.webhook_directory = WebhookDirectory()
        self.delivery = DeliveryWorker(
            self.writer, self.webhook_sender, SystemClock(),
            lease_ms=settings.delivery_lease_ms, concurrency=settings.delivery_concurrency,
            sweep_ms=settings.sweep_interval_ms,
            schedule=settings.webhook_retry_schedule or RETRY_SCHEDULE_S,
            on_gone=lambda: self.webhook_directory.forget_all(),
            secret_box=self.secret_box,
        )
        self.writer.listen(notifications.DELIVERIES, self.delivery.wake)
        self.outbox = Outbox(self.webhook_directory)
        self.webhook_targets = WebhookTargets(allow_private=settings.allow_private_webhooks)
        self.webhooks = WebhookConfig(self.database, self.writer, self.webhook_directory,
                                      self.webhook_targets, self.secret_box)
        self.delivery_log = DeliveryLog(self.database, self.writer)
        self.contacts_book = ContactBook(self.database, self.outbox)
        self.read_receipts = ReadReceipts(self.database, self.writer, self.lines, self.registry)
        self.typing = TypingIndicators(self.database, self.lines, self.registry)
        self.reports = NetworkReports(self.outbox, self.contacts_book, self.lines,
                                      self.read_receipts)
        self.sink = NetworkSink(self.writer, self.reports)
        self.dispatcher = Dispatcher(
            self.writer, self.registry, self.sink, lease_ms=settings.dispatch_lease_ms,
            batch=settings.dispatch_batch, sweep_ms=settings.sweep_interval_ms,
        )
        self.writer.listen(notifications.MESSAGES, self.dispatcher.wake)
        self.agents.on_online = self.dispatcher.lines_connected
        # Reactions are queued rows, handed over by their own claim loop (services/reactions.py).
        self.reaction_dispatcher = ReactionDispatcher(
            self.writer, self.registry, lease_ms=settings.dispatch_lease_ms,
            batch=settings.dispatch_batch, sweep_ms=settings.sweep_interval_ms)
        self.reactions = ReactionService(self.database, self.writer, self.lines, self.registry,
                                         self.outbox)
        self.reactions.on_queued = self.reaction_dispatcher.wake
        self.media = build_media(settings, self.database, self.writer)
        self.new_contacts = NewContacts(
            self.database, self.lines,
            NewContactLimits(settings.new_contacts_per_hour, settings.new_contacts_per_day,
                             settings.new_contact_lookback_days),
            on_sandbox=settings.sandbox_new_contact_limits)
        self.messaging = MessagingService(self.database, self.writer, self.lines, self.outbox,
                                          self.contacts_book, self.webhook_targets,
                                          media=self.media, new_contacts=self.new_contacts,
                                          registry=self.registry)
        self.groups = GroupService(self.database, self.writer, self.lines, self.outbox,
                                   self.contacts_book, self.webhook_targets,
                                   media=self.media, registry=self.registry)
        self.idempotency = IdempotencyKeys(self.database, self.writer)
        self.follow_ups = FollowUpService(self.database, self.writer, self.lines, self.outbox,
                                          self.contacts_book, media=self.media)
        self.reports.follow_ups = self.follow_ups.endings
        self.messaging.follow_ups = self.groups.follow_ups = self.follow_ups
        self.verify = VerifyService(self.database, self.writer, self.lines, self.outbox,
                                    self.contacts_book)
        self.reports.verify = self.verify
        self.reports.groups = self.groups
        self.totp = TotpService(self.database, self.writer, self.secret_box)
        self.follow_up_worker = FollowUpWorker(self.writer, self.follow_ups,
                                               lease_ms=_FOLLOW_UP_LEASE_MS,
                                               sweep_ms=settings.sweep_interval_ms)
        self.lookup = LookupService(self.lines, self.registry)
        self.console_sessions = ConsoleSessions(
            self.database, self.writer, idle_ms=settings.console_idle_minutes * 60_000)
        self.contacts = ContactService(self.database, self.writer, self.contacts_book,
                                       self.lines)
        self._tasks: list[asyncio.Task[Any]] = []
        # Operations (README "Operations"): what /readyz and /metrics watch and count.
        self.claim_loops = {"dispatcher": self.dispatcher, "delivery": self.delivery,
                            "follow-ups": self.follow_up_worker,
                            "reactions": self.reaction_dispatcher}
        self.metrics = Metrics(self.database, self.claim_loops,
                               Path(settings.metrics_dir) if settings.metrics_dir else None)
        self.delivery.on_delivered = self.metrics.webhook_delivered

    def prepare(self) -> None:
        """Migrate the schema (before the server starts, and before any management command);
        seal any webhook secret still stored in clear, and make sure the key opens those
        sealed already (a process with another key would sign with nothing it could open)."""
        self.database.migrate(self.secret_box)
        with self.database.engine.begin() as conn:
            # The key is checked first: a process with another key must not seal anything.
            sample = sealed_secrets.any_sealed(conn)
            if sample is not None:
                try:
                    self.secret_box.open(sample)
                except SecretKeyError as exc:
                    raise SystemExit(f"error: {exc}") from None
            try:
                sealed = sealed_secrets.seal_again(conn, self.secret_box)
            except SecretKeyError as exc:
                raise SystemExit(f"error: {exc}") from None
        if sealed:
            log.info("sealed %d secrets under the current BLUEWIRE_SECRET_KEY", sealed)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.writer.start(loop)
        if self.database.is_sqlite:
            # One process owns a SQLite file: any lease in it was held by a process now gone.
            expired = await self.writer.submit(message_store.expire_claims)
            if expired:
                log.info("resolving %d messages left in flight by the previous run", expired)
            expired = await self.writer.submit(delivery_store.expire_claims)
            if expired:
                log.info("retrying %d webhook deliveries left in flight by the previous run",
                         expired)
            await self.writer.submit(lease_store.expire_all)
            await self.writer.submit(follow_up_store.expire_claims)
            await self.writer.submit(sandbox_store.expire_all)
            await self.writer.submit(reaction_store.expire_claims)
        self.lines.refresh()
        for connector in self.registry.connectors.values():
            await connector.start(self.sink)
        self.leases.start()
        self._tasks.append(loop.create_task(self.dispatcher.run(), name="dispatcher"))
        self._tasks.append(loop.create_task(self.reaction_dispatcher.run(),
                                            name="reaction-dispatcher"))
        self._tasks.append(loop.create_task(self.feed.run(), name="event-feed"))
        self._tasks.append(loop.create_task(self.lines.run(), name="lines"))
        self._tasks.append(loop.create_task(self.agent_questions.run(), name="agent-questions"))
        self._tasks.append(loop.create_task(self.idempotency.run(), name="idempotency-keys"))
        await self.webhook_sender.start()
        await self.media.start()
        self._tasks.append(loop.create_task(self.delivery.run(), name="delivery"))
        self._tasks.append(loop.create_task(self.follow_up_worker.run(), name="follow-ups"))
        if self.metrics.shared is not None:
            self._tasks.append(loop.create_task(self.metrics.shared.run(), name="metrics"))
        if self.listener is not None:
            self.listener.start()

    async def stop(self) -> None:
        """Finish or hand back in-flight work, then close the store."""
        self.feed.close()  # open event streams end now rather than hold the shutdown up
        if self.listener is not None:
            await self.listener.stop()
        await self.dispatcher.stop()
        await self.reaction_dispatcher.stop()
        await self.follow_up_worker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.agent_questions.stop()
        for connector in self.registry.connectors.values():
            await connector.stop()
        await self.leases.stop()
        await asyncio.sleep(0)  # let reports scheduled by the connectors' stop reach the sink
        await self.sink.drain()
        await self.read_receipts.drain()
        await self.delivery.stop()
        if self.metrics.shared is not None:
            await self.metrics.shared.publish()  # the last counts of this worker
        await self.webhook_sender.stop()
        await self.media.stop()
        self.writer.stop()
        self.authenticator.close()
        self.database.dispose()

    def asgi(self) -> App:
        router = build_router(self.messaging, self.lookup, self.idempotency)
        register_webhook_routes(router, self.webhooks)
        register_delivery_routes(router, self.delivery_log)
        register_contact_routes(router, self.contacts)
        register_group_routes(router, self.groups, self.idempotency)
        register_reaction_routes(router, self.reactions, self.idempotency)
        register_follow_up_routes(router, self.follow_ups)
        register_verify_routes(router, self.verify, self.totp)
        sandbox_phones = SandboxPhones(self.sandbox, self.lines, self.database,
                                       self.sink.drain, media=self.media)
        register_sandbox_routes(router, sandbox_phones)
        register_sandbox_group_routes(router, sandbox_phones, self.database, self.sink.together)
        register_media_routes(router, self.media,
                              max_parts=self.settings.max_multipart_parts)
        register_conversation_routes(router, self.read_receipts, self.typing)
        register_bluebubbles_routes(router, self.bluebubbles)
        router.endpoint(STREAM_EVENTS, event_stream_handler(
            self.feed, heartbeat_ms=self.settings.sse_heartbeat_ms,
            max_seconds=self.settings.sse_max_seconds))
        register_ops_routes(router, Readiness(self.database, self.claim_loops,
                                              stall_ms=self.settings.ready_stall_ms,
                                              storage=self.writer),
                            self.metrics)
        register_line_state_routes(router, self.lines, self.registry)
        register_line_usage_routes(router, self.new_contacts)
        register_account_overview_routes(router, self.lines)
        register_sandbox_line_routes(router, SandboxLines(
            self.database, self.writer, self.lines,
            per_account=self.settings.sandbox_lines_per_account),
            self.settings.public_url or DEFAULT_PUBLIC_URL)
        register_unserved_routes(router)
        analytics = Analytics(self.database, self.writer)
        register_analytics_routes(router, analytics)
        # Made at the first request, when every route is in; /docs reads the same document.
        document = register_openapi_route(router)
        register_docs_routes(router, lambda: document.document)
        app = App(router, self._authenticate, max_body_bytes=self.settings.max_body_bytes,
                  on_startup=self.start, on_shutdown=self.stop,
                  observe=self.metrics.http_request, explain=unavailable_error)
        app.websockets[AGENT_PATH] = self.agents.handle
        register_home_route(router, CONSOLE_PATH)
        app.mount(CONSOLE_PATH, build_console(ConsoleServices(
            settings=self.settings, sessions=self.console_sessions,
            authenticator=self.authenticator, accounts=self.accounts, lines=self.lines,
            registry=self.registry, messaging=self.messaging, groups=self.groups,
            lookup=self.lookup, contacts=self.contacts, webhooks=self.webhooks,
            delivery_log=self.delivery_log, read_receipts=self.read_receipts,
            typing=self.typing, sandbox_phones=sandbox_phones, media=self.media,
            feed=self.feed,
            conversations=ConversationService(self.database, self.lines),
            analytics=analytics, follow_ups=self.follow_ups),
            explain=unavailable_error))
        return app

    async def _authenticate(self, request: Request) -> Any:
        return await self.authenticator.authenticate(
            request.header("sb-api-key-id") or request.header("x-sb-api-key-id"),
            request.header("sb-api-secret-key") or request.header("x-sb-api-secret-key"),
            request.client,
        )
