"""The console's pages, one module each. A module has `routes(services) -> list[BaseRoute]`
(Starlette routes, paths relative to the console's root) and renders templates under
`console/` in the shared template folder (bluewire/web/templates/console/).

Adding a page:

1. `pages/<name>.py` with `routes(services)`; see lines.py for the pattern. Handlers find the
   session in `request.state.session` (every path but sign-in has one: guard.py), act through
   `services` (services.py) and answer `page(request, "console/<name>.html", {...},
   active="<nav section>")` (rendering.py).
2. `console/<name>.html`, extending `console/base.html` (block `content`; `title`).
3. Its module in PAGES below, and its section in nav.py if it has one.
4. A form that changes something carries `csrf_token` (see base.html's sign-out form); an htmx
   request carries it as a header by itself. Nothing inline: no `<script>`, no `style=`, no
   `on*=` attributes (the Content-Security-Policy refuses them); styles go in console.css,
   behaviour in console.js or htmx attributes.
5. A browser test in tests/console/.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from ..services import ConsoleServices
from . import (
    analytics,
    contacts,
    conversations,
    lines,
    messages,
    sandbox,
    settings,
    signin,
    webhooks,
)

PAGES = (signin, conversations, lines, messages, webhooks, contacts, settings, sandbox,
         analytics)


def routes(services: ConsoleServices) -> list[BaseRoute]:
    return [route for module in PAGES for route in module.routes(services)]
