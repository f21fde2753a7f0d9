"""The output schema of release 3.0, the last one made by `create_all`: its tables, frozen here.

A deployment whose tables were made by 3.0 has no `alembic_version`; `utils.db.migrating` stamps it
at this revision instead of running it.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
Blob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Name = sa.String(100).with_variant(mysql.VARCHAR(100, collation="utf8mb4_bin"), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.CHAR(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("abort_requested", sa.Boolean(), nullable=False),
        sa.Column("error", LongText, nullable=True),
        sa.Column("stats", sa.JSON(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp, nullable=True),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_tasks_status", "tasks", ["status"])
    op.create_index("ix_tasks_created_at", "tasks", ["created_at"])
    op.create_table(
        "task_log",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.CHAR(32), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("message", LongText, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_task_log"),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_task_log_task_id_id", "task_log", ["task_id", "id"])
    op.create_table(
        "labels",
        sa.Column("task_id", sa.CHAR(32), nullable=False),
        sa.Column("source_table", sa.String(129), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint(
            "task_id",
            "source_table",
            "source_id",
            "model",
            "label",
            name="uq_labels_task_id_source_table_source_id_model_label",
        ),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "models",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", Name, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("blob", Blob, nullable=False),
        sa.Column("sha256", sa.CHAR(64), nullable=False),
        sa.Column("signature", sa.CHAR(64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("library_versions", sa.JSON(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("task_id", sa.CHAR(32), nullable=True),
        sa.Column("dataset_id", sa.BigInteger(), nullable=True),
        sa.Column("dataset_sha256", sa.CHAR(64), nullable=True),
        sa.Column("rule_set_id", sa.BigInteger(), nullable=True),
        sa.Column("pattern_set", sa.JSON(), nullable=True),
        sa.Column("training_key", sa.CHAR(64), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("details", Blob, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
        sa.UniqueConstraint("name", "version", name="uq_models_name_version"),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_models_training_key", "models", ["training_key"])
    op.create_table(
        "model_names",
        sa.Column("name", Name, nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_model_names"),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "datasets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", Name, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("label_set", sa.JSON(), nullable=False),
        sa.Column("source_format", sa.String(32), nullable=False),
        sa.Column("encoding", sa.String(32), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("label_counts", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.CHAR(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
        sa.UniqueConstraint("name", name="uq_datasets_name"),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "rule_sets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", Name, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rule_count", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rule_sets"),
        sa.UniqueConstraint("name", name="uq_rule_sets_name"),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "pattern_sets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", Name, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("patterns", sa.JSON(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pattern_sets"),
        sa.UniqueConstraint("name", name="uq_pattern_sets_name"),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "chunks",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.CHAR(32), nullable=False),
        sa.Column("source_table", sa.String(129), nullable=False),
        sa.Column("lo", sa.BigInteger(), nullable=False),
        sa.Column("hi", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_excluded", sa.BigInteger(), nullable=False),
        sa.Column("rows_labeled", sa.BigInteger(), nullable=False),
        sa.Column("label_counts", sa.JSON(), nullable=False),
        sa.Column("peak_rss", sa.BigInteger(), nullable=False),
        sa.Column("error", LongText, nullable=True),
        sa.Column("heartbeat_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_chunks"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_chunks_task_id_tasks", ondelete="CASCADE"),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_chunks_task_id_status", "chunks", ["task_id", "status"])
    op.create_table(
        "dataset_rows",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("split", sa.String(8), nullable=False),
        sa.Column("text", LongText, nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_rows"),
        sa.UniqueConstraint("dataset_id", "line_no", name="uq_dataset_rows_dataset_id_line_no"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_dataset_rows_dataset_id_datasets", ondelete="CASCADE"
        ),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_dataset_rows_dataset_id_split_id", "dataset_rows", ["dataset_id", "split", "id"])
    op.create_table(
        "rules",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("rule_set_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rules"),
        sa.ForeignKeyConstraint(
            ["rule_set_id"], ["rule_sets.id"], name="fk_rules_rule_set_id_rule_sets", ondelete="CASCADE"
        ),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_rules_rule_set_id_position", "rules", ["rule_set_id", "position"])


def downgrade() -> None:
    for table in (
        "rules",
        "dataset_rows",
        "chunks",
        "pattern_sets",
        "rule_sets",
        "datasets",
        "model_names",
        "models",
        "labels",
        "task_log",
        "tasks",
    ):
        op.drop_table(table)
