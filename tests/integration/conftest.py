from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..databases import Engine, using


@pytest.fixture(autouse=True)
def current_engine(engine: Engine) -> Iterator[Engine]:
    """Every integration test runs on each engine: servers it starts get a database of it."""
    with using(engine):
        yield engine
