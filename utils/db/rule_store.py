"""Rule sets and their rules in the output schema. Functions take a connection and never commit."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import Row

from utils.db.tables import rule_sets, rules
from utils.db.task_store import utcnow
from utils.rule_files import Rule


def name_taken(conn: Connection, name: str, other_than: int | None = None) -> bool:
    stmt = select(rule_sets.c.id).where(rule_sets.c.name == name)
    if other_than is not None:
        stmt = stmt.where(rule_sets.c.id != other_than)
    return conn.execute(stmt).first() is not None


def create_rule_set(conn: Connection, name: str, description: str, items: Sequence[Rule]) -> int:
    now = utcnow()
    result = conn.execute(
        insert(rule_sets).values(
            name=name, description=description, rule_count=len(items), created_at=now, updated_at=now
        )
    )
    rule_set_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    conn.execute(
        insert(rules),
        [
            {"rule_set_id": rule_set_id, "position": i, "label": r.label, "pattern": r.pattern, "kind": r.kind,
             "weight": r.weight}
            for i, r in enumerate(items)
        ],
    )  # fmt: skip
    return rule_set_id


def get_rule_set(conn: Connection, rule_set_id: int) -> Row | None:
    return conn.execute(select(rule_sets).where(rule_sets.c.id == rule_set_id)).one_or_none()


def list_rule_sets(conn: Connection, before_id: int | None, limit: int) -> Sequence[Row]:
    stmt = select(rule_sets)
    if before_id is not None:
        stmt = stmt.where(rule_sets.c.id < before_id)
    return conn.execute(stmt.order_by(rule_sets.c.id.desc()).limit(limit)).all()


def rules_of(conn: Connection, rule_set_id: int) -> list[Rule]:
    stmt = (
        select(rules.c.label, rules.c.pattern, rules.c.kind, rules.c.weight)
        .where(rules.c.rule_set_id == rule_set_id)
        .order_by(rules.c.position)
    )
    return [Rule(r.label, r.pattern, r.kind, float(r.weight)) for r in conn.execute(stmt)]


def update_rule_set(conn: Connection, rule_set_id: int, **values: Any) -> None:
    conn.execute(update(rule_sets).where(rule_sets.c.id == rule_set_id).values(**values, updated_at=utcnow()))


def delete_rule_set(conn: Connection, rule_set_id: int) -> bool:
    conn.execute(delete(rules).where(rules.c.rule_set_id == rule_set_id))
    return conn.execute(delete(rule_sets).where(rule_sets.c.id == rule_set_id)).rowcount == 1
