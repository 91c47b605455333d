"""One webhook attempt over HTTP: signed, bounded in time and size, guarded against SSRF."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from functools import partial

from .. import __version__
from ..domain.webhooks import RESPONSE_SNIPPET_BYTES, TIMEOUT_S, signature_headers
from ..outbound_guard import RefusedAddress, addresses_of, literal_refusal
from .http1 import ConnectError, Http1Client, ResponseError


@dataclass(frozen=True, slots=True)
class Reply:
    latency_ms: float
    status_code: int | None
    error: str | None
    response: str | None
    retry_after: str | None
    # The address is one this server refuses: no retry can succeed.
    refused: bool = False


class WebhookSender:
    def __init__(self, *, allow_private: bool, connections: int = 256,
                 timeout_s: float = TIMEOUT_S, ssl_context: ssl.SSLContext | None = None) -> None:
        self._allow_private = allow_private
        self._connections = connections
        self._timeout_s = timeout_s
        self._ssl_context = ssl_context  # None: the system's trust store
        self._client: Http1Client | None = None
        self._fixed_headers = (("user-agent", f"bluewire-webhooks/{__version__}"),
                               ("content-type", "application/json"))

    @property
    def timeout_s(self) -> float:
        """How long an attempt may take, whole."""
        return self._timeout_s

    async def start(self) -> None:
        self._client = Http1Client(
            partial(addresses_of, guarded=not self._allow_private),
            limit=self._connections, ssl_context=self._ssl_context)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def post(self, url: str, body: bytes, *, webhook_id: str, secret: str | None,
                   timestamp: int, send_secret: bool = True) -> Reply:
        assert self._client is not None, "the sender is not started"
        headers = list(signature_headers(secret, webhook_id, timestamp, body,
                                         send_secret=send_secret).items())
        started = time.perf_counter()

        def reply(status: int | None = None, error: str | None = None,
                  response: str | None = None, retry_after: str | None = None,
                  refused: bool = False) -> Reply:
            return Reply(round((time.perf_counter() - started) * 1000, 3), status, error,
                         response, retry_after, refused)

        if not self._allow_private:
            literal = literal_refusal(url)
            if literal is not None:
                return reply(error=literal, refused=True)
        try:
            answer = await self._client.post(url, headers, body, timeout_s=self._timeout_s,
                                             fixed_headers=self._fixed_headers,
                                             read_limit=RESPONSE_SNIPPET_BYTES)
        except TimeoutError:
            return reply(error=f"timed out after {self._timeout_s:g} s")
        except ConnectError as exc:
            if isinstance(exc.cause, RefusedAddress):
                return reply(error=str(exc.cause), refused=True)
            return reply(error=f"cannot connect: {exc.cause}")
        except ResponseError as exc:
            return reply(error=str(exc))
        except (OSError, ValueError) as exc:
            return reply(error=f"{type(exc).__name__}: {exc}")
        return reply(answer.status, None, answer.body.decode("utf-8", errors="replace"),
                     answer.retry_after)
