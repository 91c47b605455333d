"""One request to the server's API, for the commands that talk HTTP.

It uses the standard library's urllib (proxies from the environment included) rather than
httpx: importing httpx alone takes longer than the whole of a short command should.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

err = Console(stderr=True, highlight=False)
TIMEOUT_S = 30.0


def call(url: str, key_id: str, secret: str, method: str, path: str, *,
         params: dict[str, Any] | None = None, payload: Any = None,
         upload: Path | None = None) -> dict[str, Any]:
    """The JSON answer to `method path`; an error answer or no answer is printed and exits 1."""
    import urllib.error  # here: `--help` and the store's commands need none of it
    import urllib.parse
    import urllib.request

    target = url.rstrip("/") + path
    if params:
        target += "?" + urllib.parse.urlencode(params)
    headers = {"sb-api-key-id": key_id, "sb-api-secret-key": secret,
               "accept": "application/json"}
    data: bytes | None = None
    if upload is not None:
        data, headers["content-type"] = _multipart(upload)
    elif payload is not None:
        data = json.dumps(payload).encode()
        headers["content-type"] = "application/json"
    if not target.startswith(("http://", "https://")):
        err.print(f"[red]error:[/red] --server {escape(url)} (or BLUEWIRE_URL) must start "
                  "with http:// or https://")
        raise typer.Exit(2)
    request = urllib.request.Request(target, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        err.print(f"[red]error:[/red] cannot reach {escape(url)}: {escape(str(reason))}")
        raise typer.Exit(1) from None
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = {"message": raw.decode(errors="replace")}
    if not isinstance(body, dict):
        body = {"data": body}
    if status >= 400:
        code = body.get("error_code")
        err.print(f"[red]error {status}[/red]{f' ({code})' if code else ''}: "
                  f"{escape(str(body.get('message') or body))}")
        raise typer.Exit(1)
    return body


def _multipart(path: Path) -> tuple[bytes, str]:
    """A multipart/form-data body holding the file as the field `file`, and its content type."""
    import mimetypes

    boundary = "bluewire-" + secrets.token_hex(16)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    name = path.name.replace('"', "%22").replace("\r", "").replace("\n", "")
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: {kind}\r\n\r\n").encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
