"""The Jinja2 environment of the server-rendered pages: templates from the package, every value
escaped, and a few filters for text that comes with a little markup (`code` spans)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from .assets import asset_url

# The pages carry no script and no inline style, and submit nowhere: this policy holds them to
# that, and to their own stylesheets.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
HTML = "text/html; charset=utf-8"


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("bluewire.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["code_spans"] = code_spans
    env.filters["prose"] = prose
    env.filters["path_template"] = path_template
    env.globals["asset_url"] = asset_url
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def code_spans(text: str | None) -> Markup:
    """`text` escaped, its `backticked` parts as <code> (as they are, if the backticks do not
    pair up)."""
    parts = (text or "").split("`")
    if len(parts) % 2 == 0:
        return escape(text or "")
    return Markup("").join(Markup("<code>{}</code>").format(part) if odd else escape(part)
                           for odd, part in ((i % 2 == 1, part) for i, part in enumerate(parts)))


def prose(text: str | None) -> Markup:
    """`text` as paragraphs (split at blank lines), with `code` spans."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(code_spans(p)) for p in paragraphs)


def path_template(path: str) -> Markup:
    """A path like /a/{id}, escaped, with its {parameters} marked for styling."""
    return Markup("").join(
        Markup('<span class="path-param">{}</span>').format(part) if part.startswith("{")
        else escape(part) for part in re.split(r"(\{[^}]*\})", path))
