"""The source database: tables checked by reflection, read by keyset.

A user-chosen table or column name is only ever used after it was found in the database's own
catalogue, and then through SQLAlchemy's quoting: it is never pasted into SQL.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    case,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Row
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from utils.text import join_columns, utf8_of


class Utf8Bytes(FunctionElement[bytes]):
    """An expression's text as UTF-8 bytes: CAST(CONVERT(expr USING utf8mb4) AS BINARY) on MariaDB."""

    type = LargeBinary()
    inherit_cache = True


@compiles(Utf8Bytes, "mysql")
def _utf8_bytes_on_mariadb(element: Utf8Bytes, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(CONVERT({compiler.process(element.clauses, **kw)} USING utf8mb4) AS BINARY)"


class SourceError(ValueError):
    """A table or column the request names is not in the source database."""


@dataclass(frozen=True)
class SourceSpec:
    tables: tuple[str, ...]
    id_column: str
    text_columns: tuple[str, ...]
    time_column: str


def split_name(qualified: str) -> tuple[str | None, str]:
    schema, _, table = qualified.rpartition(".")
    return (schema or None), table


class SourceTable:
    """One reflected source table and the statements the workflow runs on it."""

    def __init__(self, table: Table, spec: SourceSpec, name: str) -> None:
        self.name = name
        self.table = table
        self.id = table.c[spec.id_column]
        self.texts = [table.c[c] for c in spec.text_columns]
        self.time = table.c[spec.time_column]

    def _in_range(self, start: datetime, end: datetime) -> ColumnElement[bool]:
        return (self.time >= start) & (self.time < end)

    def count_in_range(self, conn: Connection, start: datetime, end: datetime) -> tuple[int, int | None, int | None]:
        stmt = select(func.count(), func.min(self.id), func.max(self.id)).where(self._in_range(start, end))
        count, lo, hi = conn.execute(stmt).one()
        return int(count), lo, hi

    def read_batch(
        self, conn: Connection, after: int, hi: int, start: datetime, end: datetime, limit: int
    ) -> tuple[list[int], list[str]]:
        """Ids and texts of the rows with after < id <= hi in the time range, in id order; a row's text
        is its non-empty text columns, one per line (`utils.text.join_columns`).

        On MariaDB, with only string text columns, the server joins them, which spares the client a
        column to decode and a join per row."""
        return self._read(conn, after, hi, start, end, limit, utf8=False)

    def read_batch_utf8(
        self, conn: Connection, after: int, hi: int, start: datetime, end: datetime, limit: int
    ) -> tuple[list[int], list[bytes]]:
        """`read_batch` with each text in UTF-8, for labelers that search bytes: on MariaDB the server
        converts it (from any column charset) and the driver passes the bytes on undecoded, which
        spares the client about 2 µs a row of decoding and encoding again."""
        return self._read(conn, after, hi, start, end, limit, utf8=True)

    def _read(
        self, conn: Connection, after: int, hi: int, start: datetime, end: datetime, limit: int, utf8: bool
    ) -> tuple[list[int], list[Any]]:
        on_server = conn.dialect.name == "mysql" and all(isinstance(c.type, String) for c in self.texts)
        if on_server:
            # CONCAT_WS skips NULLs; an empty column is made one, so neither leaves a blank line. (By its
            # length: under a PAD SPACE collation a column of spaces equals '', and is kept as it is.)
            parts = (case((func.char_length(c) == 0, None), else_=c) for c in self.texts)
            joined: ColumnElement[Any] = func.concat_ws("\n", *parts)
            columns = [self.id, Utf8Bytes(joined) if utf8 else joined]
        else:
            columns = [self.id, *self.texts]
        stmt = select(*columns).where(self.id > after, self.id <= hi, self._in_range(start, end))
        stmt = stmt.order_by(self.id).limit(limit)
        if on_server:
            # The driver's tuples as they are: SQLAlchemy's Row objects cost a tenth of the read here.
            # (Executed by SQLAlchemy all the same, so a lost connection is wrapped and invalidated;
            # both drivers hold the whole result once the statement has run.)
            compiled = stmt.compile(dialect=conn.dialect)
            params: Any = compiled.params
            if compiled.positiontup is not None:  # mysqlclient's %s style
                params = tuple(params[name] for name in compiled.positiontup)
            result = conn.exec_driver_sql(compiled.string, params)
            try:
                rows = result.cursor.fetchall()
            finally:
                result.close()
            return [row[0] for row in rows], [row[1] for row in rows]
        rows = conn.execute(stmt).all()
        texts = [join_columns(row[1:]) for row in rows]
        return [int(row[0]) for row in rows], [utf8_of(text) for text in texts] if utf8 else texts

    def fetch_rows(self, conn: Connection, ids: Sequence[int]) -> dict[int, Row]:
        stmt = select(self.id, *self.texts).where(self.id.in_(list(ids)))
        return {row[0]: row for row in conn.execute(stmt)}


# Schemas of the server itself: never a source, whatever a user may read there.
SYSTEM_SCHEMAS = frozenset({"information_schema", "mysql", "performance_schema", "sys"})


def reflect_source(engine: Engine, spec: SourceSpec) -> dict[str, SourceTable]:
    """Check every table and column in `spec` against the database; raise SourceError naming the first
    problem. A source is a base table or view of the configured input schema, named once."""
    inspector = inspect(engine)
    home = inspector.default_schema_name
    result: dict[str, SourceTable] = {}
    named: dict[tuple[str | None, str], str] = {}
    for qualified in spec.tables:
        schema, name = split_name(qualified)
        if schema is not None and schema.lower() in SYSTEM_SCHEMAS:
            raise SourceError(f"tables: {qualified!r} is in the system schema {schema!r}, which is never a source")
        if schema is not None and schema != home:
            raise SourceError(
                f"tables: schema {schema!r} of table {qualified!r} is not the source schema {home!r} "
                "(INPUT_SCHEMA): a task reads that schema's tables and views only"
            )
        if (home, name) in named:
            raise SourceError(
                f"tables: {named[home, name]!r} and {qualified!r} name the same table: its rows would be labeled twice"
            )
        named[home, name] = qualified
        tables = inspector.get_table_names(schema=schema)
        if name not in tables + inspector.get_view_names(schema=schema):
            raise SourceError(f"tables: table {qualified!r} does not exist in the source")
        columns = {c["name"]: c for c in inspector.get_columns(name, schema=schema)}
        for field, column in (
            ("id_column", spec.id_column),
            ("time_column", spec.time_column),
            *(("text_columns", c) for c in spec.text_columns),
        ):
            if column not in columns:
                raise SourceError(f"{field}: column {column!r} does not exist in table {qualified!r}")
        id_column = columns[spec.id_column]
        if not isinstance(id_column["type"], Integer):
            raise SourceError(f"id_column: column {spec.id_column!r} of table {qualified!r} is not an integer column")
        # Keyset batches (id > last ORDER BY id) never see a NULL id, skip or repeat rows unless ids are
        # unique, and scan the whole table per batch unless they are indexed. A view has no keys to
        # check, but its column says whether it can hold NULL; the task's final count catches the rest.
        if name in tables and not _uniquely_indexed(inspector, name, schema, spec.id_column):
            raise SourceError(
                f"id_column: column {spec.id_column!r} of table {qualified!r} is neither the primary key nor "
                "a unique index: batches need unique, indexed ids"
            )
        if _nullable(engine, inspector, schema or home, name, spec.id_column, id_column):
            raise SourceError(
                f"id_column: column {spec.id_column!r} of table {qualified!r} can hold NULL, and rows with a NULL "
                "id cannot be read by id: the id column must be NOT NULL (a primary key is)"
            )
        time_type = columns[spec.time_column]["type"]
        if not isinstance(time_type, (DateTime, Date)):
            raise SourceError(
                f"time_column: column {spec.time_column!r} of table {qualified!r} is {time_type}, "
                "not a DATETIME, TIMESTAMP or DATE column"
            )
        wanted = dict.fromkeys((spec.id_column, spec.time_column, *spec.text_columns))
        table = Table(name, MetaData(), *(Column(c, columns[c]["type"]) for c in wanted), schema=schema)
        result[qualified] = SourceTable(table, spec, qualified)
    return result


def _nullable(engine: Engine, inspector: Inspector, schema: str | None, name: str, column: str, found: Any) -> bool:
    """Whether `column` can hold NULL. On MariaDB asked of the catalogue, which knows it for views too
    (SQLAlchemy reflects every column of a view as nullable); the names are bound parameters."""
    if engine.dialect.name != "mysql":
        return bool(found.get("nullable", True))
    query = text(
        "SELECT is_nullable FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = :name AND column_name = :column"
    )
    with engine.connect() as conn:
        answer = conn.execute(query, {"schema": schema, "name": name, "column": column}).scalar()
    return answer != "NO"


def _uniquely_indexed(inspector: Inspector, name: str, schema: str | None, column: str) -> bool:
    if inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") == [column]:
        return True
    unique: list[list[str | None]] = [list(u["column_names"]) for u in inspector.get_unique_constraints(name, schema)]
    unique += [list(i["column_names"]) for i in inspector.get_indexes(name, schema=schema) if i.get("unique")]
    return [column] in unique
