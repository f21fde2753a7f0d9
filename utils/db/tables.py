"""Tables of the output schema. Downstream users read `labels` directly: its shape is a contract."""

from sqlalchemy import (
    CHAR,
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.dialects.mysql import DATETIME, LONGBLOB, MEDIUMTEXT, VARCHAR

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

LongText = Text().with_variant(MEDIUMTEXT(), "mysql", "mariadb")
Blob = LargeBinary().with_variant(LONGBLOB(), "mysql", "mariadb")
# BIGINT autoincrement needs INTEGER on SQLite to alias the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Microseconds: task lists page by creation time, and seconds would tie.
Timestamp = DateTime().with_variant(DATETIME(fsp=6), "mysql", "mariadb")
# Names users choose compare exactly, byte for byte: MariaDB's default collation would make "Ads" and
# "ads", or any two emoji, the same name, and every *_bin but the NOPAD one finds "ads" for "ads ".
# (SQLite compares bytes already.) A change of these is a migration: utils/db/migrations.
EXACT_COLLATION = "utf8mb4_nopad_bin"
Name = String(100).with_variant(VARCHAR(100, collation=EXACT_COLLATION), "mysql", "mariadb")
# "schema.table": two identifiers of up to 64 characters and the dot; `Posts` and `posts` are two tables.
TableName = String(129).with_variant(VARCHAR(129, collation=EXACT_COLLATION), "mysql", "mariadb")

tasks = Table(
    "tasks",
    metadata,
    Column("id", CHAR(32), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("config", JSON, nullable=False),
    Column("total", BigInteger, nullable=True),
    Column("abort_requested", Boolean, nullable=False, default=False),
    Column("error", LongText, nullable=True),
    Column("stats", JSON, nullable=True),
    Column("created_at", Timestamp, nullable=False, index=True),
    Column("started_at", Timestamp, nullable=True),
    Column("finished_at", Timestamp, nullable=True),
    mysql_charset="utf8mb4",
)

# One row per id range a `label_chunk` task owns. The checkpoint is the last source id whose
# labels are committed; counters here (not on the task row) keep writers off one hot row.
chunks = Table(
    "chunks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task_id", CHAR(32), ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("source_table", TableName, nullable=False),
    Column("lo", BigInteger, nullable=False),
    Column("hi", BigInteger, nullable=False),
    Column("checkpoint", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("rows_read", BigInteger, nullable=False, default=0),
    Column("rows_excluded", BigInteger, nullable=False, default=0),
    Column("rows_labeled", BigInteger, nullable=False, default=0),
    Column("label_counts", JSON, nullable=False),
    Column("peak_rss", BigInteger, nullable=False, default=0),
    Column("error", LongText, nullable=True),
    Column("heartbeat_at", Timestamp, nullable=True),
    Index(None, "task_id", "status"),
    mysql_charset="utf8mb4",
)

# What a task did, a line per step, batch and error, for `GET …/tasks/{id}/log`. Written in the
# transaction of what it tells (a batch's line commits with the batch), so it never tells of work undone.
task_log = Table(
    "task_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task_id", CHAR(32), nullable=False),
    Column("at", Timestamp, nullable=False),
    Column("level", String(8), nullable=False),
    Column("message", LongText, nullable=False),
    Index(None, "task_id", "id"),
    mysql_charset="utf8mb4",
)

labels = Table(
    "labels",
    metadata,
    Column("task_id", CHAR(32), nullable=False),
    Column("source_table", TableName, nullable=False),
    Column("source_id", BigInteger, nullable=False),
    Column("model", Name, nullable=False),
    Column("label", Name, nullable=False),
    Column("score", Double, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # A classifier's distance from its decision: for a single-label model the label's score minus the
    # runner-up's, for a multi-label one the score minus the label's threshold. Null for rule models.
    Column("margin", Double, nullable=True),
    UniqueConstraint("task_id", "source_table", "source_id", "model", "label"),
    mysql_charset="utf8mb4",
)

# Fitted or rule models, stored as bytes so a worker on any machine can load them.
models = Table(
    "models",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", Name, nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("params", JSON, nullable=False),
    Column("blob", Blob, nullable=False),
    Column("sha256", CHAR(64), nullable=False),
    # HMAC-SHA256 of the bytes under MODEL_SIGNING_KEY: checked before a worker loads them.
    Column("signature", CHAR(64), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("library_versions", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # Where a trained model came from, and what it scored: null for models registered from a CSV.
    Column("task_id", CHAR(32), nullable=True),
    Column("dataset_id", BigInteger, nullable=True),
    Column("dataset_sha256", CHAR(64), nullable=True),
    Column("rule_set_id", BigInteger, nullable=True),
    Column("pattern_set", JSON, nullable=True),
    # sha256 of (dataset content, type, parameters, rules, patterns): the same training is reused.
    Column("training_key", CHAR(64), nullable=True, index=True),
    Column("metrics", JSON, nullable=True),
    # The validation details (one row per dev text) as gzipped CSV, for download.
    Column("details", Blob, nullable=True),
    # How the model decides: {"multi_label", "thresholds", "threshold_method", "min_score"}; null for
    # models stored before it was recorded.
    Column("decision", JSON, nullable=True),
    UniqueConstraint("name", "version"),
    mysql_charset="utf8mb4",
)

# The last version number given to each model name: versions are never given twice, even after a
# delete, and the row lock on it serialises two trainings of one name.
model_names = Table(
    "model_names",
    metadata,
    Column("name", Name, primary_key=True),
    Column("last_version", Integer, nullable=False),
    mysql_charset="utf8mb4",
)

# Labeled datasets uploaded through the documenting API; rows are stored one per text.
datasets = Table(
    "datasets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", Name, nullable=False, unique=True),
    Column("description", Text, nullable=False),
    # [{"name": ..., "description": ...}]: the labels a row may carry.
    Column("label_set", JSON, nullable=False),
    Column("source_format", String(32), nullable=False),
    Column("encoding", String(32), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("rejected_count", Integer, nullable=False),
    # {"train": {"label": rows, ...}, "dev": {...}, "test": {...}}
    Column("label_counts", JSON, nullable=False),
    Column("sha256", CHAR(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # Single-label data (each row one label) trains models that give exactly one label per text.
    Column("multi_label", Boolean, nullable=False, server_default=true()),
    mysql_charset="utf8mb4",
)

dataset_rows = Table(
    "dataset_rows",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("dataset_id", BigInteger, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("split", String(8), nullable=False),
    Column("text", LongText, nullable=False),
    Column("labels", JSON, nullable=False),
    Index(None, "dataset_id", "split", "id"),
    UniqueConstraint("dataset_id", "line_no"),
    mysql_charset="utf8mb4",
)

# Rule sets (label, pattern, kind, weight) that keyword and regex models are built from.
rule_sets = Table(
    "rule_sets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", Name, nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("rule_count", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    mysql_charset="utf8mb4",
)

rules = Table(
    "rules",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("rule_set_id", BigInteger, ForeignKey("rule_sets.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("label", Name, nullable=False),
    Column("pattern", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("weight", Double, nullable=False),
    Index(None, "rule_set_id", "position"),
    mysql_charset="utf8mb4",
)

# Exclusion pattern sets of the preprocessing API: texts matching any pattern are skipped.
pattern_sets = Table(
    "pattern_sets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", Name, nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("patterns", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    mysql_charset="utf8mb4",
)
