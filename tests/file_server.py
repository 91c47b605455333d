"""A web server on loopback that serves fixed files, standing in for the places a media_url or
photo_url points at."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Files = Mapping[str, tuple[str, bytes]]  # path: (content type, body)


@contextlib.contextmanager
def serving(files: Files, *, unsized: frozenset[str] = frozenset(), set_cookie: str | None = None,
            heard: list[dict[str, str]] | None = None) -> Iterator[str]:
    """Serve `files` (404 for any other path; a query is ignored) until the block ends; its base
    URL. A path in `unsized` is streamed without a content-length; `set_cookie` is sent with
    every file; each request's headers (lower-cased names) are appended to `heard`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if heard is not None:
                heard.append({name.lower(): value for name, value in self.headers.items()})
            path = self.path.split("?", 1)[0]
            found = files.get(path)
            if found is None:
                self.send_error(404)
                return
            content_type, data = found
            self.send_response(200)
            self.send_header("content-type", content_type)
            if set_cookie is not None:
                self.send_header("set-cookie", set_cookie)
            if path not in unsized:
                self.send_header("content-length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
