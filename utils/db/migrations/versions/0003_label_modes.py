"""Single-label and multi-label: a dataset says which it is, a model records how it decides, and a
label row says how far it was from the decision.

- `datasets.multi_label`: datasets stored before this revision trained multi-label models (one
  threshold per label), so they keep that mode; a user may switch one with PATCH.
- `models.decision`: the decision rule of a model stored from now on (single- or multi-label, the
  thresholds and how they were chosen, the minimum score); null for older models.
- `labels.margin`: a classifier's distance from its decision (the label's score minus the runner-up's,
  or minus its threshold); null for rule models and for labels written before. Appended and nullable,
  so MariaDB adds it in place without copying `labels`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD/DROP COLUMN, never a batch copy: on SQLite a batch recreates `datasets`, and dropping the old
# table would cascade to every dataset row.
def upgrade() -> None:
    op.add_column("datasets", sa.Column("multi_label", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("models", sa.Column("decision", sa.JSON(), nullable=True))
    op.add_column("labels", sa.Column("margin", sa.Double(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column in place since 3.35 (Python 3.11 ships a later one).
    for table, column in (("labels", "margin"), ("models", "decision"), ("datasets", "multi_label")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
