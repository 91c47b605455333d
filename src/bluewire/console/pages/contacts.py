"""Contacts: GET <root>/contacts, the account's contacts (found by number, paged), and a
contact's own page at <root>/contacts/<number> to edit it, opt it out or back in, or delete it;
a CSV import at <root>/contacts/import. Every action goes through `ContactService` with the
API's typed requests (domain/wire/contacts.py), so it is checked, refused and announced
(events, the contact_created webhook) as the same API request would be. Another account's
contact is not found (404).

The CSV import: columns phone, first_name, last_name, email (kept as the custom variable
`email`), tags (separated by `;` or `|`). Rows go to `BulkCreate` in chunks of up to
CHUNK; a row the service refuses is reported with its line number and left out, the rest of
its chunk imported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import msgspec
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...domain.errors import ApiError
from ...domain.wire.contacts import (
    BulkContact,
    BulkCreate,
    ContactChange,
    ListContactsQuery,
    NewContact,
    OptOut,
)
from ...store.accounts import Account
from ..forms import read_form
from ..rendering import error_page, page, root_of, streamed_page, templates
from ..services import ConsoleServices

PAGE_SIZE = 50
CHUNK = 1000
MAX_ROWS = 100_000
_ROW_INDEX = re.compile(r"contacts\[(\d+)\]")


def routes(services: ConsoleServices) -> list[BaseRoute]:
    async def render_list(request: Request, *, error: str | None = None,
                          entered: dict[str, str] | None = None,
                          status: int = 200) -> Response:
        account = await services.account_of(request.state.session)
        search = request.query_params.get("number", "").strip()
        try:
            offset = max(0, min(int(request.query_params.get("offset", "0")), 10_000))
        except ValueError:
            offset = 0
        contacts: list[dict[str, Any]] = []
        search_error = None
        try:
            query = ListContactsQuery(phone_number=search or None, limit=PAGE_SIZE + 1,
                                      offset=offset, order_by="created_at",
                                      order_direction="desc")
            contacts = await services.contacts.list(account, query)
        except ApiError as exc:
            search_error = exc.message
        total = (await services.contacts.count(account))["count"]
        return page(request, "console/contacts.html", {
            "contacts": contacts[:PAGE_SIZE], "more": len(contacts) > PAGE_SIZE,
            "offset": offset, "page_size": PAGE_SIZE, "search": search,
            "search_error": search_error, "total": total, "error": error,
            "entered": entered or {},
        }, active="contacts", status=status)

    async def contacts_page(request: Request) -> Response:
        return await render_list(request)

    async def add(request: Request) -> Response:
        form = await read_form(request)
        entered = {name: _text(form.get(name)) for name in
                   ("number", "first_name", "last_name", "tags")}
        account = await services.account_of(request.state.session)
        try:
            created = await services.contacts.create(account, NewContact(
                number=entered["number"], first_name=entered["first_name"] or None,
                last_name=entered["last_name"] or None, tags=_tags(entered["tags"])))
        except ApiError as exc:
            return await render_list(request, error=exc.message, entered=entered, status=400)
        return RedirectResponse(_contact_url(request, created["contact"]["phone"]),
                                status_code=303)

    async def render_contact(request: Request, number: str, *, error: str | None = None,
                             status: int = 200) -> Response:
        account = await services.account_of(request.state.session)
        try:
            contact = (await services.contacts.retrieve(account, number))["contact"]
        except ApiError as exc:
            if exc.http_status == 404:
                return _no_such_contact(request)
            return error_page(request, 400, "Bad request", exc.message)
        return page(request, "console/contact.html", {
            "contact": contact, "error": error,
            "variables": "\n".join(f"{k}={v}" for k, v in contact["custom_variables"].items()),
        }, active="contacts", status=status)

    async def contact_page(request: Request) -> Response:
        return await render_contact(request, request.path_params["number"])

    async def edit(request: Request) -> Response:
        number = request.path_params["number"]
        form = await read_form(request)
        account = await services.account_of(request.state.session)
        try:
            variables = _variables(_text(form.get("custom_variables")))
            current = (await services.contacts.retrieve(account, number))["contact"]
            for name in current["custom_variables"]:  # a line taken away removes it
                variables.setdefault(name, None)
            await services.contacts.update(account, number, ContactChange(
                first_name=_text(form.get("first_name")) or None,
                last_name=_text(form.get("last_name")) or None,
                tags=_tags(_text(form.get("tags"))), custom_variables=variables))
        except ApiError as exc:
            if exc.http_status == 404:
                return _no_such_contact(request)
            return await render_contact(request, number, error=exc.message, status=400)
        except ValueError as exc:
            return await render_contact(request, number, error=str(exc), status=400)
        return RedirectResponse(_contact_url(request, number), status_code=303)

    async def opt_out(request: Request) -> Response:
        number = request.path_params["number"]
        form = await read_form(request)
        account = await services.account_of(request.state.session)
        try:
            contact = (await services.contacts.retrieve(account, number))["contact"]
            await services.contacts.opt_out(account, OptOut(
                number=contact["phone"], opted_out=form.get("opted_out") == "true"))
        except ApiError as exc:
            if exc.http_status == 404:
                return _no_such_contact(request)
            return await render_contact(request, number, error=exc.message, status=400)
        return RedirectResponse(_contact_url(request, number), status_code=303)

    async def delete(request: Request) -> Response:
        number = request.path_params["number"]
        account = await services.account_of(request.state.session)
        try:
            await services.contacts.delete(account, number)
        except ApiError as exc:
            if exc.http_status == 404:
                return _no_such_contact(request)
            return error_page(request, 400, "Bad request", exc.message)
        return RedirectResponse(f"{root_of(request)}/contacts", status_code=303)

    async def import_csv(request: Request) -> Response:
        form = await read_form(request)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return await render_list(request, error="Choose a CSV file to import.", status=400)
        raw = await upload.read()
        try:
            rows, bad = _parse_csv(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, csv.Error, ValueError) as exc:
            return await render_list(request, error=f"The file cannot be read: {exc}",
                                     status=400)
        account = await services.account_of(request.state.session)
        return streamed_page(request, "console/contact_import.html",
                             _imported(services, account, rows, bad), active="contacts")

    return [
        Route("/contacts", contacts_page, methods=["GET"]),
        Route("/contacts/add", add, methods=["POST"]),
        Route("/contacts/import", import_csv, methods=["POST"]),
        Route("/contacts/{number}", contact_page, methods=["GET"]),
        Route("/contacts/{number}/edit", edit, methods=["POST"]),
        Route("/contacts/{number}/opt-out", opt_out, methods=["POST"]),
        Route("/contacts/{number}/delete", delete, methods=["POST"]),
    ]


async def _imported(services: ConsoleServices, account: Account,
                    rows: list[tuple[int, BulkContact]],
                    bad: list[tuple[int, str]]) -> AsyncIterator[str]:
    """The import, a chunk at a time, as HTML: after each chunk a progress line, then the
    result. A row the service refuses (its error names `contacts[i]`) is reported by its CSV
    line and left out; the rest of its chunk goes in."""
    progress = templates().get_template("console/_import_progress.html")
    result = templates().get_template("console/_import_result.html")
    created = updated = done = 0
    total = len(rows)
    yield progress.render(done=0, total=total)
    for start in range(0, total, CHUNK):
        chunk = rows[start:start + CHUNK]
        while chunk:
            try:
                answer = await services.contacts.bulk_create(
                    account, BulkCreate(contacts=[contact for _, contact in chunk]))
            except ApiError as exc:
                found = _ROW_INDEX.search(exc.message)
                index = int(found.group(1)) if found else None
                if index is None or index >= len(chunk):  # not one row's: the chunk's
                    bad.extend((line, exc.message) for line, _ in chunk)
                    break
                bad.append((chunk[index][0], exc.message))
                chunk = chunk[:index] + chunk[index + 1:]
                continue
            created += answer["created"]
            updated += answer["updated"]
            break
        done = min(start + CHUNK, total)
        yield progress.render(done=done, total=total)
    bad.sort()
    yield result.render(imported={"created": created, "updated": updated,
                                  "bad": bad[:200], "bad_count": len(bad)})


def _no_such_contact(request: Request) -> Response:
    return error_page(request, 404, "Not found", "This account has no such contact.")


def _contact_url(request: Request, number: str) -> str:
    return f"{root_of(request)}/contacts/{quote(number, safe='')}"


def _text(value: object) -> str:
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def _tags(text: str) -> list[str]:
    return [tag.strip() for tag in re.split(r"[,;|]", text) if tag.strip()]


def _variables(text: str) -> dict[str, Any]:
    """`name=value` lines; a line without `=` is an error naming it."""
    found: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"custom variables, line {number}: write name=value")
        found[name.strip()] = value.strip()
    return found


def _parse_csv(text: str) -> tuple[list[tuple[int, BulkContact]], list[tuple[int, str]]]:
    """The rows as the service's BulkContact, each with its line number; and the lines that
    are not a contact at all (no phone), with why."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "phone" not in [f.strip() for f in reader.fieldnames]:
        raise ValueError("its first line must name the columns, phone among them")
    rows: list[tuple[int, BulkContact]] = []
    bad: list[tuple[int, str]] = []
    for record in reader:
        line = reader.line_num
        if len(rows) + len(bad) >= MAX_ROWS:
            raise ValueError(f"at most {MAX_ROWS} rows at once")
        values = {(k or "").strip(): (v or "").strip() for k, v in record.items()
                  if isinstance(v, str)}
        phone = values.get("phone", "")
        if not phone:
            bad.append((line, "no phone number"))
            continue
        try:
            contact = msgspec.convert({
                "phone": phone,
                "first_name": values.get("first_name") or None,
                "last_name": values.get("last_name") or None,
                "tags": _tags(values.get("tags", "")),
                "custom_variables": ({"email": values["email"]} if values.get("email")
                                     else {}),
            }, BulkContact)
        except msgspec.ValidationError as exc:
            bad.append((line, str(exc)))
            continue
        rows.append((line, contact))
    return rows, bad
