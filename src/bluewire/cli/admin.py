"""What the management commands share: the gateway over the store, and their error exit."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console

from ..config import Settings
from ..services.accounts import AdminError

if TYPE_CHECKING:
    from ..app import Gateway

T = TypeVar("T")
err = Console(stderr=True)


def open_gateway() -> Gateway:
    """The gateway on the configured store, migrated (its services, not its server)."""
    from ..app import Gateway  # imported late: the CLI's other commands start faster

    gateway = Gateway(Settings.from_env())
    gateway.prepare()
    return gateway


def run_admin(action: Callable[[], T]) -> T:
    """`action()`; an AdminError is printed and exits with status 2."""
    try:
        return action()
    except AdminError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
