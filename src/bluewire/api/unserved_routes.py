"""Resources of the official clients that a self-hosted gateway cannot honestly serve: each
answers 501 saying why and what bluewire offers instead, rather than "No such endpoint".

Location sharing needs Find My sessions with the contact on Apple's side; call forwarding a
carrier line behind the number; carousels and app cards an iMessage app extension signed for
the business; seats are the hosted service's billing; and a bluewire sandbox is a line of the
simulated phone network (api/sandbox_line_routes.py), in which no command runs and no file is
kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from ..domain.errors import ApiError, v3_error
from .endpoint import Endpoint
from .http import Request, Router

NOT_SERVED = 501


@dataclass(frozen=True, slots=True)
class Unserved:
    feature: str
    why: str
    routes: tuple[tuple[str, str], ...]  # (method, path)
    v3: bool = False  # errors in the v3 shape: {"error": {"code", "message"}}


UNSERVED = (
    Unserved("Location sharing",
             "it needs Find My sessions with the contact on Apple's side, which a self-hosted "
             "gateway does not have",
             (("GET", "/api/location"), ("GET", "/api/location/{number}"),
              ("GET", "/api/location/{number}/watch"), ("POST", "/api/request-location"))),
    Unserved("Call forwarding",
             "bluewire's lines carry messages only; forward calls where the number is hosted",
             (("GET", "/api/lines/{sendblue_number}/call-forwarding"),
              ("PUT", "/api/lines/{sendblue_number}/call-forwarding"),
              ("DELETE", "/api/lines/{sendblue_number}/call-forwarding"))),
    Unserved("Carousels and app cards",
             "they need an iMessage app extension signed for the business, which no bluewire "
             "connector can send; send the images or a link as media_url instead",
             (("POST", "/api/send-carousel"),
              ("POST", "/api/messages/{message_handle}/update-app-card"))),
    Unserved("Seats",
             "seats are the hosted service's billing; a bluewire server has accounts and API "
             "keys (bluewire accounts, bluewire keys)",
             (("GET", "/api/v2/seats"), ("GET", "/api/v2/seats/count"),
              ("GET", "/api/v2/seats/{seat_id}"))),
    Unserved("Running code in a sandbox",
             "a bluewire sandbox is a line of its simulated phone network (GET /v3/sandboxes), "
             "not a machine: there is nothing to run commands in or keep files on",
             (("POST", "/v3/sandboxes/{id}/exec"), ("GET", "/v3/sandboxes/{id}/files"),
              ("POST", "/v3/sandboxes/{id}/files")),
             v3=True),
)


def _path_params(path: str) -> type | None:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    if not names:
        return None
    fields = [(name, str) for name in names]
    title = "".join(word.title() for word in path.replace("{", "").replace("}", "")
                    .replace("-", "/").replace("_", "/").split("/") if word)
    return msgspec.defstruct(f"{title}Path", fields, kw_only=True)


def _error(item: Unserved) -> ApiError:
    message = f"{item.feature} is not served by bluewire: {item.why}."
    if item.v3:
        return v3_error(NOT_SERVED, "not_supported", message)
    return ApiError(NOT_SERVED, message, error_key="NOT_SUPPORTED")


def _refuse(item: Unserved) -> Callable[[Request], Awaitable[Any]]:
    async def refuse(_request: Request) -> Any:
        raise _error(item)

    return refuse


def register_unserved_routes(router: Router) -> None:
    for item in UNSERVED:
        for method, path in item.routes:
            router.endpoint(Endpoint(
                method, path, f"{item.feature}: not served here", "Not served",
                params=_path_params(path), errors=(401, NOT_SERVED), body_required=False,
                description=f"Answers 501: {item.why}."), _refuse(item))
