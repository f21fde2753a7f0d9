"""Names compare exactly: every column holding a user's label, model, dataset, rule-set or pattern-set
name (and a source table's name) gets the binary collation without PAD SPACE.

Under 3.0, `labels.label` and `labels.model` were `utf8mb4_general_ci`, so "Sport" and "sport", or two
different emoji, collided in the unique key and failed every batch; the other names were `utf8mb4_bin`,
which still pads, so "topics " found "topics". Making comparison stricter cannot create duplicates, so
the upgrade keeps every row. (On SQLite, comparison is by bytes already: nothing to do.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (column, type, collation under 3.0); one ALTER per table, so `labels` is rebuilt once.
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "labels": [
        ("source_table", "VARCHAR(129)", "utf8mb4_general_ci"),
        ("model", "VARCHAR(100)", "utf8mb4_general_ci"),
        ("label", "VARCHAR(100)", "utf8mb4_general_ci"),
    ],
    "chunks": [("source_table", "VARCHAR(129)", "utf8mb4_general_ci")],
    "rules": [("label", "VARCHAR(100)", "utf8mb4_general_ci")],
    "models": [("name", "VARCHAR(100)", "utf8mb4_bin")],
    "model_names": [("name", "VARCHAR(100)", "utf8mb4_bin")],
    "datasets": [("name", "VARCHAR(100)", "utf8mb4_bin")],
    "rule_sets": [("name", "VARCHAR(100)", "utf8mb4_bin")],
    "pattern_sets": [("name", "VARCHAR(100)", "utf8mb4_bin")],
}
EXACT = "utf8mb4_nopad_bin"


def _alter(to_exact: bool) -> None:
    if op.get_bind().dialect.name != "mysql":
        return
    for table, columns in COLUMNS.items():
        changes = ", ".join(
            f"MODIFY `{column}` {kind} CHARACTER SET utf8mb4 COLLATE {EXACT if to_exact else before} NOT NULL"
            for column, kind, before in columns
        )
        op.execute(f"ALTER TABLE `{table}` {changes}")


def upgrade() -> None:
    _alter(to_exact=True)


def downgrade() -> None:
    # Fails on a unique key if names now differ only by case or trailing spaces: that is the point.
    _alter(to_exact=False)
