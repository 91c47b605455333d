"""`bluewire`: run the server, manage accounts, keys and lines, and use the API.

This module and the command modules it loads import only typer and rich: the server, the store
(SQLAlchemy) and the services are imported inside the commands that use them, so a command that
only talks HTTP starts fast (tests/integration/test_cli_operator.py keeps SQLAlchemy out).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.panel import Panel

from .agent import agent_commands
from .client import client_app
from .events import events_command
from .flags import Typer
from .follow_ups import follow_ups_commands
from .groups import group_app
from .inbound import inbound_command
from .manage import manage_commands
from .sandbox import sandbox_commands
from .stats import stats_command
from .webhooks import webhooks_commands

if TYPE_CHECKING:
    from ..services.accounts import Bootstrap

app = Typer(help="bluewire: a self-hosted iMessage and SMS messaging API.",
            no_args_is_help=True, add_completion=False)
manage_commands(app)
agent_commands(app)
client_app(app)
group_app(app)
events_command(app)
inbound_command(app)
sandbox_commands(app)
webhooks_commands(app)
stats_command(app)
follow_ups_commands(app)

console = Console()
err = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    dev: Annotated[bool, typer.Option(
        help="Local development: webhooks may go to private and loopback addresses.",
    )] = False,
    workers: Annotated[int, typer.Option(
        min=1, help="Server processes sharing the port (PostgreSQL only).",
    )] = 1,
    worker: Annotated[bool, typer.Option(hidden=True)] = False,  # one of --workers N
) -> None:
    """Run the gateway: migrate the store, create the first account on first start, serve."""
    import dataclasses
    import gc

    from ..config import Settings
    from .http_limits import HttpLimits, bounded_protocol, within_open_files
    from .uvicorn_runner import run_uvicorn
    from .workers import Supervisor, reuse_port_socket, worker_command

    settings = Settings.from_env(**({"allow_private_webhooks": True} if dev else {}))
    if settings.public_url is None:  # media links point here unless BLUEWIRE_PUBLIC_URL says
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        shown_host = f"[{shown_host}]" if ":" in shown_host else shown_host
        settings = dataclasses.replace(settings, public_url=f"http://{shown_host}:{port}")
    from ..observability.logs import configure_logging

    log_config = configure_logging(settings.log_format, settings.log_level)
    from ..app import Gateway

    try:
        gateway = Gateway(settings)
    except ValueError as exc:  # a store setting it refuses: the URL, SQLite's options
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if workers > 1 and gateway.database.is_sqlite:
        err.print("--workers needs PostgreSQL (BLUEWIRE_DATABASE_URL=postgresql://…): a SQLite "
                  "file is written by one process")
        raise typer.Exit(2)
    from ..store.server_lock import AlreadyServed, serve_alone

    try:  # one server per SQLite file: held for as long as this process lives
        _lock = serve_alone(gateway.database, f"bluewire serve on {host}:{port}")
    except AlreadyServed as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    gateway.prepare()
    if not worker:
        boot = gateway.accounts.bootstrap(settings.bootstrap_email, settings.sandbox_line,
                                          settings.api_key_id, settings.api_secret_key)
        if boot is not None:
            _print_welcome(boot, host, port, secret_given=settings.api_secret_key is not None,
                           database_url=settings.database_url)
    if workers > 1:
        gateway.database.dispose()
        raise typer.Exit(Supervisor(workers, worker_command(host, port, dev)).run())
    # What start-up allocated lives for good: the collector need not scan it again. Requests
    # make little cyclic garbage, so young collections can wait for more allocations.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    limits = HttpLimits(
        header_timeout=settings.header_timeout_ms / 1000,
        keep_alive_timeout=settings.keep_alive_timeout_ms / 1000,
        body_timeout=settings.body_timeout_ms / 1000,
        max_header_bytes=settings.max_header_bytes, max_headers=settings.max_headers,
        max_connections=within_open_files(settings.max_connections))
    run_uvicorn(gateway.asgi(), before_shutdown=gateway.feed.close,
                sockets=[reuse_port_socket(host, port)] if worker else None,
                host=host, port=port, loop="uvloop", http=bounded_protocol(limits),
                lifespan="on", access_log=False, log_level=settings.log_level.lower(),
                log_config=log_config,
                proxy_headers=False, server_header=False,
                timeout_graceful_shutdown=10)


def _print_welcome(boot: Bootstrap, host: str, port: int, *, secret_given: bool,
                   database_url: str) -> None:
    """The first start's banner. The secret is shown on a terminal only: elsewhere standard
    output is kept (a log), so the secret goes to an owner-only file (first_key_file.py), or,
    when it came from BLUEWIRE_API_SECRET_KEY, is not repeated at all."""
    import sys

    from rich.markup import escape

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    key_id, secret = boot.keys.key_id, boot.keys.secret
    note: str | None = None
    if sys.stdout.isatty():
        secret_line = f"[cyan]{escape(secret)}[/cyan]   (shown once; stored hashed)"
        secret_header = f"-H 'sb-api-secret-key: {secret}'"
        load: str | None = (f"export BLUEWIRE_API_KEY_ID={shlex.quote(key_id)} "
                            f"BLUEWIRE_API_SECRET_KEY={shlex.quote(secret)}")
    else:
        secret_line = "not shown: standard output is not a terminal"
        secret_header = '-H "sb-api-secret-key: $BLUEWIRE_API_SECRET_KEY"'
        load = None
        if secret_given:
            note = "The API secret key is the value of BLUEWIRE_API_SECRET_KEY."
        else:
            from ..store.database import data_dir
            from .first_key_file import write_key_file

            try:
                path = write_key_file(data_dir(database_url), key_id, secret)
            except OSError as exc:
                note = (f"The API secret key could not be written to a file ({exc}): create a "
                        f"key pair with `bluewire keys create --account {boot.account.email}`.")
            else:
                note = (f"The API secret key of key id {key_id} is in {path} (readable only by "
                        "this user; delete it once the secret is kept elsewhere).")
                load = f". {shlex.quote(str(path))}"
    curl = (
        f"curl -s http://{shown_host}:{port}/api/send-message \\\n"
        f"  -H 'sb-api-key-id: {key_id}' \\\n"
        f"  {secret_header} \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{{\"number\": \"+14155550100\", \"from_number\": \"{boot.line}\", "
        "\"content\": \"Hello from bluewire\"}'"
    )
    console.print(Panel.fit(
        f"[bold]First start: account {boot.account.email} created[/bold]\n\n"
        f"API key id      [cyan]{escape(key_id)}[/cyan]\n"
        f"API secret key  {secret_line}\n"
        f"Sandbox line    [cyan]{boot.line}[/cyan]",
        title="bluewire",
    ))
    if note is not None:
        console.print(note, soft_wrap=True, markup=False, highlight=False)
    console.print("Send a first message:\n")
    console.print(curl, soft_wrap=True, markup=False, highlight=False)
    if load is not None:
        console.print(load, soft_wrap=True, markup=False, highlight=False)


def main() -> None:  # pragma: no cover
    app()
