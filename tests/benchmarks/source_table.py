"""The bench's source table: N realistic posts loaded with LOAD DATA LOCAL INFILE, kept between runs."""

import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text

from tests.benchmarks.corpus import posts
from utils.demo import posts_table

LOAD_ROWS = 200_000


def _field(value: object) -> str:
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def table_name(rows: int) -> str:
    return f"posts_{rows}"


def ensure_posts(source_url: str, rows: int) -> str:
    """The name of a table of `rows` generated posts in the source schema, loading it if missing."""
    name = table_name(rows)
    engine = create_engine(source_url, connect_args={"local_infile": True})
    try:
        if _complete(engine, name, rows):
            return name
        began = time.perf_counter()
        table = posts_table(name)
        table.drop(engine, checkfirst=True)
        table.create(engine)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "posts.tsv"
            done = 0
            batch = posts(rows)
            while done < rows:
                size = min(LOAD_ROWS, rows - done)
                with path.open("w", encoding="utf-8", newline="\n") as out:
                    for _ in range(size):
                        out.write("\t".join(_field(v) for v in next(batch)) + "\n")
                with engine.begin() as conn:
                    conn.execute(
                        text(
                            f"LOAD DATA LOCAL INFILE :path INTO TABLE `{name}` CHARACTER SET utf8mb4 "
                            "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
                            "(id, title, content, post_time)"
                        ),
                        {"path": str(path)},
                    )
                done += size
                print(f"  loaded {done:,} of {rows:,} posts", file=sys.stderr)
        with engine.begin() as conn:
            conn.execute(text(f"ANALYZE TABLE `{name}`"))
        print(f"generated and loaded {rows:,} posts in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        return name
    finally:
        engine.dispose()


def _complete(engine: Engine, name: str, rows: int) -> bool:
    if not inspect(engine).has_table(name):
        return False
    with engine.connect() as conn:
        count, top = conn.execute(text(f"SELECT COUNT(*), MAX(id) FROM `{name}`")).one()
    return int(count) == rows and int(top or 0) == rows
