"""Administration from the shell: `python -m workers.cli --help`."""

import argparse
import csv
import sys
from pathlib import Path

from sqlalchemy import inspect

from models.keyword import KeywordModel, KeywordRule
from settings import get_settings
from utils.db.engines import output_engine, source_engine
from utils.db.migrating import SchemaVersionError, check_output_schema, upgrade_output_schema
from utils.db.model_store import add_model
from utils.demo import posts_table, seed_posts

DEMO_RULES = Path(__file__).resolve().parent.parent / "utils" / "demo_data" / "keyword_rules.csv"


def read_keyword_rules(path: Path) -> list[KeywordRule]:
    """Rules from a CSV with a header `label,keyword` and an optional `weight` column."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = set(reader.fieldnames or [])
        if not {"label", "keyword"} <= fields:
            raise ValueError(f"{path}: the header must name the columns label and keyword (found {sorted(fields)})")
        rules = []
        for line, row in enumerate(reader, start=2):
            label, keyword = (row.get("label") or "").strip(), (row.get("keyword") or "").strip()
            if not label or not keyword:
                raise ValueError(f"{path}, line {line}: label and keyword must not be empty")
            try:
                weight = float(row.get("weight") or 1.0)
            except ValueError as exc:
                raise ValueError(f"{path}, line {line}: weight {row.get('weight')!r} is not a number") from exc
            rules.append(KeywordRule(label, keyword, weight))
    if not rules:
        raise ValueError(f"{path}: no rules")
    return rules


def register_keyword_model(name: str, path: Path) -> tuple[int, str]:
    """Store a keyword model built from a rules CSV as a new version of `name`."""
    model = KeywordModel(read_keyword_rules(path))
    model.matcher  # noqa: B018 - build once so a bad rule set fails here, not in a worker
    check_output_schema()
    with output_engine().begin() as conn:
        row = add_model(
            conn,
            name,
            model.kind,
            model.to_bytes(),
            model.labels_,
            {"rules_file": path.name, "rules": len(model.rules)},
            model.library_versions(),
        )
    return row.version, row.sha256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create the output schema or upgrade it to this code's revision")
    reg = sub.add_parser("register-keywords", help="store a keyword model from a CSV (label,keyword[,weight])")
    reg.add_argument("name")
    reg.add_argument("csv", type=Path)
    demo = sub.add_parser("demo", help="seed a demo source table of Chinese posts and a demo keyword model")
    demo.add_argument("--rows", type=int, default=20_000)
    demo.add_argument("--table", default="posts")
    demo.add_argument("--if-missing", action="store_true", help="leave an existing demo table alone")
    args = parser.parse_args(argv)

    try:
        if args.command == "init-db":
            before, after = upgrade_output_schema()
            if before == after:
                print(f"output schema at revision {after}: nothing to do")
            else:
                print(f"output schema upgraded from revision {before or 'none'} to {after}")
        elif args.command == "register-keywords":
            version, sha = register_keyword_model(args.name, args.csv)
            print(f"model {args.name} version {version} stored (sha256 {sha[:12]})")
        elif args.command == "demo":
            engine = source_engine()
            if args.if_missing and get_settings().input_host:
                # `make run` against a configured source: never write into a database we only read.
                print("source is a configured database (INPUT_HOST); no demo table seeded")
            elif args.if_missing and inspect(engine).has_table(args.table):
                print(f"demo table {args.table} exists; left as it is")
            else:
                upgrade_output_schema()
                seed_posts(engine, posts_table(args.table), args.rows)
                print(f"demo table {args.table}: {args.rows} posts over 2026")
                version, _ = register_keyword_model("demo_keywords", DEMO_RULES)
                print(f"model demo_keywords version {version} stored")
    except (ValueError, SchemaVersionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
