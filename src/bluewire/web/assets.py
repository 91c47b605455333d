"""The static files of the server-rendered pages, shipped in the package and read once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    body: bytes
    content_type: str

    @property
    def version(self) -> str:
        """Changes when the content does: a URL with it can be cached for good."""
        return hashlib.sha256(self.body).hexdigest()[:12]


@cache
def assets() -> dict[str, Asset]:
    """Every file of the package's `static` folder that has a known type, by name."""
    found: dict[str, Asset] = {}
    for entry in (resources.files(__package__) / "static").iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in CONTENT_TYPES:
            found[entry.name] = Asset(entry.name, entry.read_bytes(), CONTENT_TYPES[suffix])
    return found


def asset(name: str) -> Asset | None:
    return assets().get(name)


def asset_url(base: str, name: str) -> str:
    """The URL of the static file `name` under `base`, versioned by its content (KeyError if
    the package has no such file, so a template naming a missing one fails loudly)."""
    return f"{base}{name}?v={assets()[name].version}"
