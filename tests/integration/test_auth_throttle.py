"""Failed authentications are throttled before the secret is checked: past the limit from one
address, or against one key id, a new secret is answered 429 with Retry-After; the key's owner,
at an address it has succeeded from, is not locked out by others' failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bluewire.services.accounts import Authenticator

from ..databases import Engine
from ..server import KEY_ID, SECRET, ServerProcess

LIMIT = 3


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory,
              engine: Engine) -> Iterator[ServerProcess]:
    """One server per engine: each engine's run starts with no key throttled."""
    server = ServerProcess(tmp_path_factory.mktemp("throttle"), engine=engine,
                           env={"BLUEWIRE_AUTH_FAILURES_PER_MINUTE": str(LIMIT)}).start()
    yield server
    server.stop()


def client_from(server: ServerProcess, address: str, secret: str,
                key_id: str = KEY_ID) -> httpx.Client:
    """A client whose connections come from `address` (any 127.x.y.z is this machine)."""
    return httpx.Client(base_url=server.url,
                        transport=httpx.HTTPTransport(local_address=address),
                        headers={"sb-api-key-id": key_id, "sb-api-secret-key": secret})


def test_a_flood_of_wrong_secrets_is_answered_429_and_the_owner_still_gets_in(
    throttled: ServerProcess,
) -> None:
    with client_from(throttled, "127.0.0.1", SECRET) as owner:
        assert owner.get("/api/v2/messages").status_code == 200
    with client_from(throttled, "127.0.0.2", "guess") as attacker:
        for attempt in range(LIMIT):
            attacker.headers["sb-api-secret-key"] = f"guess-{attempt}"
            assert attacker.get("/api/v2/messages").status_code == 401
        attacker.headers["sb-api-secret-key"] = "guess-one-more"
        refused = attacker.get("/api/v2/messages")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error_code"] == 4001
    assert "Too many failed authentications" in refused.json()["message"]
    with client_from(throttled, "127.0.0.3", "from-elsewhere") as second:
        assert second.get("/api/v2/messages").status_code == 429  # the key id is throttled
    # Revoking another key makes every process verify its keys again: the owner's next request
    # runs the full check, at an address the key has succeeded from, and gets in.
    throttled.cli("keys", "create", "--account", "admin@bluewire.local", "--key-id", "spare",
                  "--secret", "spare-secret")
    throttled.cli("keys", "revoke", "spare")
    with client_from(throttled, "127.0.0.1", SECRET) as owner:
        assert owner.get("/api/v2/messages").status_code == 200


def test_guesses_from_an_address_the_key_succeeded_from_are_throttled_too(
    throttled: ServerProcess,
) -> None:
    """Someone behind the owner's address (a shared NAT) cannot guess unthrottled: that pair
    has a counter of its own, which only its own failures fill."""
    throttled.cli("keys", "create", "--account", "admin@bluewire.local", "--key-id", "shared-nat",
                  "--secret", "shared-nat-secret")
    with client_from(throttled, "127.0.0.5", "shared-nat-secret", "shared-nat") as owner:
        assert owner.get("/api/v2/messages").status_code == 200
    with client_from(throttled, "127.0.0.5", "guess", "shared-nat") as neighbour:
        answers = []
        for attempt in range(LIMIT + 1):
            neighbour.headers["sb-api-secret-key"] = f"neighbour-{attempt}"
            answers.append(neighbour.get("/api/v2/messages").status_code)
    assert answers == [401] * LIMIT + [429]


def test_an_address_guessing_many_key_ids_is_throttled(throttled: ServerProcess) -> None:
    with client_from(throttled, "127.0.0.9", "x") as guesser:
        answers = []
        for number in range(LIMIT + 1):
            guesser.headers["sb-api-key-id"] = f"key-{number}"
            answers.append(guesser.get("/api/v2/messages").status_code)
    assert answers == [401] * LIMIT + [429]


async def test_a_throttled_attempt_never_reaches_the_secret_check(tmp_path: Path) -> None:
    from bluewire.store.database import Database

    database = Database(f"sqlite:///{tmp_path / 'auth.db'}")
    database.migrate()
    checked: list[str] = []
    authenticator = Authenticator(database, failures_per_minute=2)
    authenticator._verify = lambda key_id, secret: checked.append(secret)  # type: ignore[method-assign]
    statuses = []
    for attempt in range(10):
        try:
            await authenticator.authenticate("some-key", f"wrong-{attempt}", "192.0.2.7")
        except Exception as exc:  # the ApiError of a refusal
            statuses.append(getattr(exc, "http_status", 0))
    assert statuses == [401, 401] + [429] * 8
    assert checked == ["wrong-0", "wrong-1"]
