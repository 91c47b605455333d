"""`bluewire agent` (run on the Mac) and `bluewire agents create|list|revoke` (on the gateway)."""

from __future__ import annotations

import importlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .admin import open_store, run_admin
from .flags import Typer
from .output import Json, key, ms_iso, print_json, print_table, text
from .output import console as stdout

if TYPE_CHECKING:
    from ..agents.tokens import AgentTokens

console = Console()
err = Console(stderr=True)
EXIT_REFUSED = 3


def _tokens() -> AgentTokens:
    from ..agents.tokens import AgentTokens

    return AgentTokens(*open_store())


def _engine(name: str, lines: list[str], state_dir: Path, chat_db: Path) -> Any:
    """The local Connector the agent runs: the Messages.app engine, the sandbox, or (for tests)
    any `module:Class` constructed with no arguments."""
    if name == "messages-app":
        from ..connectors.macos import MessagesAppConnector

        if len(lines) != 1:
            err.print("[red]error:[/red] the Messages.app engine serves one line: pass "
                      "--line NUMBER, the number signed in to Messages on this Mac")
            raise typer.Exit(2)
        return MessagesAppConnector(chat_db, lines[0], state_path=state_dir / "messages-app.json")
    if name == "sandbox":
        from ..connectors.sandbox import SandboxConnector

        return SandboxConnector()
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)()


def _when(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def agent_commands(app: typer.Typer) -> None:
    agents_app = Typer(help="Manage agent tokens (Macs serving lines).",
                             no_args_is_help=True)
    app.add_typer(agents_app, name="agents")

    @agents_app.command("create")
    def agents_create(
        line: Annotated[list[str], typer.Option(help="A line the agent serves (repeatable).")],
    ) -> None:
        """Create an agent token for some lines. It is shown once; only its hash is stored."""
        token, text = run_admin(lambda: _tokens().create(line))
        console.print(f"agent token {token.token_id} for {', '.join(token.lines)}:\n{text}",
                      soft_wrap=True, highlight=False)

    @agents_app.command("list")
    def agents_list(as_json: Json = False) -> None:
        """List agent tokens."""
        tokens = _tokens().all()
        if as_json:
            print_json([{"token_id": token.token_id, "lines": list(token.lines),
                         "created_at": ms_iso(token.created_at),
                         "revoked_at": ms_iso(token.revoked_at)} for token in tokens])
            return
        table = Table(key("token id"), text("lines"), key("created"), key("revoked"))
        for token in tokens:
            table.add_row(token.token_id, " ".join(token.lines), _when(token.created_at),
                          _when(token.revoked_at))
        print_table(stdout(), table)

    @agents_app.command("revoke")
    def agents_revoke(token_id: str) -> None:
        """Revoke an agent token (a connected agent keeps its session until it reconnects)."""
        run_admin(lambda: _tokens().revoke(token_id))
        console.print(f"agent token {token_id} revoked")

    @app.command("agent")
    def agent(
        gateway: Annotated[str, typer.Option(help="The gateway's URL, e.g. https://gw.example.")],
        token: Annotated[str, typer.Option(envvar="BLUEWIRE_AGENT_TOKEN",
                                           help="The token from `bluewire agents create`.")],
        line: Annotated[list[str] | None, typer.Option(
            help="A line to serve (repeatable; default: every line of the token).")] = None,
        state_dir: Annotated[Path | None, typer.Option(
            help="Where the agent keeps executed command ids and undelivered events "
                 "(default: ~/.bluewire-agent).")] = None,
        chat_db: Annotated[Path | None, typer.Option(
            help="The Messages database the Messages.app engine watches "
                 "(default: ~/Library/Messages/chat.db).")] = None,
        engine: Annotated[str, typer.Option(hidden=True, envvar="BLUEWIRE_AGENT_ENGINE")]
        = "messages-app",
    ) -> None:
        """Serve lines of a gateway from this Mac: connects out over a WebSocket."""
        import asyncio
        import logging

        from ..connectors.agent.client import Agent, Refused
        from ..connectors.agent.state import AgentState

        logging.basicConfig(level=os.environ.get("BLUEWIRE_LOG_LEVEL", "info").upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        state_dir = state_dir or Path.home() / ".bluewire-agent"
        state = AgentState(state_dir)
        lines = list(line or [])
        chat_db = chat_db or Path.home() / "Library" / "Messages" / "chat.db"
        runner = Agent(gateway, token, _engine(engine, lines, state_dir, chat_db), state, lines)
        try:
            asyncio.run(runner.run())
        except Refused as exc:
            err.print(f"[red]the gateway refused this agent:[/red] {exc}")
            raise typer.Exit(EXIT_REFUSED) from None
        except KeyboardInterrupt:
            pass
