from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server per test module, sandbox delays zero, the test key pair bootstrapped."""
    process = ServerProcess(tmp_path_factory.mktemp("server")).start()
    yield process
    process.stop()


@pytest.fixture
def api(server: ServerProcess):  # type: ignore[no-untyped-def]
    with server.client() as client:
        yield client


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
