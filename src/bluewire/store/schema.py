"""The tables. Times are integer milliseconds since the epoch (UTC): portable and sortable.

Every table carries `account_id` where it belongs to an account, so accounts shard naturally.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
    true,
)

metadata = MetaData()

# The ids of the tables that grow with traffic: 64-bit (SQLite's INTEGER keys already are).
BigId = BigInteger().with_variant(Integer, "sqlite")
# A sealed secret (store/secret_box.py) outgrows 256 characters: TEXT on PostgreSQL; SQLite
# keeps the original VARCHAR(256), whose length it never enforces.
SealedSecret = Text().with_variant(String(256), "sqlite")

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("plan", String(32), nullable=False, server_default="blue"),
    Column("created_at", BigInteger, nullable=False),
    # The account's globalSecret, sealed (store/secret_box.py); never shown once set.
    Column("webhook_secret", SealedSecret),
    # Whether webhooks carry their secret in `sb-signing-secret` (Sendblue's scheme) besides
    # the Standard Webhooks signature; an endpoint can turn it off for itself too.
    Column("send_secret_header", Boolean, nullable=False, server_default=true()),
    # Send a read receipt for every 1:1 iMessage inbound (Sendblue's auto mark-read).
    Column("auto_mark_read", Boolean, nullable=False, server_default=false()),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("key_id", String(128), nullable=False, unique=True),
    Column("secret_hash", String(256), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

lines = Table(
    "lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("connector", String(32), nullable=False),
    Column("shared", Boolean, nullable=False, server_default=false()),
    # Sends per second allowed on this line; NULL means the connector's default.
    Column("rate_limit", Float),
    Column("created_at", BigInteger, nullable=False),
    Column("settings", Text),  # JSON object: what its connector needs (a server's URL, ...)
)

line_accounts = Table(
    "line_accounts",
    metadata,
    Column("line_id", Integer, ForeignKey("lines.id"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("handle", String(64), nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id")),  # NULL: inbound not routed
    Column("is_outbound", Boolean, nullable=False),
    Column("line", String(32), nullable=False),  # our number
    Column("number", String(32), nullable=False),  # the end user's number
    Column("content", Text),
    Column("media_url", Text),
    Column("send_style", String(32)),
    Column("status_callback", Text),
    Column("message_type", String(16), nullable=False, server_default="message"),
    Column("status", String(16), nullable=False),
    Column("service", String(16)),
    Column("was_downgraded", Boolean),
    Column("error_code", Integer),
    Column("error_message", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger),
    Column("delivered_at", BigInteger),
    Column("read_at", BigInteger),
    # When the dispatcher must next look at the message: 0 for a new one (due now), the end of
    # its lease while a worker handles it, NULL once it is terminal and needs no more work.
    Column("claimed_until", BigInteger),
    Column("dispatch_attempts", Integer, nullable=False, server_default=text("0")),
    # For a message a follow-up sent: the handle of the message it followed up (follow_ups).
    Column("follow_up_of", String(64)),
    Column("group_id", String(48)),  # chat_groups.group_id, for a message to or from a group
    Column("participants", Text),  # JSON list: the group's members when the message was sent
    # What the sender filed an outbound under (send-message's `campaign` and `tags`); the tags
    # are kept here, as a JSON list, for the message's answers and payloads, and once per tag
    # in message_tags, for filtering and grouping by tag.
    Column("campaign", String(100)),
    Column("tags", Text),
    # When the contact first wrote back in the conversation (1:1) within 24 hours after this
    # outbound: set in the transaction that stores their message, for the analytics' replies.
    Column("replied_at", BigInteger),
    # An inline reply: the handle of the message it answers (same conversation), and its part.
    Column("reply_to", String(64)),
    Column("reply_to_part", Integer),
    # By creation time: ix_messages_outcomes, which begins (account_id, created_at).
    Index("ix_messages_account_updated", "account_id", "updated_at"),
    # A conversation's messages, in order (store/conversations.py); also by number alone.
    Index("ix_messages_conversation", "account_id", "number", "line", "group_id", "id"),
    # Every query names a group: 1:1 messages are left out.
    Index("ix_messages_group", "group_id", "id", sqlite_where=text("group_id IS NOT NULL"),
          postgresql_where=text("group_id IS NOT NULL")),
    Index(
        "ix_messages_due",
        "claimed_until",
        "id",
        sqlite_where=text("claimed_until IS NOT NULL"),
        postgresql_where=text("claimed_until IS NOT NULL"),
    ),
)

# What the analytics read of a window of an account's messages, from the index alone: their
# scan never visits the (wide) message rows. A status change rewrites its entry.
Index("ix_messages_outcomes", messages.c.account_id, messages.c.created_at,
      messages.c.is_outbound, messages.c.status, messages.c.service, messages.c.sent_at,
      messages.c.delivered_at, messages.c.read_at, messages.c.replied_at, messages.c.campaign,
      messages.c.line, messages.c.number, messages.c.id)

# A campaign's outbound in order of creation: list filters and analytics by campaign.
Index("ix_messages_campaign", messages.c.account_id, messages.c.campaign, messages.c.created_at,
      sqlite_where=text("campaign IS NOT NULL"), postgresql_where=text("campaign IS NOT NULL"))

# One row per tag of a message (written with the message, in its transaction).
message_tags = Table(
    "message_tags",
    metadata,
    Column("message_id", BigId, ForeignKey("messages.id"), primary_key=True),
    Column("tag", String(50), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),  # the message's
    Index("ix_message_tags_tag", "account_id", "tag", "created_at", "message_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True),
    # The id the world sees: the stream's event id and every webhook's `webhook-id`.
    Column("public_id", String(48), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id")),
    Column("type", String(64), nullable=False),
    Column("occurred_at", BigInteger, nullable=False),
    Column("message_handle", String(64)),
    Column("data", Text, nullable=False),  # JSON
    # Only what is read: the feed reads by id (the primary key), replay by account and time.
    # The public id is a UUIDv7 (74 random bits) and is never looked up, so it has no index.
    Index("ix_events_account_occurred", "account_id", "occurred_at"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", SealedSecret),  # sealed (store/secret_box.py)
    Column("send_secret_header", Boolean, nullable=False, server_default=true()),
    Column("lines", Text),  # JSON list of line numbers (sendblue_numbers); NULL: every line
    Column("position", Integer, nullable=False),  # order within its type, as configured
    Column("created_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger),
    Column("disabled_reason", Text),
    Index("ix_webhook_endpoints_account", "account_id", "type", "position"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("event_id", String(48), nullable=False),  # events.public_id: the webhook-id
    Column("event_type", String(64), nullable=False),
    Column("endpoint_id", Integer, ForeignKey("webhook_endpoints.id")),  # NULL: status_callback
    Column("url", Text, nullable=False),
    # No longer written (0010 cleared the copies it held): `signer` names the secret instead.
    Column("secret", String(256)),
    # Whose secret signs each attempt, looked up when it is made (so a rotated secret signs
    # the next one): "endpoint" (the endpoint's own, else the account's global secret),
    # "account" (the global secret: a status_callback), NULL (unsigned).
    Column("signer", String(16)),
    Column("message_handle", String(64)),
    Column("payload", Text, nullable=False),  # the JSON body, exactly as sent on every attempt
    # pending → delivered | failed (retries exhausted, or 410) | cancelled (endpoint gone)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", BigInteger),
    Column("claimed_until", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("last_attempt_at", BigInteger),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("delivered_at", BigInteger),
    Index("ix_deliveries_due", "next_attempt_at", "id",
          sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
    Index("ix_deliveries_account", "account_id", "id"),
    Index("ix_deliveries_message", "message_handle", "url", "id"),
    # A status callback's delivery has no endpoint: it is left out, and its inserts write one
    # index page fewer.
    Index("ix_deliveries_endpoint", "endpoint_id", "id",
          sqlite_where=text("endpoint_id IS NOT NULL"),
          postgresql_where=text("endpoint_id IS NOT NULL")),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("delivery_id", BigId, ForeignKey("deliveries.id"), nullable=False),
    Column("attempted_at", BigInteger, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("latency_ms", Float, nullable=False),
    Column("response", Text),  # the first 1 KB of the reply
    Index("ix_delivery_attempts_delivery", "delivery_id", "id"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("contact_id", String(48), nullable=False),  # the immutable id the API shows
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("company_name", Text),
    Column("assigned_to_email", Text),
    Column("sendblue_number", String(32)),  # the line this contact is assigned to
    Column("custom_variables", Text),  # JSON object of strings
    Column("tags", Text),  # JSON list of strings
    Column("opted_out", Boolean, nullable=False, server_default=false()),
    Column("verified", Boolean, nullable=False, server_default=false()),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ux_contacts_account_number", "account_id", "number", unique=True),
    Index("ux_contacts_contact_id", "contact_id", unique=True),
    Index("ix_contacts_number", "number"),
    Index("ix_contacts_account_created", "account_id", "created_at"),
)

read_receipts = Table(
    "read_receipts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("line", String(32), nullable=False),
    Column("number", String(32), nullable=False),
    Column("mode", String(8), nullable=False),  # manual | auto
    Column("message_handle", String(64)),  # the inbound that an automatic receipt answered
    Column("sent_at", BigInteger, nullable=False),
    Index("ix_read_receipts_conversation", "account_id", "line", "number", "id"),
)

chat_groups = Table(
    "chat_groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", String(48), nullable=False),  # the id the API shows
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("line", String(32), nullable=False),
    Column("display_name", Text),
    Column("created_at", BigInteger, nullable=False),
    # Its photo: its guid (the id of the media object kept of it) and the URL it is downloaded
    # from; both null when it has none.
    Column("photo_guid", String(64)),
    Column("photo_url", Text),
    Index("ux_chat_groups_group_id", "group_id", unique=True),
    Index("ix_chat_groups_account", "account_id", "id"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_pk", Integer, ForeignKey("chat_groups.id"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("added_at", BigInteger, nullable=False),
    Column("removed_at", BigInteger),  # NULL while a member
    Index("ix_group_members_group", "group_pk", "number"),
)

# One row per participant of a group message: when it reached them, when they read it.
message_receipts = Table(
    "message_receipts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("message_id", BigId, ForeignKey("messages.id"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("delivered_at", BigInteger),
    Column("read_at", BigInteger),
    Column("replied_at", BigInteger),  # they wrote in the group within 24 hours after it
    Index("ux_message_receipts_member", "message_id", "number", unique=True),
)

# The analytics rollup (store/analytics_rollup.py): what the outbound messages of a closed
# hour or UTC day count, by line, campaign and service ('' for none, NULL for all of them) and
# tag ('' for all of them, NULL for the messages without one), with histograms (JSON: bin ->
# count) of the times to deliver and to read. analytics_spans says which spans are summed (a span
# without messages has no rollup rows); analytics_dirty, which hours changed since.
analytics_rollup = Table(
    "analytics_rollup",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("span_start", BigInteger, nullable=False),
    Column("span_ms", BigInteger, nullable=False),
    Column("line", String(32)),
    Column("campaign", String(100)),
    Column("service", String(16)),
    Column("tag", String(50)),
    Column("messages", BigInteger, nullable=False),
    Column("recipients", BigInteger, nullable=False),
    Column("sent", BigInteger, nullable=False),
    Column("delivered", BigInteger, nullable=False),
    Column("read", BigInteger, nullable=False),
    Column("errored", BigInteger, nullable=False),
    Column("final_at_sent", BigInteger, nullable=False),
    Column("replied", BigInteger, nullable=False),
    Column("to_deliver", Text, nullable=False),
    Column("to_read", Text, nullable=False),
    Index("ix_analytics_rollup_span", "account_id", "span_ms", "span_start", "tag", "campaign",
          "service", "line"),
)

analytics_spans = Table(
    "analytics_spans",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("span_ms", BigInteger, primary_key=True),
    Column("span_start", BigInteger, primary_key=True),
    Column("computed_at", BigInteger, nullable=False),
)

analytics_dirty = Table(
    "analytics_dirty",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("hour_start", BigInteger, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

media_objects = Table(
    "media_objects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("media_id", String(48), nullable=False),  # mediaObjectId, and the download path
    Column("account_id", Integer, ForeignKey("accounts.id")),
    Column("source_url", Text),  # where it was fetched from, if it was
    Column("filename", Text, nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", Text, nullable=False),  # where the media store keeps the bytes
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),  # NULL: kept; else downloads answer 410 after it
    Index("ux_media_objects_media_id", "media_id", unique=True),
    Index("ix_media_objects_account", "account_id", "id"),
)

agent_tokens = Table(
    "agent_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_id", String(64), nullable=False, unique=True),
    Column("secret_hash", String(256), nullable=False),
    Column("lines", Text, nullable=False),  # JSON list of the E.164 numbers it serves
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

connector_leases = Table(
    "connector_leases",
    metadata,
    Column("name", String(128), primary_key=True),  # what is owned, e.g. "line:+14155550123"
    Column("owner", String(128), nullable=False),  # the process holding it
    Column("expires_at", BigInteger, nullable=False),
    Column("acquired_at", BigInteger, nullable=False),
)

line_questions = Table(
    "line_questions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("line", String(32), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # "lookup"
    Column("body", Text, nullable=False),  # JSON object: what is asked
    Column("answer", Text),  # JSON object, once the process serving the line answered
    Column("asked_at", BigInteger, nullable=False),
    Column("answered_at", BigInteger),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    # sha256 of the session cookie's token, hex: the token itself is never stored.
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("key_id", String(128), nullable=False),  # the API key signed in with
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False, index=True),
)

# The `Idempotency-Key` of each accepted send (domain/idempotency.py), written in the
# transaction that accepts its message, with the answer a repeat is given. Forgotten after 24
# hours (older rows are ignored, then deleted).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),  # SHA-256 hex of the canonical request
    Column("message_handle", String(64), nullable=False),  # the message the send created
    Column("status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),  # the answer's JSON body
    Column("created_at", BigInteger, nullable=False),
    Index("ux_idempotency_keys_account_key", "account_id", "idempotency_key", unique=True),
    Index("ix_idempotency_keys_created", "created_at"),
)

# Follow-ups (services/follow_ups.py): a durable, conditional action on an outbound message,
# due `after_ms` after the parent was sent, claimed with a lease (`claimed_until`) when due and
# ended exactly once: fired, skipped (`reason`) or cancelled. `result_handle`: the message a
# `send` action created. line, number and group_id are the parent's (its conversation).
_SCHEDULED = text("state = 'scheduled'")
follow_ups = Table(
    "follow_ups",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("public_id", String(40), nullable=False, unique=True),  # fu_…
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("message_id", BigId, ForeignKey("messages.id"), nullable=False),
    Column("message_handle", String(64), nullable=False),
    Column("line", String(32), nullable=False),
    Column("number", String(32), nullable=False),
    Column("group_id", String(48)),
    Column("condition", String(16), nullable=False),
    Column("after_ms", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("action", Text, nullable=False),  # JSON: {"send": {...}} or {"notify": {...}}
    Column("state", String(16), nullable=False),  # scheduled|fired|skipped|cancelled
    Column("reason", String(32)),
    Column("claimed_until", BigInteger),
    Column("result_handle", String(64)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_follow_ups_due", "due_at", "id", sqlite_where=_SCHEDULED,
          postgresql_where=_SCHEDULED),
    Index("ix_follow_ups_account", "account_id", "id"),
    Index("ix_follow_ups_message", "message_id", "state"),
    Index("ix_follow_ups_contact", "account_id", "line", "number", sqlite_where=_SCHEDULED,
          postgresql_where=_SCHEDULED),
)

# First contacts (services/new_contacts.py): each send to a contact that was not known on its
# line (no 1:1 message either way within the lookback), counted against the line's new-contact
# limits; written in the transaction that accepts the send.
first_contacts = Table(
    "first_contacts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("line", String(32), nullable=False),
    Column("number", String(32), nullable=False),
    Column("counted_at", BigInteger, nullable=False),
    Index("ix_first_contacts_line", "line", "counted_at"),
)

# The sandbox network (sandbox/network.py), shared by every process as a real network is:
# each message a simulated phone received, what the phone knows of it (`status`, `read_at`),
# and what the phone does next (`step` at `due_at`), leased (`claimed_until`) by the process
# that will do it; a lease that runs out (its process died) is claimed by another.
sandbox_received = Table(
    "sandbox_received",
    metadata,
    Column("handle", String(64), primary_key=True),
    Column("number", String(32), primary_key=True),
    Column("line", String(32), nullable=False),
    Column("group_id", String(48), nullable=True),
    Column("status", String(16), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("read_at", BigInteger, nullable=True),
    Column("step", String(16), nullable=True),
    Column("due_at", BigInteger, nullable=True),
    Column("claimed_until", BigInteger, nullable=True),
    # How many times the network was handed this message (more than 1: it was sent twice).
    Column("copies", Integer, nullable=False, server_default=text("1")),
    Index("ix_sandbox_received_phone", "number", "line", "received_at"),
    Index("ix_sandbox_received_due", "claimed_until", sqlite_where=text("step IS NOT NULL"),
          postgresql_where=text("step IS NOT NULL")),
)

# The last typing state each side of a sandbox conversation showed the other: `side` 'line'
# (what the line showed the phone) or 'phone' (the phone's own).
sandbox_typing = Table(
    "sandbox_typing",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("line", String(32), primary_key=True),
    Column("side", String(8), primary_key=True),
    Column("is_typing", Boolean, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)

# Verify (services/verify.py): a service holds the settings of its verifications; a
# verification is an inverted one-time code the phone `number` must text to `line`. The code
# is kept only as an HMAC under a per-row salt; `attempts` counts wrong codes the phone sent.
verify_services = Table(
    "verify_services",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("sid", String(40), nullable=False, unique=True),  # VA…
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("friendly_name", String(64), nullable=False),
    Column("code_length", Integer, nullable=False),
    Column("ttl_seconds", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("line", String(32)),  # the line codes are texted to; None: the account's first
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_verify_services_account", "account_id", "id"),
)

_PENDING = text("status = 'pending'")
verifications = Table(
    "verifications",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("sid", String(40), nullable=False, unique=True),  # VE…
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("service_id", BigId, ForeignKey("verify_services.id"), nullable=False),
    Column("line", String(32), nullable=False),
    Column("number", String(32), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("code_salt", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # pending|approved|expired|canceled
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("completed_at", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_verifications_account", "account_id", "updated_at", "id"),
    Index("ix_verifications_pending", "account_id", "line", "number", sqlite_where=_PENDING,
          postgresql_where=_PENDING),
)

# TOTP secrets (services/totp.py), sealed as webhook secrets are (store/secret_box.py).
totp_secrets = Table(
    "totp_secrets",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("public_id", String(40), nullable=False, unique=True),  # a UUID
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("label", String(256), nullable=False),
    Column("issuer", String(256)),
    Column("algorithm", String(8), nullable=False),
    Column("digits", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("secret", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_totp_secrets_account", "account_id", "id"),
)

# Tapbacks (services/reactions.py): ours, sent with POST /api/send-reaction and handed to the
# line's connector by the reaction dispatcher (`state` queued until it is, `due_at` its next
# try or the lease of the try under way), and the phones', as the network reports them.
reactions = Table(
    "reactions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("handle", String(64), nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("line", String(32), nullable=False),
    Column("number", String(32), nullable=False),  # the phone (of a group: the reacting one)
    Column("group_id", String(64)),
    Column("message_handle", String(64), nullable=False),  # the message reacted to
    Column("part_index", Integer, nullable=False),
    Column("reaction", String(16), nullable=False),  # love, like, … (never with a `-`)
    Column("removed", Boolean, nullable=False),
    Column("is_outbound", Boolean, nullable=False),
    Column("state", String(8), nullable=False),  # queued | sent | failed | received
    Column("due_at", BigInteger),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("error_message", Text),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_reactions_due", "state", "due_at"),
    Index("ix_reactions_conversation", "account_id", "line", "number", "id"),
    Index("ix_reactions_message", "message_handle"),
)

# The id a network gave one of our messages (a BlueBubbles server's message guid), learned from
# its send's answer or webhooks: the network names the message by it later (a delivery, a
# read, a tapback), possibly to another process or after a restart.
network_ids = Table(
    "network_ids",
    metadata,
    Column("line", String(32), primary_key=True),
    Column("network_id", String(64), primary_key=True),
    Column("handle", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_network_ids_handle", "handle"),
)
