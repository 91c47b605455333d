from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from .databases import (
    ENGINES,
    POSTGRES_NOT_FOUND,
    POSTGRES_URL_ENV,
    REQUIRE_POSTGRES_ENV,
    SQLITE,
    Engine,
    Postgres,
    postgres_bindir,
    private_cluster,
)
from .server import ServerProcess


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """PostgreSQL for the session: the server at BLUEWIRE_TEST_POSTGRES_URL, else a private
    cluster; skipped when there is neither (failed, if BLUEWIRE_TEST_REQUIRE_POSTGRES=1)."""
    with ExitStack() as stack:
        admin_url = os.environ.get(POSTGRES_URL_ENV)
        if not admin_url:
            bindir = postgres_bindir()
            if bindir is None:
                if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
                    pytest.fail(POSTGRES_NOT_FOUND, pytrace=False)
                pytest.skip(POSTGRES_NOT_FOUND)
            admin_url = stack.enter_context(private_cluster(bindir)).url
        yield stack.enter_context(Postgres(admin_url))


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    """The database engine under test: every test that asks for it runs once on each."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres")
    return SQLITE


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """SQLite (and engine-free) tests first, then PostgreSQL ones: one engine switch a session."""
    def on_postgres(item: pytest.Item) -> bool:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("engine") if callspec is not None else None
        return engine == "postgresql" or "postgres" in getattr(item, "fixturenames", ())

    items.sort(key=on_postgres)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    """One real server per test module and engine, sandbox delays zero, the test key pair
    bootstrapped."""
    process = ServerProcess(tmp_path_factory.mktemp("server"), engine=engine).start()
    yield process
    process.stop()


@pytest.fixture
def api(server: ServerProcess):  # type: ignore[no-untyped-def]
    with server.client() as client:
        yield client


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
