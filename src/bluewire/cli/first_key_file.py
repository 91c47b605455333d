"""Where the first start leaves the first API secret when it must not print it.

The banner of a first start shows the secret only on a terminal: standard output that is a file
or a pipe usually ends up in a log, kept and shared long after. Then the key pair goes to a file
of the data folder (next to a SQLite database, else the working folder) that only the server's
user may read, created with that mode from its first byte and never over an existing file.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

NAME = "bluewire-first-key"


def write_key_file(folder: Path, key_id: str, secret: str) -> Path:
    """A new file in `folder`, mode 0600, with `export` lines for the key pair (a shell can
    source it); its path. An existing file of that name is kept: the next free name is used."""
    stem = NAME + "-" + re.sub(r"[^A-Za-z0-9._-]", "_", key_id)
    text = ("# bluewire's first API key pair. Load it into a shell with `. <this file>`; delete "
            "the file once the secret is kept elsewhere.\n"
            f"export BLUEWIRE_API_KEY_ID={shlex.quote(key_id)}\n"
            f"export BLUEWIRE_API_SECRET_KEY={shlex.quote(secret)}\n").encode()
    for attempt in range(1, 100):
        path = folder / (f"{stem}.env" if attempt == 1 else f"{stem}-{attempt}.env")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as file:
            file.write(text)
        return path
    raise FileExistsError(f"{folder / stem}.env and 98 more exist")
