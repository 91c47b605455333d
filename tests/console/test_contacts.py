"""The Contacts page: add, find, edit, opt out and back in, delete, all through the API's
contact service; a CSV import that reports a bad row by its line and imports the rest; user
text shown as text; another account's contact not found."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ..server import ServerProcess
from .conftest import PHONE, screenshot

PROBES = ['<script>window.__pwned=1</script>', '"><img src=x onerror="window.__pwned=1">',
          'javascript:window.__pwned=1']


def add(page: Page, number: str, first: str = "", last: str = "", tags: str = "") -> None:
    page.goto("/console/contacts")
    form = page.locator("form[action$='/contacts/add']")
    form.get_by_label("Number (E.164)").fill(number)
    form.get_by_label("First name").fill(first)
    form.get_by_label("Last name").fill(last)
    form.get_by_label("Tags (comma separated)").fill(tags)
    form.get_by_role("button", name="Add contact").click()


def test_a_contact_is_added_edited_opted_out_and_deleted(
    page: Page, console_server: ServerProcess,
) -> None:
    number = "+14155557001"
    add(page, number, "Ada", "Lovelace", "vip, new")
    expect(page).to_have_url(re.compile(r"/console/contacts/%2B14155557001$"))
    expect(page.locator(".contact-name")).to_have_text("Ada Lovelace")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Custom variables (one name=value a line)").fill("plan=gold")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".contact-name")).to_have_text("Grace Lovelace")
    with console_server.client() as api:
        shown = api.get(f"/api/v2/contacts/{number}").json()["contact"]
    assert shown["first_name"] == "Grace" and shown["custom_variables"] == {"plan": "gold"}
    assert shown["tags"] == ["vip", "new"]
    page.get_by_role("button", name="Opt out").click()
    expect(page.locator("#opt-state")).to_have_text("yes")
    page.get_by_role("button", name="Opt back in").click()
    expect(page.locator("#opt-state")).to_have_text("no")
    page.goto("/console/contacts?number=%2B14155557001")
    expect(page.get_by_role("rowheader", name=number)).to_be_visible()
    screenshot(page, "contacts")
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="Delete contact").click()
    expect(page).to_have_url(re.compile(r"/console/contacts$"))
    with console_server.client() as api:
        assert api.get(f"/api/v2/contacts/{number}").status_code == 404


def test_a_bad_number_is_refused_on_the_page(page: Page) -> None:
    add(page, "not a number")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("input[name=number][required]")).to_have_value("not a number")


def test_a_csv_imports_every_good_row_and_names_the_bad_line(page: Page, tmp_path,
                                                             console_server: ServerProcess) -> None:
    lines = ["phone,first_name,last_name,email,tags"]
    for i in range(2500):
        phone = "+1 415 nope" if i == 1233 else f"+1313555{i:04d}"
        lines.append(f"{phone},F{i},L{i},p{i}@example.com,imported;batch")
    path = tmp_path / "contacts.csv"
    path.write_text("\n".join(lines) + "\n")
    page.goto("/console/contacts")
    page.get_by_label("CSV file", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importing contacts")
    result = page.locator(".import-result")
    expect(result).to_contain_text("2499 created", timeout=60_000)
    expect(result).to_contain_text("line 1235")  # the header is line 1
    expect(result).to_contain_text("1 row left out")
    progress = page.locator(".import-progress")  # one line as each chunk of 1,000 went in
    expect(progress).to_have_count(4)
    expect(progress.last).to_contain_text(re.compile(r"^\s*2500 of 2500 rows"))
    expect(progress.last).to_be_hidden()  # the result stands in its place
    rows = console_server.sql("SELECT count(*) AS n FROM contacts WHERE number LIKE ?",
                              "+1313555%")
    assert rows == [{"n": 2499}]


def test_user_text_is_shown_as_text(page: Page, console_server: ServerProcess) -> None:
    number = "+14155557002"
    with console_server.client() as api:
        answer = api.post("/api/v2/contacts", json={
            "number": number, "first_name": PROBES[0], "last_name": PROBES[1],
            "tags": [PROBES[2]], "custom_variables": {"x": PROBES[1], "y": PROBES[2]}})
        assert answer.status_code == 200, answer.text
    page.goto("/console/contacts")
    expect(page.get_by_role("rowheader", name=number)).to_be_visible()
    page.goto("/console/contacts/%2B14155557002")
    expect(page.locator(".contact-name")).to_contain_text(PROBES[0])
    expect(page.locator(".fields")).to_contain_text(PROBES[2])
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("a[href^='javascript']").count() == 0


def test_another_accounts_contact_is_not_found(page: Page, console_server: ServerProcess) -> None:
    console_server.cli("accounts", "create", "other-contacts@example.com")
    console_server.cli("keys", "create", "--account", "other-contacts@example.com",
                       "--api-key-id", "other-contacts", "--api-secret-key", "other-secret")
    with console_server.client("other-contacts", "other-secret") as other:
        assert other.post("/api/v2/contacts", json={"number": "+14155557003",
                                                    "first_name": "Theirs"}).status_code == 200
    response = page.goto("/console/contacts/%2B14155557003")
    assert response is not None and response.status == 404
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    deleted = page.request.post("/console/contacts/%2B14155557003/delete",
                                form={"csrf_token": token},
                                headers={"origin": console_server.url})
    assert deleted.status == 404
    with console_server.client("other-contacts", "other-secret") as other:
        assert other.get("/api/v2/contacts/+14155557003").status_code == 200


def test_a_post_without_the_csrf_token_is_refused(page: Page,
                                                  console_server: ServerProcess) -> None:
    refused = page.request.post("/console/contacts/add", form={"number": "+14155557004"},
                                headers={"origin": console_server.url})
    assert refused.status == 403
    with console_server.client() as api:
        assert api.get("/api/v2/contacts/+14155557004").status_code == 404


def test_the_page_fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/console/contacts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "contacts-phone")


def test_a_file_that_is_not_a_contacts_csv_is_refused(page: Page, tmp_path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("name,remark\nAda,hello\n")
    page.goto("/console/contacts")
    page.get_by_label("CSV file", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("phone among them")
