from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..databases import Engine, using
from ..receiver import ReceiverProcess


@pytest.fixture(autouse=True)
def current_engine(engine: Engine) -> Iterator[Engine]:
    """Every integration test runs on each engine: servers it starts get a database of it."""
    with using(engine):
        yield engine


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory,
             engine: Engine) -> Iterator[ReceiverProcess]:
    """A webhook receiver process for the module and engine, so one engine's run never sees
    what the other's left behind (modules with a receiver of their own define this fixture
    themselves)."""
    process = ReceiverProcess(tmp_path_factory.mktemp("receiver")).start()
    yield process
    process.stop()
