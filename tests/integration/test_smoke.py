from __future__ import annotations

from ..server import SANDBOX_LINE, wait_for


def test_a_message_to_a_sandbox_phone_is_read(api) -> None:  # type: ignore[no-untyped-def]
    sent = api.post("/api/send-message", json={"number": "+14155550100",
                                               "from_number": SANDBOX_LINE, "content": "hi"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "QUEUED"
    handle = sent.json()["message_handle"]

    def read() -> bool:
        return api.get("/api/status", params={"handle": handle}).json()["status"] == "READ"

    wait_for(read)
