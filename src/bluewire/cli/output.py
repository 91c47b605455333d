"""How read commands print: JSON with `--json`, else a table that never cuts an id or a time.

On a terminal a table fits its width: ids, handles and times are never wrapped or shortened
(other columns give way, and a cell too long for any width folds onto the next line). Piped or
redirected, the table is as wide as its longest row, whatever COLUMNS says, so what a script
reads is complete.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

Json = Annotated[bool, typer.Option("--json", help="Print JSON (complete, for scripts).")]

_UNLIMITED = 1_000_000


@cache
def console() -> Console:
    """stdout, as wide as the terminal, or without a width when it is not one."""
    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=_UNLIMITED, soft_wrap=True)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def key(header: str, **options: Any) -> Column:
    """A column of ids, handles, numbers or times: kept on one line while the table fits."""
    return Column(header, no_wrap=True, overflow="fold", **options)


def text(header: str, **options: Any) -> Column:
    """A column of free text: it wraps to fit a terminal; nothing is ever cut off."""
    return Column(header, overflow="fold", **options)


def print_table(out: Console, table: Table) -> None:
    """Print `table`; on a terminal too narrow for its ids and times on one line each, they
    fold onto further lines rather than being cut."""
    for column in table.columns:
        if column.no_wrap:
            column.min_width = max((_width(cell) for cell in column.cells),
                                   default=len(str(column.header)))
    if Measurement.get(out, out.options.update_width(_UNLIMITED), table).minimum > out.width:
        for column in table.columns:
            column.no_wrap = False
            column.min_width = None
    out.print(table)


def _width(cell: Any) -> int:
    return Text.from_markup(cell).cell_len if isinstance(cell, str) else 1


def short(value: str | None, limit: int = 60) -> str:
    """Free text for one cell: on a terminal at most `limit` characters, piped all of it (a
    line break shown as ⏎)."""
    value = (value or "").replace("\r\n", "\n").replace("\n", " ⏎ ")
    if sys.stdout.isatty() and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def ms_iso(ms: int | None) -> str | None:
    """Milliseconds since the epoch as ISO 8601 UTC (as the API writes times), or None."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def ms_local(ms: int | None) -> str:
    """Milliseconds since the epoch in the local zone, to the second ("" for None)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M:%S")
