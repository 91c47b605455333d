"""Signing in and out.

GET <root>/login: the form (the account's API key pair: key id and secret). It sets the
pre-session CSRF cookie the form repeats (csrf.py).
POST <root>/login: checks the pair with the API's own Authenticator (so a revoked key cannot
sign in), then opens a session (sessions.py) and sets its cookie: HttpOnly, SameSite=Lax, the
console's path only, Secure when BLUEWIRE_PUBLIC_URL is https. Failures are limited per client
address and per key id (services/failure_limits.py): past the limit, a 429 page says when to retry.
POST <root>/logout: ends the session (CSRF-checked by the guard, like every POST).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...domain.errors import ApiError
from ...services.failure_limits import FailureLimiter
from ...store.accounts import Account
from .. import csrf
from ..forms import read_form
from ..guard import SIGN_IN
from ..nav import HOME
from ..rendering import page, root_of
from ..services import ConsoleServices
from ..sessions import COOKIE

MAX_KEY_ID = 128  # api_keys.key_id's length
MAX_SECRET = 1024


def routes(services: ConsoleServices) -> list[BaseRoute]:
    limiter = FailureLimiter()
    secure = (services.settings.public_url or "").lower().startswith("https://")
    authenticator, sessions = services.authenticator, services.sessions

    def form(request: Request, wanted: str | None, *, error: str = "", key_id: str = "",
             status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """The form; `wanted`: the page to go to once signed in."""
        root = root_of(request)
        token = request.cookies.get(csrf.SIGN_IN_COOKIE) or csrf.new_token()
        next_path = safe_next(root, wanted)
        response = page(request, "console/signin.html",
                        {"error": error, "key_id": key_id, "signin_token": token,
                         "next": next_path if next_path != root + HOME else ""},
                        status=status, headers=headers)
        response.set_cookie(csrf.SIGN_IN_COOKIE, token, httponly=True, samesite="strict",
                            secure=secure, path=root or "/")
        return response

    async def sign_in_form(request: Request) -> Response:
        if request.state.session is not None:
            root = root_of(request)
            return RedirectResponse(safe_next(root, request.query_params.get("next")), 303)
        return form(request, request.query_params.get("next"))

    async def sign_in(request: Request) -> Response:
        submitted = await read_form(request)
        key_id = str(submitted.get("key_id") or "").strip()
        secret = str(submitted.get("secret") or "")
        wanted = str(submitted.get("next") or "")
        address = request.client.host if request.client else "unknown"
        subjects = [f"address:{address}"] + ([f"key:{key_id}"] if key_id else [])
        wait = limiter.retry_after(*subjects)
        if wait:
            return form(request, wanted, key_id=key_id, status=429,
                        headers={"retry-after": str(wait)},
                        error=f"Too many failed sign-ins. Try again in {wait} seconds.")
        if not key_id or not secret:
            return form(request, wanted, key_id=key_id, status=400,
                        error="Enter the key id and the secret of one of the account's API keys.")
        account = await verify(key_id, secret, address)
        if account is None:
            limiter.failed(*subjects)
            return form(request, wanted, key_id=key_id, status=401,
                        error="That key id and secret are not an API key that can sign in.")
        limiter.succeeded(*subjects)
        token, _ = await sessions.open(account, key_id)
        root = root_of(request)
        response = RedirectResponse(safe_next(root, wanted), 303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure,
                            path=root or "/")
        response.delete_cookie(csrf.SIGN_IN_COOKIE, path=root or "/")
        return response

    async def verify(key_id: str, secret: str, address: str) -> Account | None:
        if (len(key_id) > MAX_KEY_ID or len(secret) > MAX_SECRET
                or not key_id.isprintable() or "\x00" in secret):
            return None  # no key has such a pair, and some stores refuse to look it up
        try:
            return await authenticator.authenticate(key_id, secret, address)
        except ApiError as exc:
            if exc.http_status == 401:
                return None
            raise

    async def sign_out(request: Request) -> Response:
        await sessions.close(request.state.session.token_hash)
        root = root_of(request)
        response = RedirectResponse(root + SIGN_IN, 303)
        response.delete_cookie(COOKIE, path=root or "/", secure=secure, httponly=True,
                               samesite="lax")
        return response

    return [Route(SIGN_IN, sign_in_form, methods=["GET"]),
            Route(SIGN_IN, sign_in, methods=["POST"]),
            Route("/logout", sign_out, methods=["POST"])]


def safe_next(root: str, wanted: str | None) -> str:
    """Where to go after signing in: `wanted` if it is a path of the console (never another
    site: no scheme, no `//host`, no backslash), else the console's home."""
    if (wanted and wanted.startswith(root + "/") and not wanted.startswith("//")
            and "\\" not in wanted and not wanted.startswith(root + SIGN_IN)
            and wanted.isprintable()):
        return wanted
    return root + HOME
