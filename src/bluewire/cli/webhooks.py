"""`bluewire webhooks` (the account's endpoints) and `bluewire deliveries` (the delivery log,
resend and replay), over the server's HTTP API with the same key headers as any client."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .client import DEFAULT_URL, KeyId, Secret, Url, _call, local_time

console = Console(highlight=False)

# Where `--url` or `--secret` name something else (the webhook's URL or signing secret), the
# server's URL and the API secret key keep their environment variables under another flag.
ServerUrl = Annotated[str, typer.Option("--server", envvar="BLUEWIRE_URL",
                                        help="The server's base URL (or BLUEWIRE_URL).")]
ApiSecret = Annotated[str, typer.Option(
    "--api-secret-key", envvar="BLUEWIRE_API_SECRET_KEY",
    help="sb-api-secret-key (or BLUEWIRE_API_SECRET_KEY).")]

_STATE_STYLES = {"delivered": "green", "pending": "yellow", "failed": "red",
                 "cancelled": "dim"}


def webhooks_commands(app: typer.Typer) -> None:
    webhooks_app = typer.Typer(help="Manage the account's webhook endpoints.",
                               no_args_is_help=True)
    deliveries_app = typer.Typer(
        help="The webhook delivery log (newest first); resend a delivery or replay a range.",
        invoke_without_command=True)
    app.add_typer(webhooks_app, name="webhooks")
    app.add_typer(deliveries_app, name="deliveries")

    @webhooks_app.command("list")
    def list_webhooks(url: Url = DEFAULT_URL, key_id: KeyId = "", secret: Secret = "") -> None:
        """List the account's webhooks."""
        result = _call(url, key_id, secret, "GET", "/api/account/webhooks")
        table = Table("type", "url", "secret", "lines")
        for type_, entries in (result.get("webhooks") or {}).items():
            if not isinstance(entries, list):
                continue
            for entry in entries:
                entry = {"url": entry} if isinstance(entry, str) else entry
                lines = entry.get("sendblue_numbers")
                table.add_row(type_, escape(str(entry.get("url"))),
                              "yes" if entry.get("secret") else "no",
                              ", ".join(lines) if lines else "all")
        console.print(table)

    @webhooks_app.command("add")
    def add_webhook(
        webhook_url: Annotated[str, typer.Argument(metavar="URL", help="Where to POST.")],
        type_: Annotated[str, typer.Option(
            "--type", help="receive, outbound, typing_indicator, contact_created, "
                           "line_blocked, line_assigned, …")] = "receive",
        signing_secret: Annotated[str | None, typer.Option(
            "--secret", help="Sign deliveries with this secret (default: the account's "
                             "global secret, if any).")] = None,
        line: Annotated[list[str] | None, typer.Option(
            "--line", help="Only events of this line (repeatable; default: every line).",
        )] = None,
        url: Url = DEFAULT_URL, key_id: KeyId = "", secret: ApiSecret = "",
    ) -> None:
        """Add a webhook endpoint."""
        entry: dict[str, Any] = {"url": webhook_url}
        if signing_secret:
            entry["secret"] = signing_secret
        if line:
            entry["sendblue_numbers"] = line
        result = _call(url, key_id, secret, "POST", "/api/account/webhooks",
                       json={"type": type_, "webhooks": [entry]})
        console.print(escape(result.get("message") or f"added {webhook_url}"))

    @webhooks_app.command("remove")
    def remove_webhook(
        webhook_url: Annotated[str, typer.Argument(metavar="URL", help="The URL to remove.")],
        type_: Annotated[str | None, typer.Option(
            "--type", help="Only the endpoint of this type (default: every type).")] = None,
        url: Url = DEFAULT_URL, key_id: KeyId = "", secret: Secret = "",
    ) -> None:
        """Remove a webhook endpoint (its delivery history stays)."""
        body: dict[str, Any] = {"webhooks": [webhook_url]}
        if type_:
            body["type"] = type_
        result = _call(url, key_id, secret, "DELETE", "/api/account/webhooks", json=body)
        console.print(escape(result.get("message") or f"removed {webhook_url}"))

    @deliveries_app.callback()
    def deliveries(
        ctx: typer.Context,
        failed: Annotated[bool, typer.Option("--failed", help="Only failed deliveries.")] = False,
        state: Annotated[str | None, typer.Option(
            help="Only this state: pending, delivered, failed or cancelled.")] = None,
        message: Annotated[str | None, typer.Option(
            help="Only deliveries about this message handle.")] = None,
        limit: Annotated[int, typer.Option(help="How many, newest first (1 to 500).")] = 20,
        url: Url = DEFAULT_URL, key_id: KeyId = "", secret: Secret = "",
    ) -> None:
        """List webhook deliveries, newest first."""
        if ctx.invoked_subcommand is not None:
            return
        params: dict[str, Any] = {"limit": limit}
        if failed or state:
            params["state"] = "failed" if failed else state
        if message:
            params["message"] = message
        result = _call(url, key_id, secret, "GET", "/api/v2/webhook-deliveries", params=params)
        _print_deliveries(result.get("data", []))
        if result.get("pagination", {}).get("hasMore"):
            console.print(f"[dim]showing the newest {limit}; more with --limit[/dim]")

    @deliveries_app.command("resend")
    def resend(
        delivery_id: Annotated[int, typer.Argument(metavar="ID", help="The delivery's id.")],
        url: Url = DEFAULT_URL, key_id: KeyId = "", secret: Secret = "",
    ) -> None:
        """Send a delivery again now (same webhook-id, so the receiver can dedupe)."""
        result = _call(url, key_id, secret, "POST",
                       f"/api/v2/webhook-deliveries/{delivery_id}/resend")
        data = result.get("data", {})
        console.print(f"delivery {delivery_id} queued again as {data.get('id')} "
                      f"(webhook-id {data.get('event_id')}) → {escape(str(data.get('url')))}")

    @deliveries_app.command("replay")
    def replay(
        since: Annotated[str, typer.Option(
            help="Events from this time (ISO 8601, e.g. 2024-01-15T14:30:00Z).")],
        webhook_url: Annotated[str | None, typer.Option(
            "--url", help="The configured webhook URL to deliver to.")] = None,
        endpoint_id: Annotated[int | None, typer.Option(
            "--endpoint-id", help="Or the endpoint's id.")] = None,
        until: Annotated[str | None, typer.Option(
            help="… up to this time (default: now).")] = None,
        url: ServerUrl = DEFAULT_URL, key_id: KeyId = "", secret: Secret = "",
    ) -> None:
        """Deliver every event of a time range to an endpoint again, also those it never had."""
        if (webhook_url is None) == (endpoint_id is None):
            raise typer.BadParameter("give either --url or --endpoint-id")
        body: dict[str, Any] = {"since": since}
        if webhook_url is not None:
            body["url"] = webhook_url
        else:
            body["endpoint_id"] = endpoint_id
        if until:
            body["until"] = until
        result = _call(url, key_id, secret, "POST", "/api/v2/webhook-deliveries/replay",
                       json=body)
        console.print(f"queued {result.get('queued')} deliveries to "
                      f"{escape(str(result.get('url')))} "
                      f"({result.get('since')} → {result.get('until')})")


def _print_deliveries(rows: list[dict[str, Any]]) -> None:
    table = Table("id", "created", "state", "attempts", "last", "url", "event")
    for row in rows:
        state = row.get("state") or ""
        last = row.get("last_error") or row.get("last_status") or ""
        table.add_row(str(row.get("id")), local_time(row.get("created_at")),
                      f"[{_STATE_STYLES.get(state, 'white')}]{state}[/]",
                      str(row.get("attempts")), escape(str(last)[:60]),
                      escape(str(row.get("url"))), str(row.get("event_type")))
    console.print(table)
    console.print(f"{len(rows)} deliveries")

