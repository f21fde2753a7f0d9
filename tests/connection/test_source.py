from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, Text, create_engine, text
from sqlalchemy.dialects import mysql

from settings import Settings
from tests.conftest import RANGE, TEST_ENV
from utils.db.engines import source_engine
from utils.source import SourceError, SourceSpec, reflect_source
from utils.text import join_columns

SRC = TEST_ENV["INPUT_SCHEMA"]


def spec(table: str, **kw: object) -> SourceSpec:
    base = {"id_column": "id", "text_columns": ("title", "content"), "time_column": "post_time"}
    base.update(kw)
    return SourceSpec(tables=(table,), **base)  # type: ignore[arg-type]


def test_reflection_finds_the_table(source_posts: str, services: Settings) -> None:
    tables = reflect_source(source_engine(services), spec(source_posts))
    assert list(tables) == [source_posts]


@pytest.mark.parametrize(
    ("table", "kw", "message"),
    [
        ("nope_schema.posts", {}, "schema 'nope_schema'"),
        (f"{SRC}.nope", {}, f"table '{SRC}.nope' does not exist"),
        (f"{SRC}.posts", {"id_column": "pk"}, "id_column: column 'pk'"),
        (f"{SRC}.posts", {"time_column": "created"}, "time_column: column 'created'"),
        (f"{SRC}.posts", {"text_columns": ("title", "body")}, "text_columns: column 'body'"),
        (f"{SRC}.posts", {"id_column": "title"}, "is not an integer column"),
    ],
)
def test_missing_names_are_reported(source_posts: str, services: Settings, table: str, kw: dict, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        reflect_source(source_engine(services), spec(table, **kw))


def test_id_must_be_unique_and_time_a_datetime(services: Settings) -> None:
    engine = source_engine(services)
    meta = MetaData()
    Table("no_key", meta, Column("id", BigInteger), Column("title", Text), Column("content", Text),
          Column("post_time", DateTime))  # fmt: skip
    Table("unique_id", meta, Column("id", BigInteger, unique=True, nullable=False), Column("title", Text),
          Column("content", Text), Column("post_time", DateTime))  # fmt: skip
    Table("text_time", meta, Column("id", BigInteger, primary_key=True), Column("title", Text),
          Column("content", Text), Column("post_time", String(32)))  # fmt: skip
    meta.drop_all(engine)
    meta.create_all(engine)
    with pytest.raises(SourceError, match="id_column: column 'id' of table 'no_key' is neither the primary key"):
        reflect_source(engine, spec("no_key"))
    assert list(reflect_source(engine, spec("unique_id"))) == ["unique_id"]
    with pytest.raises(SourceError, match=r"time_column: column 'post_time' of table 'text_time' is VARCHAR\(32\)"):
        reflect_source(engine, spec("text_time"))


def test_keyset_batches_cover_the_range_in_order(source_posts: str, services: Settings) -> None:
    table = reflect_source(source_engine(services), spec(source_posts))[source_posts]
    engine = source_engine(services)
    with engine.connect() as conn:
        count, lo, hi = table.count_in_range(conn, *RANGE)
        expected = conn.execute(
            text(f"SELECT COUNT(*) FROM {SRC}.posts WHERE post_time >= :a AND post_time < :b"),
            {"a": RANGE[0], "b": RANGE[1]},
        ).scalar()
        seen: list[int] = []
        after = lo - 1
        while True:
            ids, texts = table.read_batch(conn, after, hi, *RANGE, limit=997)
            if not ids:
                break
            assert len(texts) == len(ids)
            seen += ids
            after = ids[-1]
    assert count == expected == len(seen) == len(set(seen))
    assert seen == sorted(seen)
    assert seen[0] == lo and seen[-1] == hi


def test_the_server_joins_text_columns_as_join_columns_does(services: Settings) -> None:
    """NULL and empty columns are skipped, a column of spaces is kept, under a PAD SPACE collation too."""
    values = [("标题", "内容"), (None, "内容"), ("", "内容"), ("   ", "内容"), ("标题 ", None), (None, None), ("", "")]
    table = Table(
        "joined", MetaData(), Column("id", BigInteger, primary_key=True), Column("post_time", DateTime),
        Column("title", String(50, collation="utf8mb4_general_ci")), Column("content", Text),
        schema=services.input_schema,
    )  # fmt: skip
    engine = source_engine(services)
    table.drop(engine, checkfirst=True)
    table.create(engine)
    with engine.begin() as conn:
        rows = [{"id": i, "post_time": RANGE[0], "title": t, "content": c} for i, (t, c) in enumerate(values, 1)]
        conn.execute(table.insert(), rows)
    source = reflect_source(engine, spec(f"{services.input_schema}.joined"))[f"{services.input_schema}.joined"]
    with engine.connect() as conn:
        ids, texts = source.read_batch(conn, 0, len(values), *RANGE, limit=100)
    assert ids == list(range(1, len(values) + 1))
    assert texts == [join_columns(pair) for pair in values]
    assert texts[3] == "   \n内容" and texts[5] == ""


@pytest.mark.parametrize("embedded", [False, True])
def test_texts_read_as_utf8_are_the_texts_encoded(services: Settings, embedded: bool, tmp_path: Path) -> None:
    """Whatever the columns' charsets (gbk and latin1 here, as older Chinese databases have them), the
    server converts to UTF-8 as it does for the decoded read; SQLite's texts are encoded by the client."""
    values = [("标题", "内容😂"), (None, "內容"), ("", "ｆｕｌｌ"), ("   ", "é"), ("标题 ", None), (None, None)]
    table = Table(
        "charsets", MetaData(), Column("id", BigInteger, primary_key=True), Column("post_time", DateTime),
        Column("title", String(50).with_variant(mysql.VARCHAR(50, charset="gbk"), "mysql")),
        Column("content", Text().with_variant(mysql.TEXT(charset="utf8mb4"), "mysql")),
        Column("extra", String(50).with_variant(mysql.VARCHAR(50, charset="latin1"), "mysql")),
        schema=None if embedded else services.input_schema,
    )  # fmt: skip
    engine = create_engine(f"sqlite:///{tmp_path / 'source.sqlite'}") if embedded else source_engine(services)
    table.drop(engine, checkfirst=True)
    table.create(engine)
    with engine.begin() as conn:
        rows = [
            {"id": i, "post_time": RANGE[0], "title": t, "content": c, "extra": "café" if i % 2 else None}
            for i, (t, c) in enumerate(values, 1)
        ]
        conn.execute(table.insert(), rows)
    name = "charsets" if embedded else f"{services.input_schema}.charsets"
    source = reflect_source(engine, spec(name, text_columns=("title", "content", "extra")))[name]
    with engine.connect() as conn:
        ids, texts = source.read_batch(conn, 0, len(values), *RANGE, limit=100)
        utf8_ids, encoded = source.read_batch_utf8(conn, 0, len(values), *RANGE, limit=100)
    assert utf8_ids == ids == list(range(1, len(values) + 1))
    assert texts[:3] == ["标题\n内容😂\ncafé", "內容", "ｆｕｌｌ\ncafé"] and texts[5] == ""
    assert encoded == [text.encode() for text in texts]


def test_an_id_column_that_can_hold_null_is_refused(services: Settings) -> None:
    """Keyset reads never reach a row whose id is NULL: a unique index allows many, a view may hold them."""
    engine = source_engine(services)
    with engine.begin() as conn:
        conn.execute(text("DROP VIEW IF EXISTS null_id_view"))
        conn.execute(text("DROP TABLE IF EXISTS null_id"))
        conn.execute(text("CREATE TABLE null_id (id BIGINT NULL UNIQUE, title TEXT, content TEXT, post_time DATETIME)"))
        conn.execute(text("CREATE VIEW null_id_view AS SELECT id, title, content, post_time FROM null_id"))
    for table in ("null_id", "null_id_view"):
        with pytest.raises(SourceError, match=f"id_column: column 'id' of table '{table}' can hold NULL"):
            reflect_source(engine, spec(table))


def test_a_view_over_a_primary_key_is_accepted(source_posts: str, services: Settings) -> None:
    engine = source_engine(services)
    with engine.begin() as conn:
        conn.execute(text("CREATE OR REPLACE VIEW posts_view AS SELECT id, title, content, post_time FROM posts"))
    assert list(reflect_source(engine, spec("posts_view"))) == ["posts_view"]


@pytest.mark.parametrize(
    "tables",
    [
        ("posts", f"{SRC}.posts"),
        (f"{SRC}.posts", "posts"),
        ("posts", "posts"),
    ],
)
def test_the_same_table_named_twice_is_refused(source_posts: str, services: Settings, tables: tuple) -> None:
    with pytest.raises(SourceError, match="name the same table: its rows would be labeled twice"):
        reflect_source(source_engine(services), SourceSpec(tables, "id", ("title", "content"), "post_time"))


@pytest.mark.parametrize(
    "table",
    [
        "information_schema.TABLES",
        "information_schema.PARTITIONS",
        "INFORMATION_SCHEMA.ROUTINES",
        "mysql.user",
        "performance_schema.threads",
        "sys.version",
    ],
)
def test_system_schemas_are_never_a_source(services: Settings, table: str) -> None:
    with pytest.raises(SourceError, match="system schema"):
        reflect_source(source_engine(services), spec(table, id_column="TABLE_ROWS"))


def test_another_schema_is_not_the_source(source_posts: str, services: Settings) -> None:
    # The output schema exists and has tables, but it is not INPUT_SCHEMA.
    with pytest.raises(SourceError, match=f"is not the source schema '{SRC}'"):
        reflect_source(source_engine(services), spec(f"{services.output_schema}.tasks"))
