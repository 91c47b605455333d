"""Settings, read once from the environment (BLUEWIRE_*). Every delay and limit lives here."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

# SQLite's page cache, per connection, and its memory map of the file. Without a map, a page not
# in a connection's cache is copied from the kernel's page cache; with one, every page touched
# counts in the server's RSS for as long as the file is mapped.
SQLITE_CACHE_MIB = 16
SQLITE_MMAP_MIB = 0


def _env(name: str, default: str) -> str:
    return os.environ.get(f"BLUEWIRE_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"BLUEWIRE_{name} must be a whole number, not {raw!r}") from None


def _env_positive(name: str, default: int) -> int:
    value = _env_int(name, default)
    if value <= 0:
        raise SystemExit(f"BLUEWIRE_{name} must be more than 0, not {value}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").strip().lower() in ("1", "true", "yes", "on")


def _env_schedule(name: str) -> tuple[float, ...] | None:
    raw = os.environ.get(f"BLUEWIRE_{name}", "").strip()
    if not raw:
        return None
    try:
        schedule = tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise SystemExit(f"BLUEWIRE_{name} must be comma-separated seconds, not {raw!r}") from None
    if any(seconds < 0 for seconds in schedule):
        raise SystemExit(f"BLUEWIRE_{name} cannot hold negative delays")
    return schedule


def _media_ttl_ms(default: int) -> int:
    """BLUEWIRE_MEDIA_TTL_MS, else BLUEWIRE_MEDIA_TTL_DAYS, else `default`."""
    if os.environ.get("BLUEWIRE_MEDIA_TTL_MS"):
        return _env_int("MEDIA_TTL_MS", default)
    return _env_int("MEDIA_TTL_DAYS", default // 86_400_000) * 86_400_000


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///bluewire.db"
    # The first key pair is exactly these when set (for automation); random otherwise.
    api_key_id: str | None = None
    api_secret_key: str | None = None
    bootstrap_email: str = "admin@bluewire.local"
    # The key webhook signing secrets are encrypted with at rest (store/secret_box.py). Unset:
    # generated on first start into `bluewire-secret.key` next to a SQLite database (or in the
    # working folder) and reused; several processes on one PostgreSQL database must share it.
    secret_key: str | None = None
    # Keys being rotated away from: they still open what they sealed, which the next start
    # seals again under `secret_key`.
    secret_key_previous: tuple[str, ...] = ()

    sandbox_line: str = "+14155550199"
    sandbox_deliver_ms: int = 300
    sandbox_read_ms: int = 1500
    sandbox_slow_read_ms: int = 60_000
    # How many sandbox lines of its own an account may add (POST /v3/sandboxes).
    sandbox_lines_per_account: int = 5

    # A claimed message whose connector has not reported within this long is resolved:
    # asked of the connector, or failed with 10002.
    dispatch_lease_ms: int = 30_000
    dispatch_batch: int = 256
    sweep_interval_ms: int = 500
    # A Mac's agent is served by the one process holding its lines' leases; a process that dies
    # holding them is taken over once this long has passed (renewed every third of it).
    agent_lease_ms: int = 15_000

    # Sends per second per line on real networks (Sendblue's burst); sandbox lines: unlimited.
    line_rate_limit: float = 10.0
    # First contacts a line may make (sends to contacts it has not exchanged a message with in
    # the lookback): per rolling hour, per day (resetting at 3 AM New York time). Real networks
    # only, unless sandbox_new_contact_limits (to rehearse them).
    new_contacts_per_hour: int = 15
    new_contacts_per_day: int = 50
    new_contact_lookback_days: float = 30.0
    sandbox_new_contact_limits: bool = False

    # Webhooks to private, loopback and link-local addresses (local development, tests).
    allow_private_webhooks: bool = False
    # Seconds between attempts; about two days by default (see domain/webhooks.py).
    webhook_retry_schedule: tuple[float, ...] | None = None
    delivery_concurrency: int = 128
    delivery_lease_ms: int = 60_000
    webhook_timeout_ms: int = 15_000  # a 2xx within this long is a success

    max_body_bytes: int = 1024 * 1024
    # Failed authentications a minute, per client address and per key id, before a new secret
    # is answered 429 without being checked.
    auth_failures_per_minute: int = 10
    writer_batch: int = 1024
    sqlite_synchronous: str = "NORMAL"
    sqlite_cache_mib: int = SQLITE_CACHE_MIB
    sqlite_mmap_mib: int = SQLITE_MMAP_MIB
    # PostgreSQL: each process's connection pool (reads; the writer and the LISTEN connection
    # have one connection each besides), and its timeouts.
    db_pool_size: int = 8
    db_pool_overflow: int = 8
    db_pool_timeout_ms: int = 10_000
    db_connect_timeout_ms: int = 10_000
    db_statement_timeout_ms: int = 30_000
    log_level: str = "info"
    # Set by `serve --workers N` for its workers: where they share their metrics' counts.
    metrics_dir: str | None = None

    # The live event stream (GET /api/v2/events): a heartbeat comment after this long without an
    # event (the Python SDK's read timeout is 60 s), and a clean end after this long (rotation).
    sse_heartbeat_ms: int = 15_000
    sse_max_seconds: int = 900

    # Media (README "Media"): a local folder (default: `bluewire-media/` next to a SQLite
    # database), or an S3-compatible bucket when media_s3_bucket is set.
    media_dir: str | None = None
    media_s3_bucket: str | None = None
    media_s3_endpoint: str | None = None  # e.g. http://127.0.0.1:9000 (MinIO); None: AWS
    media_s3_access_key_id: str | None = None
    media_s3_secret_access_key: str | None = None
    media_s3_region: str | None = None
    media_s3_prefix: str = ""
    media_fetch: bool = True  # fetch and keep a copy of media URLs (off: pass them on as given)
    media_ttl_ms: int = 30 * 86_400_000  # inbound media links answer 410 after this
    media_fetch_timeout_ms: int = 20_000  # fetching a media_url, whole
    # Base URL of this server in the media links it hands out; default http://<host>:<port>.
    public_url: str | None = None

    # Operations (README "Operations"): /readyz fails when a claim loop has made no progress
    # for this long; logs are `text` or `json` (None: text on a terminal, JSON otherwise).
    ready_stall_ms: int = 30_000
    log_format: str | None = None

    # The web console (README "Console"): a session unused for this long is signed out.
    console_idle_minutes: int = 60

    # Slow, idle or bloated clients (cli/http_limits.py): a request head must be whole within
    # header_timeout_ms of its first byte, a connection idle between requests is closed after
    # keep_alive_timeout_ms, a body may pause at most body_timeout_ms; heads are bounded in bytes
    # and fields, open connections per process in number, multipart uploads in parts.
    header_timeout_ms: int = 10_000
    keep_alive_timeout_ms: int = 5_000
    body_timeout_ms: int = 30_000
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    max_connections: int = 1000
    max_multipart_parts: int = 100

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        d = cls()  # the defaults
        values: dict[str, object] = {
            "database_url": _env("DATABASE_URL", d.database_url),
            "api_key_id": os.environ.get("BLUEWIRE_API_KEY_ID") or None,
            "api_secret_key": os.environ.get("BLUEWIRE_API_SECRET_KEY") or None,
            "bootstrap_email": _env("BOOTSTRAP_EMAIL", d.bootstrap_email),
            "secret_key": os.environ.get("BLUEWIRE_SECRET_KEY") or None,
            "secret_key_previous": tuple(
                os.environ.get("BLUEWIRE_SECRET_KEY_PREVIOUS", "").replace(",", " ").split()),
            "sandbox_line": _env("SANDBOX_LINE", d.sandbox_line),
            "sandbox_deliver_ms": _env_int("SANDBOX_DELIVER_MS", d.sandbox_deliver_ms),
            "sandbox_read_ms": _env_int("SANDBOX_READ_MS", d.sandbox_read_ms),
            "sandbox_slow_read_ms": _env_int("SANDBOX_SLOW_READ_MS", d.sandbox_slow_read_ms),
            "sandbox_lines_per_account": _env_int("SANDBOX_LINES_PER_ACCOUNT",
                                                  d.sandbox_lines_per_account),
            "dispatch_lease_ms": _env_int("DISPATCH_LEASE_MS", d.dispatch_lease_ms),
            "dispatch_batch": _env_int("DISPATCH_BATCH", d.dispatch_batch),
            "sweep_interval_ms": _env_int("SWEEP_INTERVAL_MS", d.sweep_interval_ms),
            "agent_lease_ms": max(1000, _env_int("AGENT_LEASE_MS", d.agent_lease_ms)),
            "metrics_dir": os.environ.get("BLUEWIRE_METRICS_DIR") or None,
            "line_rate_limit": float(_env("LINE_RATE_LIMIT", str(d.line_rate_limit))),
            "new_contacts_per_hour": max(0, _env_int("NEW_CONTACTS_PER_HOUR",
                                                     d.new_contacts_per_hour)),
            "new_contacts_per_day": max(0, _env_int("NEW_CONTACTS_PER_DAY",
                                                    d.new_contacts_per_day)),
            "new_contact_lookback_days": max(0.0, float(_env(
                "NEW_CONTACT_LOOKBACK_DAYS", str(d.new_contact_lookback_days)))),
            "sandbox_new_contact_limits": _env_bool("SANDBOX_NEW_CONTACT_LIMITS",
                                                    d.sandbox_new_contact_limits),
            "allow_private_webhooks": _env_bool("ALLOW_PRIVATE_WEBHOOKS",
                                                d.allow_private_webhooks),
            "webhook_retry_schedule": _env_schedule("WEBHOOK_RETRY_SCHEDULE"),
            "delivery_concurrency": _env_int("DELIVERY_CONCURRENCY", d.delivery_concurrency),
            "delivery_lease_ms": _env_int("DELIVERY_LEASE_MS", d.delivery_lease_ms),
            "webhook_timeout_ms": _env_int("WEBHOOK_TIMEOUT_MS", d.webhook_timeout_ms),
            "max_body_bytes": _env_int("MAX_BODY_BYTES", d.max_body_bytes),
            "auth_failures_per_minute": _env_int("AUTH_FAILURES_PER_MINUTE",
                                                 d.auth_failures_per_minute),
            "writer_batch": _env_int("WRITER_BATCH", d.writer_batch),
            "sqlite_synchronous": _env("SQLITE_SYNCHRONOUS", d.sqlite_synchronous).upper(),
            "sqlite_cache_mib": _env_int("SQLITE_CACHE_MIB", d.sqlite_cache_mib),
            "sqlite_mmap_mib": _env_int("SQLITE_MMAP_MIB", d.sqlite_mmap_mib),
            "db_pool_size": _env_int("DB_POOL_SIZE", d.db_pool_size),
            "db_pool_overflow": _env_int("DB_POOL_OVERFLOW", d.db_pool_overflow),
            "db_pool_timeout_ms": _env_int("DB_POOL_TIMEOUT_MS", d.db_pool_timeout_ms),
            "db_connect_timeout_ms": _env_int("DB_CONNECT_TIMEOUT_MS", d.db_connect_timeout_ms),
            "db_statement_timeout_ms": _env_int("DB_STATEMENT_TIMEOUT_MS",
                                                d.db_statement_timeout_ms),
            "log_level": _env("LOG_LEVEL", d.log_level),
            "sse_heartbeat_ms": _env_int("SSE_HEARTBEAT_MS", d.sse_heartbeat_ms),
            "sse_max_seconds": _env_int("SSE_MAX_SECONDS", d.sse_max_seconds),
            "media_dir": os.environ.get("BLUEWIRE_MEDIA_DIR") or None,
            "media_s3_bucket": os.environ.get("BLUEWIRE_MEDIA_S3_BUCKET") or None,
            "media_s3_endpoint": os.environ.get("BLUEWIRE_MEDIA_S3_ENDPOINT") or None,
            "media_s3_access_key_id": os.environ.get("BLUEWIRE_MEDIA_S3_ACCESS_KEY_ID") or None,
            "media_s3_secret_access_key":
                os.environ.get("BLUEWIRE_MEDIA_S3_SECRET_ACCESS_KEY") or None,
            "media_s3_region": os.environ.get("BLUEWIRE_MEDIA_S3_REGION") or None,
            "media_s3_prefix": _env("MEDIA_S3_PREFIX", d.media_s3_prefix),
            "media_fetch": _env_bool("MEDIA_FETCH", d.media_fetch),
            "media_ttl_ms": _media_ttl_ms(d.media_ttl_ms),
            "media_fetch_timeout_ms": _env_int("MEDIA_FETCH_TIMEOUT_MS",
                                               d.media_fetch_timeout_ms),
            "public_url": os.environ.get("BLUEWIRE_PUBLIC_URL") or None,
            "ready_stall_ms": _env_int("READY_STALL_MS", d.ready_stall_ms),
            "log_format": os.environ.get("BLUEWIRE_LOG_FORMAT") or None,
            "console_idle_minutes": _env_positive("CONSOLE_IDLE_MINUTES",
                                                  d.console_idle_minutes),
            "header_timeout_ms": _env_positive("HEADER_TIMEOUT_MS", d.header_timeout_ms),
            "keep_alive_timeout_ms": _env_positive("KEEP_ALIVE_TIMEOUT_MS",
                                                   d.keep_alive_timeout_ms),
            "body_timeout_ms": _env_positive("BODY_TIMEOUT_MS", d.body_timeout_ms),
            "max_header_bytes": _env_positive("MAX_HEADER_BYTES", d.max_header_bytes),
            "max_headers": _env_positive("MAX_HEADERS", d.max_headers),
            "max_connections": _env_positive("MAX_CONNECTIONS", d.max_connections),
            "max_multipart_parts": _env_positive("MAX_MULTIPART_PARTS", d.max_multipart_parts),
        }
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
