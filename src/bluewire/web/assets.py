"""The static files of the server-rendered pages, shipped in a package's `static` folder and
read once: this package's (the /docs page's), and the console's (bluewire.console)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
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


def assets() -> dict[str, Asset]:
    """This package's static files."""
    return package_assets(__package__)


@cache
def package_assets(package: str) -> dict[str, Asset]:
    """Every file of `package`'s `static` folder (and its subfolders) that has a known type, by
    its path in the folder (`vendor/htmx.min.js`). Files of other types (licenses, notes) are
    not served."""
    found: dict[str, Asset] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
                continue
            suffix = "." + entry.name.rpartition(".")[2]
            if entry.is_file() and suffix in CONTENT_TYPES:
                name = prefix + entry.name
                found[name] = Asset(name, entry.read_bytes(), CONTENT_TYPES[suffix])

    walk(resources.files(package) / "static", "")
    return found


def asset(name: str) -> Asset | None:
    return assets().get(name)


def asset_url(base: str, name: str) -> str:
    """The URL of the static file `name` under `base`, versioned by its content (KeyError if
    the package has no such file, so a template naming a missing one fails loudly)."""
    return f"{base}{name}?v={assets()[name].version}"
