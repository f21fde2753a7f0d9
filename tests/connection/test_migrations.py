"""The output schema's history: release 3.0's tables holding data upgrade to head with nothing lost, the
head equals `utils/db/tables.py`, and processes refuse a schema of another revision."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from apis.app import create_app
from settings import Settings
from tests.services import Process
from utils.db import tables as t
from utils.db.engines import get_engine
from utils.db.migrating import (
    RELEASE_3_0,
    SchemaVersionError,
    _config,
    check_output_schema,
    current_revision,
    head_revision,
    upgrade_output_schema,
)

RELEASE_3_0_DDL = Path(__file__).parent / "schemas"
NOW = datetime(2026, 12, 1, 8, 30)
TASK = "ab" * 16


@contextmanager
def mariadb_schema(services: Settings, suffix: str) -> Iterator[Settings]:
    """Settings whose output schema is a new, empty MariaDB schema, dropped afterwards."""
    name = f"{services.output_schema}_{suffix}"
    server = create_engine("mysql+pymysql://root:@127.0.0.1:3306/?charset=utf8mb4")
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    settings = services.model_copy(update={"output_schema": name})
    try:
        yield settings
    finally:
        engine_of(settings).dispose()  # its pooled connections would hold the schema's metadata locks
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@pytest.fixture(params=["mariadb", "sqlite"])
def schema(request: pytest.FixtureRequest, services: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Settings whose output schema is new and empty, on MariaDB or on a SQLite file."""
    if request.param == "sqlite":
        yield services.model_copy(update={"output_host": "", "var_dir": tmp_path})
        return
    with mariadb_schema(services, "mig") as settings:
        yield settings


def engine_of(settings: Settings) -> Engine:
    return get_engine(settings.output_url)


def create_release_3_0(engine: Engine) -> None:
    """The tables exactly as release 3.0's `create_all` made them (its DDL, as the database printed it)."""
    dialect = "mariadb" if engine.dialect.name == "mysql" else "sqlite"
    ddl = (RELEASE_3_0_DDL / f"release_3_0.{dialect}.sql").read_text()
    with engine.begin() as conn:
        for statement in filter(str.strip, ddl.split(";\n")):
            conn.exec_driver_sql(statement)


def fill(conn: Connection) -> None:
    """A little of everything 3.0 stored: a finished task with chunks, labels and a log, a model, a
    dataset with rows, a rule set with rules, a pattern set."""
    config = {"model_names": ["topics"], "source": {"tables": ["posts"]}, "batch_size": 1000}
    conn.execute(
        text(
            "INSERT INTO tasks (id, type, status, config, total, abort_requested, error, stats, created_at, "
            "started_at, finished_at) VALUES (:id, 'predicting', 'SUCCESS', :config, 2, 0, NULL, :stats, :at, :at, :at)"
        ),
        {"id": TASK, "config": json.dumps(config), "stats": json.dumps({"rows_read": 2}), "at": NOW},
    )
    conn.execute(
        text(
            "INSERT INTO chunks (task_id, source_table, lo, hi, checkpoint, status, attempts, rows_read, "
            "rows_excluded, rows_labeled, label_counts, peak_rss, error, heartbeat_at) VALUES "
            "(:id, 'posts', 0, 2, 2, 'DONE', 1, 2, 0, 2, :counts, 1000, NULL, :at)"
        ),
        {"id": TASK, "counts": json.dumps({"topics": {"体育": 2}}), "at": NOW},
    )
    conn.execute(
        text("INSERT INTO task_log (task_id, at, level, message) VALUES (:id, :at, 'INFO', 'planned 2 rows')"),
        {"id": TASK, "at": NOW},
    )
    for source_id, label in ((1, "体育"), (2, "Sport")):
        conn.execute(
            text(
                "INSERT INTO labels (task_id, source_table, source_id, model, label, score, created_at) "
                "VALUES (:id, 'posts', :sid, 'topics', :label, 1.5, :at)"
            ),
            {"id": TASK, "sid": source_id, "label": label, "at": NOW},
        )
    conn.execute(  # `blob` is a reserved word: let SQLAlchemy quote it
        insert(t.models).values(
            name="topics", version=1, kind="keyword", params={}, blob=b"\x00model bytes\xff", sha256="0" * 64,
            signature="0" * 64, labels=["体育"], library_versions={}, created_at=NOW,
        )
    )  # fmt: skip
    conn.execute(text("INSERT INTO model_names (name, last_version) VALUES ('topics', 1)"))
    conn.execute(
        text(
            "INSERT INTO datasets (name, description, label_set, source_format, encoding, row_count, rejected_count, "
            "label_counts, sha256, created_at, updated_at) VALUES ('weibo', 'd', '[]', 'jsonl', 'utf-8', 1, 0, "
            "'{}', :sha, :at, :at)"
        ),
        {"sha": "1" * 64, "at": NOW},
    )
    dataset_id = conn.execute(text("SELECT id FROM datasets")).scalar_one()
    conn.execute(
        text(
            "INSERT INTO dataset_rows (dataset_id, line_no, split, text, labels) "
            "VALUES (:d, 1, 'train', '今天 NBA 季后赛', '[\"体育\"]')"
        ),
        {"d": dataset_id},
    )
    conn.execute(
        text(
            "INSERT INTO rule_sets (name, description, rule_count, created_at, updated_at) "
            "VALUES ('rules', '', 1, :at, :at)"
        ),
        {"at": NOW},
    )
    rule_set_id = conn.execute(text("SELECT id FROM rule_sets")).scalar_one()
    conn.execute(
        text(
            "INSERT INTO rules (rule_set_id, position, label, pattern, kind, weight) "
            "VALUES (:r, 0, '体育', 'NBA', 'keyword', 1.0)"
        ),
        {"r": rule_set_id},
    )
    conn.execute(
        text(
            "INSERT INTO pattern_sets (name, description, patterns, created_at, updated_at) "
            "VALUES ('ads', '', '[\"加微信\"]', :at, :at)"
        ),
        {"at": NOW},
    )


def snapshot(conn: Connection, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order, with JSON read back as values: of the columns the
    schema has now, or of `columns` (table → names) to compare with an earlier schema."""
    present = columns or columns_of(conn)
    found = {}
    for table in t.metadata.sorted_tables:
        rows = conn.execute(select(*(table.c[name] for name in present[table.name]))).all()
        found[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return found


def columns_of(conn: Connection) -> dict[str, list[str]]:
    return {table: [c["name"] for c in inspect(conn).get_columns(table)] for table in t.metadata.tables}


def test_head_is_the_tables_of_the_code(schema: Settings) -> None:
    before, after = upgrade_output_schema(schema)
    assert (before, after) == (None, head_revision())
    with engine_of(schema).connect() as conn:
        assert current_revision(conn) == head_revision()
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    assert diff == [], diff
    assert check_output_schema(schema) == head_revision()
    # Idempotent: a second upgrade at head changes nothing.
    assert upgrade_output_schema(schema) == (head_revision(), head_revision())


def test_revision_0001_is_release_3_0_exactly(services: Settings) -> None:
    """What the first revision creates is byte for byte what 3.0's create_all made on MariaDB."""
    with mariadb_schema(services, "r30") as settings, engine_of(settings).begin() as conn:
        command.upgrade(_config(conn), RELEASE_3_0)
        made = {
            table: conn.execute(text(f"SHOW CREATE TABLE `{table}`")).one()[1]
            for table in conn.execute(text("SHOW TABLES")).scalars()
            if table != "alembic_version"
        }
        expected = {
            ddl.split("`")[1]: ddl.strip()
            for ddl in filter(str.strip, (RELEASE_3_0_DDL / "release_3_0.mariadb.sql").read_text().split(";\n"))
        }
        assert made == expected


def test_release_3_0_upgrades_with_nothing_lost(schema: Settings) -> None:
    engine = engine_of(schema)
    create_release_3_0(engine)
    with engine.begin() as conn:
        fill(conn)
        columns = columns_of(conn)
        before = snapshot(conn, columns)
    with pytest.raises(SchemaVersionError, match=r"no revision .* make init_db"):
        check_output_schema(schema)

    assert upgrade_output_schema(schema) == (None, head_revision())

    with engine.begin() as conn:
        assert snapshot(conn, columns) == before
        assert current_revision(conn) == head_revision()
        # The new rules hold on the upgraded tables: labels that differ by case or are different emoji are
        # different labels, and a name with a trailing space is another name.
        for label in ("sport", "😀", "😂"):
            conn.execute(
                insert(t.labels).values(
                    task_id=TASK, source_table="posts", source_id=2, model="topics", label=label, score=1.0,
                    created_at=NOW,
                )
            )  # fmt: skip
        assert conn.execute(select(t.models.c.name).where(t.models.c.name == "topics ")).all() == []
        assert conn.execute(select(t.models.c.name).where(t.models.c.name == "Topics")).all() == []
        assert conn.execute(select(t.models.c.name).where(t.models.c.name == "topics")).scalars().all() == ["topics"]
        with pytest.raises(IntegrityError), conn.begin_nested():
            conn.execute(
                insert(t.labels).values(
                    task_id=TASK, source_table="posts", source_id=2, model="topics", label="😀", score=1.0,
                    created_at=NOW,
                )
            )  # fmt: skip
    with engine.connect() as conn:
        labels = set(conn.execute(select(t.labels.c.label)).scalars())
    assert labels == {"体育", "Sport", "sport", "😀", "😂"}


def test_processes_refuse_a_schema_of_another_revision(schema: Settings) -> None:
    upgrade_output_schema(schema)
    engine = engine_of(schema)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": RELEASE_3_0})
    with pytest.raises(SchemaVersionError, match=f"at revision {RELEASE_3_0}, behind .* make init_db"):
        check_output_schema(schema)
    with pytest.raises(SchemaVersionError, match="at revision"):
        create_app(schema)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    with pytest.raises(SchemaVersionError, match="ffffffffffff, which this code does not know"):
        check_output_schema(schema)


def test_worker_refuses_to_start_on_an_old_schema(services: Settings, worker_env: dict, tmp_path: Path) -> None:
    with mariadb_schema(services, "old") as schema:
        refused_by_worker(schema, worker_env, tmp_path)


def refused_by_worker(schema: Settings, worker_env: dict, tmp_path: Path) -> None:
    upgrade_output_schema(schema)
    with engine_of(schema).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": RELEASE_3_0})
    env = {**worker_env, "OUTPUT_SCHEMA": schema.output_schema}
    worker = Process([sys.executable, "-m", "workers.launch", "old", "predicting"], env, tmp_path / "worker.log")
    try:
        worker.proc.wait(timeout=60)
    finally:
        worker.kill()
    assert worker.proc.returncode != 0
    assert "refusing to start" in worker.output() and "make init_db" in worker.output()


def test_label_modes_upgrade_keeps_every_row(schema: Settings) -> None:
    """0002 → 0003: the rows stored under 0002 stay as they were; its datasets stay multi-label (the mode
    their models were trained in), its labels and models have no margin or decision recorded."""
    engine = engine_of(schema)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0002")
        fill(conn)
        columns = columns_of(conn)
        before = snapshot(conn, columns)
    assert upgrade_output_schema(schema) == ("0002", head_revision())
    with engine.begin() as conn:
        assert snapshot(conn, columns) == before
        assert conn.execute(select(t.datasets.c.multi_label)).scalars().all() == [True]
        assert set(conn.execute(select(t.labels.c.margin)).scalars()) == {None}
        assert conn.execute(select(t.models.c.decision)).scalars().all() == [None]
        # The new columns take values: a single-label dataset, a margin, a decision.
        conn.execute(t.datasets.update().values(multi_label=False))
        conn.execute(t.labels.update().where(t.labels.c.source_id == 1).values(margin=0.25))
        conn.execute(t.models.update().values(decision={"multi_label": False}))
    with engine.connect() as conn:
        assert conn.execute(select(t.datasets.c.multi_label)).scalars().all() == [False]
        assert sorted(conn.execute(select(t.labels.c.margin)).scalars(), key=repr) == [0.25, None]
        assert conn.execute(select(t.models.c.decision)).scalars().all() == [{"multi_label": False}]
    # And back: a downgrade to 0002 drops the three columns and keeps every row.
    with engine.begin() as conn:
        command.downgrade(_config(conn), "0002")
        assert columns_of(conn) == columns
        assert snapshot(conn, columns) == before
