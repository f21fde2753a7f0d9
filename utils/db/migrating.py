"""The output schema's history (Alembic, `utils/db/migrations`): upgraded by `make init_db`, checked by
every API and worker process before it serves, so no process runs against tables it does not know."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from settings import Settings, get_settings
from utils.db.engines import ensure_database, output_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Release 3.0 made its tables with `create_all` and recorded no version: this revision is those tables.
RELEASE_3_0 = "0001"
RELEASE_3_0_TABLES = frozenset(
    {"tasks", "chunks", "task_log", "labels", "models", "model_names", "datasets", "dataset_rows"}
    | {"rule_sets", "rules", "pattern_sets"}
)
UPGRADE_COMMAND = "make init_db (python -m workers.cli init-db)"


class SchemaVersionError(RuntimeError):
    """The output schema is behind or ahead of this code; the message says what to run."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "utils/db/migrations holds no revision"
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade_output_schema(settings: Settings | None = None) -> tuple[str | None, str]:
    """Create the output schema or bring it to the newest revision; (revision before, revision after).

    A schema made by release 3.0 (its tables, no version) is recorded as revision 0001 first, then
    upgraded like any other. Idempotent: at head, nothing runs."""
    settings = settings or get_settings()
    ensure_database(settings.output_url)
    with output_engine(settings).begin() as conn:
        before = current_revision(conn)
        config = _config(conn)
        if before is None:
            present = RELEASE_3_0_TABLES & set(inspect(conn).get_table_names())
            if present == RELEASE_3_0_TABLES:
                command.stamp(config, RELEASE_3_0)
            elif present:
                missing = sorted(RELEASE_3_0_TABLES - present)
                raise SchemaVersionError(
                    f"the output schema holds some of release 3.0's tables but not {missing}: start release 3.0 "
                    "against it once (it creates them), then upgrade"
                )
        command.upgrade(config, "head")
        return before, head_revision()


def check_output_schema(settings: Settings | None = None) -> str:
    """The schema's revision when it is this code's head; SchemaVersionError saying what to run otherwise."""
    settings = settings or get_settings()
    script = ScriptDirectory.from_config(_config())
    head = script.get_current_head()
    engine = output_engine(settings)
    with engine.connect() as conn:
        current = current_revision(conn)
    if current is not None and current == head:
        return current
    where = f"the output schema ({engine.url.render_as_string(hide_password=True)})"
    if current is None:
        raise SchemaVersionError(
            f"{where} has no revision (it is new, or was made by release 3.0): run {UPGRADE_COMMAND} "
            f"to bring it to revision {head}"
        )
    if current in {rev.revision for rev in script.walk_revisions()}:
        raise SchemaVersionError(f"{where} is at revision {current}, behind this code's {head}: run {UPGRADE_COMMAND}")
    raise SchemaVersionError(
        f"{where} is at revision {current}, which this code does not know (it is ahead of {head}): run the "
        "release that upgraded it, or that release's `alembic downgrade` to this one"
    )
