"""`bluewire webhooks` (the account's endpoints) and `bluewire deliveries` (the delivery log,
resend and replay), over the server's HTTP API with the same key headers as any client."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .client import local_time
from .flags import DEFAULT_URL, ApiKeyId, ApiSecretKey, Server, Typer
from .http import call
from .output import Json, console, key, print_json, print_table, short, text

_STATE_STYLES = {"delivered": "green", "pending": "yellow", "failed": "red",
                 "cancelled": "dim"}


def webhooks_commands(app: typer.Typer) -> None:
    webhooks_app = Typer(help="Manage the account's webhook endpoints.",
                               no_args_is_help=True)
    deliveries_app = Typer(
        help="The webhook delivery log (newest first); resend a delivery or replay a range.",
        invoke_without_command=True)
    app.add_typer(webhooks_app, name="webhooks")
    app.add_typer(deliveries_app, name="deliveries")

    @webhooks_app.command("list")
    def list_webhooks(as_json: Json = False, server: Server = DEFAULT_URL,
                      api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "") -> None:
        """List the account's webhooks (whether each has a signing secret, never the secret)."""
        result = call(server, api_key_id, api_secret_key, "GET", "/api/account/webhooks")
        rows = []
        for type_, entries in (result.get("webhooks") or {}).items():
            if not isinstance(entries, list):
                continue
            for entry in entries:
                entry = {"url": entry} if isinstance(entry, str) else entry
                rows.append({"type": type_, "url": entry.get("url"),
                             "signed": bool(entry.get("secret_hint") or entry.get("secret")),
                             "lines": entry.get("sendblue_numbers") or None})
        if as_json:
            print_json(rows)
            return
        table = Table(key("type"), key("url"), key("signed"), text("lines"))
        for row in rows:
            table.add_row(row["type"], escape(str(row["url"])), "yes" if row["signed"] else "no",
                          ", ".join(row["lines"]) if row["lines"] else "all")
        print_table(console(), table)

    @webhooks_app.command("add")
    def add_webhook(
        webhook_url: Annotated[str, typer.Argument(metavar="URL", help="Where to POST.")],
        type_: Annotated[str, typer.Option(
            "--type", help="receive, outbound, typing_indicator, contact_created, "
                           "line_blocked, line_assigned, …")] = "receive",
        signing_secret: Annotated[str | None, typer.Option(
            "--signing-secret", help="Sign deliveries with this secret (default: the "
                                     "account's global secret, if any).")] = None,
        line: Annotated[list[str] | None, typer.Option(
            "--line", help="Only events of this line (repeatable; default: every line).",
        )] = None,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """Add a webhook endpoint."""
        entry: dict[str, Any] = {"url": webhook_url}
        if signing_secret:
            entry["secret"] = signing_secret
        if line:
            entry["sendblue_numbers"] = line
        result = call(server, api_key_id, api_secret_key, "POST", "/api/account/webhooks",
                      payload={"type": type_, "webhooks": [entry]})
        console().print(escape(result.get("message") or f"added {webhook_url}"))

    @webhooks_app.command("remove")
    def remove_webhook(
        webhook_url: Annotated[str, typer.Argument(metavar="URL", help="The URL to remove.")],
        type_: Annotated[str | None, typer.Option(
            "--type", help="Only the endpoint of this type (default: every type).")] = None,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """Remove a webhook endpoint (its delivery history stays)."""
        body: dict[str, Any] = {"webhooks": [webhook_url]}
        if type_:
            body["type"] = type_
        result = call(server, api_key_id, api_secret_key, "DELETE", "/api/account/webhooks",
                      payload=body)
        console().print(escape(result.get("message") or f"removed {webhook_url}"))

    @deliveries_app.callback()
    def deliveries(
        ctx: typer.Context,
        failed: Annotated[bool, typer.Option("--failed", help="Only failed deliveries.")] = False,
        state: Annotated[str | None, typer.Option(
            help="Only this state: pending, delivered, failed or cancelled.")] = None,
        message: Annotated[str | None, typer.Option(
            help="Only deliveries about this message handle.")] = None,
        limit: Annotated[int, typer.Option(help="How many, newest first (1 to 500).")] = 20,
        as_json: Json = False,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """List webhook deliveries, newest first."""
        if ctx.invoked_subcommand is not None:
            return
        params: dict[str, Any] = {"limit": limit}
        if failed or state:
            params["state"] = "failed" if failed else state
        if message:
            params["message"] = message
        result = call(server, api_key_id, api_secret_key, "GET", "/api/v2/webhook-deliveries",
                      params=params)
        if as_json:
            print_json(result)
            return
        _print_deliveries(result.get("data", []))
        if result.get("pagination", {}).get("hasMore"):
            console().print(f"[dim]showing the newest {limit}; more with --limit[/dim]")

    @deliveries_app.command("resend")
    def resend(
        delivery_id: Annotated[int, typer.Argument(metavar="ID", help="The delivery's id.")],
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """Send a delivery again now (same webhook-id, so the receiver can dedupe)."""
        result = call(server, api_key_id, api_secret_key, "POST",
                      f"/api/v2/webhook-deliveries/{delivery_id}/resend")
        data = result.get("data", {})
        console().print(f"delivery {delivery_id} queued again as {data.get('id')} "
                      f"(webhook-id {data.get('event_id')}) → {escape(str(data.get('url')))}")

    @deliveries_app.command("replay")
    def replay(
        since: Annotated[str, typer.Option(
            help="Events from this time (ISO 8601, e.g. 2024-01-15T14:30:00Z).")],
        webhook_url: Annotated[str | None, typer.Option(
            "--webhook-url", help="The configured webhook URL to deliver to.")] = None,
        endpoint_id: Annotated[int | None, typer.Option(
            "--endpoint-id", help="Or the endpoint's id.")] = None,
        until: Annotated[str | None, typer.Option(
            help="… up to this time (default: now).")] = None,
        server: Server = DEFAULT_URL, api_key_id: ApiKeyId = "", api_secret_key: ApiSecretKey = "",
    ) -> None:
        """Deliver every event of a time range to an endpoint again, also those it never had."""
        if (webhook_url is None) == (endpoint_id is None):
            raise typer.BadParameter("give either --webhook-url or --endpoint-id")
        body: dict[str, Any] = {"since": since}
        if webhook_url is not None:
            body["url"] = webhook_url
        else:
            body["endpoint_id"] = endpoint_id
        if until:
            body["until"] = until
        result = call(server, api_key_id, api_secret_key, "POST",
                      "/api/v2/webhook-deliveries/replay", payload=body)
        console().print(f"queued {result.get('queued')} deliveries to "
                      f"{escape(str(result.get('url')))} "
                      f"({result.get('since')} → {result.get('until')})")


def _print_deliveries(rows: list[dict[str, Any]]) -> None:
    table = Table(key("id", justify="right"), key("created"), key("state"),
                  key("attempts", justify="right"), text("last"), key("url"), key("event"))
    for row in rows:
        state = row.get("state") or ""
        last = row.get("last_error") or row.get("last_status") or ""
        table.add_row(str(row.get("id")), local_time(row.get("created_at")),
                      f"[{_STATE_STYLES.get(state, 'white')}]{state}[/]",
                      str(row.get("attempts")), escape(short(str(last))),
                      escape(str(row.get("url"))), str(row.get("event_type")))
    out = console()
    print_table(out, table)
    out.print(f"{len(rows)} deliveries")
