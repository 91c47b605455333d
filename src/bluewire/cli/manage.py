"""`bluewire accounts|keys|lines …`: the operator's commands, on the store directly (the same
BLUEWIRE_DATABASE_URL as the server), also while the server runs."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from .admin import NewDatabase, fail, open_store, run_admin
from .flags import Typer
from .output import Json, console, key, ms_iso, ms_local, print_json, print_table, text

if TYPE_CHECKING:
    from ..services.accounts import AccountService
    from ..services.line_admin import LineAdmin

Account = Annotated[str, typer.Option("--account", help="The account's email.")]
OnlyAccount = Annotated[str | None, typer.Option(
    "--account", help="Only this account's (its email).")]
BlueBubblesUrl = Annotated[str | None, typer.Option(
    "--bluebubbles-url", help="bluebubbles: the BlueBubbles server, e.g. http://mac.local:1234.")]
BlueBubblesPassword = Annotated[str | None, typer.Option(
    "--bluebubbles-password", help="bluebubbles: the BlueBubbles server's password.")]


def _accounts(new_database: bool = False) -> AccountService:
    return _services(new_database)[0]


def _lines() -> LineAdmin:
    return _services()[1]


def _services(new_database: bool = False) -> tuple[AccountService, LineAdmin]:
    from ..config import Settings
    from ..services.accounts import AccountService
    from ..services.line_admin import LineAdmin

    database, writer = open_store(new_database=new_database)
    return (AccountService(database, writer),
            LineAdmin(database, writer, Settings.from_env().line_rate_limit))


def manage_commands(app: typer.Typer) -> None:
    accounts_app = Typer(help="Manage accounts.", no_args_is_help=True)
    keys_app = Typer(help="Manage API key pairs.", no_args_is_help=True)
    lines_app = Typer(help="Manage lines (phone numbers).", no_args_is_help=True)
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(keys_app, name="keys")
    app.add_typer(lines_app, name="lines")

    @accounts_app.command("create")
    def accounts_create(
        email: str,
        plan: Annotated[str, typer.Option(help="Plan name shown in payloads.")] = "blue",
        new_database: NewDatabase = False,
    ) -> None:
        """Create an account."""
        account = run_admin(lambda: _accounts(new_database).create_account(email, plan))
        console().print(f"account {escape(account.email)} created (id {account.id})")

    @accounts_app.command("list")
    def accounts_list(as_json: Json = False) -> None:
        """List accounts, with how many usable API keys and which lines each has."""
        accounts, line_admin = _services()
        rows = accounts.accounts()
        lines: dict[str, list[str]] = {}
        for line in line_admin.lines():
            for email in line.accounts:
                lines.setdefault(email, []).append(line.number)
        if as_json:
            print_json([{"id": row.id, "email": row.email, "plan": row.plan,
                         "created_at": ms_iso(row.created_at), "active_keys": row.active_keys,
                         "lines": lines.get(row.email, [])} for row in rows])
            return
        table = Table(key("id"), key("email"), key("plan"), key("created"),
                       key("keys", justify="right"), text("lines"))
        for row in rows:
            table.add_row(str(row.id), escape(row.email), escape(row.plan),
                          ms_local(row.created_at), str(row.active_keys),
                          " ".join(lines.get(row.email, [])))
        out = console()
        print_table(out, table)
        out.print(f"{len(rows)} account{'' if len(rows) == 1 else 's'}")

    @keys_app.command("create")
    def keys_create(
        account: Account,
        api_key_id: Annotated[str | None, typer.Option(
            "--api-key-id", help="Use this key id (default: random).")] = None,
        api_secret_key: Annotated[str | None, typer.Option(
            "--api-secret-key", help="Use this secret key (default: random).")] = None,
    ) -> None:
        """Create an API key pair for an account. The secret is shown once."""
        pair = run_admin(lambda: _accounts().create_key(account, api_key_id, api_secret_key))
        console().print(f"sb-api-key-id:     {pair.key_id}\nsb-api-secret-key: {pair.secret}",
                        soft_wrap=True, markup=False)

    @keys_app.command("list")
    def keys_list(account: OnlyAccount = None, as_json: Json = False) -> None:
        """List API keys (ids, account, created and revoked times; never the secrets)."""
        keys = run_admin(lambda: _accounts().keys(account))
        if as_json:
            print_json([{"key_id": k.key_id, "account": k.account_email,
                         "created_at": ms_iso(k.created_at), "revoked_at": ms_iso(k.revoked_at)}
                        for k in keys])
            return
        table = Table(key("key id"), key("account"), key("created"), key("revoked"))
        for k in keys:
            table.add_row(escape(k.key_id), escape(k.account_email), ms_local(k.created_at),
                          ms_local(k.revoked_at) or "-")
        out = console()
        print_table(out, table)
        active = sum(1 for k in keys if k.revoked_at is None)
        out.print(f"{len(keys)} key{'' if len(keys) == 1 else 's'}, {active} usable")

    @keys_app.command("revoke")
    def keys_revoke(key_id: Annotated[str, typer.Argument(metavar="KEY_ID")]) -> None:
        """Revoke an API key: every server refuses it (401) from the next request on."""
        revoked, before = run_admin(lambda: _accounts().revoke_key(key_id))
        when = ms_local(revoked.revoked_at)
        if before:
            console().print(f"key {escape(key_id)} of {escape(revoked.account_email)} was "
                            f"already revoked ({when})")
        else:
            console().print(f"key {escape(key_id)} of {escape(revoked.account_email)} revoked "
                            f"({when}); requests with it are refused from now on")

    @lines_app.command("add")
    def lines_add(
        number: str,
        account: Account,
        connector: Annotated[str, typer.Option(help="The network serving the line.")] = "sandbox",
        shared: Annotated[bool, typer.Option(help="Other accounts may be granted it too.")] = False,
        rate_limit: Annotated[float | None, typer.Option(
            help="Sends a second allowed (default: 10 on real networks, none on the sandbox).",
        )] = None,
        bluebubbles_url: BlueBubblesUrl = None,
        bluebubbles_password: BlueBubblesPassword = None,
    ) -> None:
        """Add a line (or grant a shared line) to an account."""
        settings = {"url": bluebubbles_url, "password": bluebubbles_password} \
            if bluebubbles_url or bluebubbles_password else None
        line = run_admin(lambda: _accounts().add_line(number, account, connector, shared=shared,
                                                      rate_limit=rate_limit, settings=settings))
        console().print(f"line {line.number} ({line.connector}) granted to {escape(account)}")

    @lines_app.command("list")
    def lines_list(account: OnlyAccount = None, as_json: Json = False) -> None:
        """List lines: their network, accounts, send rate limit and settings (no secrets)."""
        rows = run_admin(lambda: _lines().lines(account))
        if as_json:
            print_json([{**asdict(row), "accounts": list(row.accounts)} for row in rows])
            return
        table = Table(key("number"), key("connector"), key("shared"), key("sends/s"),
                       text("accounts"), text("settings"))
        for row in rows:
            table.add_row(row.number, row.connector, "yes" if row.shared else "no",
                          _rate(row.rate_limit, row.sends_per_second),
                          escape(" ".join(row.accounts)),
                          escape(" ".join(f"{k}={v}" for k, v in row.settings.items())))
        out = console()
        print_table(out, table)
        out.print(f"{len(rows)} line{'' if len(rows) == 1 else 's'}")

    @lines_app.command("remove")
    def lines_remove(
        number: str,
        account: Annotated[str | None, typer.Option(
            "--account", help="Only take the line from this account (its email); without it "
                              "the line is removed from every account and deleted.")] = None,
    ) -> None:
        """Remove a line, or take it from one account. Its messages are kept."""
        removal = run_admin(lambda: _lines().remove(number, account))
        who = ", ".join(removal.accounts) or "no account"
        if removal.deleted:
            console().print(f"line {removal.number} removed (it was granted to {escape(who)})")
        else:
            console().print(f"line {removal.number} taken from {escape(who)}")

    @lines_app.command("set")
    def lines_set(
        number: str,
        rate_limit: Annotated[str | None, typer.Option(
            metavar="N|default",
            help="Sends a second allowed, or `default` (10 on real networks, none on the "
                 "sandbox).")] = None,
        shared: Annotated[bool | None, typer.Option(
            "--shared/--not-shared", help="Whether other accounts may be granted it.",
            show_default=False)] = None,
        bluebubbles_url: BlueBubblesUrl = None,
        bluebubbles_password: BlueBubblesPassword = None,
    ) -> None:
        """Change a line's settings; servers use them within a few seconds."""
        rate = _parse_rate(rate_limit)
        row = run_admin(lambda: _lines().change(number, rate_limit=rate, shared=shared,
                                                url=bluebubbles_url,
                                                password=bluebubbles_password))
        console().print(f"line {row.number}: {_rate(row.rate_limit, row.sends_per_second)} "
                        f"sends a second, {'shared' if row.shared else 'not shared'}"
                        + "".join(f", {k}={escape(str(v))}" for k, v in row.settings.items()))


def _rate(configured: float | None, applies: float | None) -> str:
    shown = "unlimited" if applies is None else f"{applies:g}"
    return shown if configured is not None else f"{shown} (default)"


def _parse_rate(raw: str | None) -> float | Literal["default"] | None:
    if raw is None:
        return None
    if raw.strip().lower() == "default":
        return "default"
    try:
        return float(raw)
    except ValueError:
        raise fail(f"--rate-limit {raw!r} is neither a number of sends a second nor "
                   "`default`") from None
