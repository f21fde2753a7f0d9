"""Fixtures of the connection tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from utils.db.engines import output_engine
from utils.db.tables import labels, metadata


@pytest.fixture(params=["mariadb", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The output schema's labels table on MariaDB, or on a SQLite file of the test's own."""
    if request.param == "mariadb":
        yield output_engine(request.getfixturevalue("services"))
        return
    engine = create_engine(f"sqlite:///{tmp_path / 'out.sqlite'}")
    metadata.create_all(engine, tables=[labels])
    yield engine
    engine.dispose()
