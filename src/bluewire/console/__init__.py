"""The web console: server-rendered pages at /console, served by `bluewire serve` itself.

It is another face of the API: its pages act through the same service objects (services.py),
so every action is validated, refused, recorded, evented and sent to webhooks exactly as the
API does it. It signs in with an API key pair and keeps server-side sessions (sessions.py).

- app.py: `build_console`, the Starlette application and its layers.
- guard.py, csrf.py, sessions.py, headers.py: sign-in, sessions, CSRF
  defences and the security headers; every page is behind them by default.
- rendering.py, nav.py: rendering a page in the shared layout (templates in
  bluewire/web/templates/console/).
- pages/: one module per page (pages/__init__.py says how to add one).
- events.py: the account's live events for pages (the API's event stream, cookie-signed).
- static_files.py, static/: console.css, console.js and the vendored htmx (static/vendor/),
  at content-versioned URLs; nothing is fetched from elsewhere or built at install.
"""

from .app import build_console
from .services import ConsoleServices
from .sessions import ConsoleSessions

PATH = "/console"  # where the Gateway mounts it

__all__ = ["PATH", "ConsoleServices", "ConsoleSessions", "build_console"]
