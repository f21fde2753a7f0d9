"""Starting a bench run from a clean state: the services it needs, an empty broker, a new output schema."""

import redis
from sqlalchemy import text

from settings import Settings
from utils.db.engines import ensure_database, output_engine
from utils.db.migrating import upgrade_output_schema


def fresh_start(settings: Settings) -> str | None:
    """Check MariaDB and Redis, empty the bench's Redis databases and recreate its output schema with the
    tables this version of Audience creates; what is missing, or None."""
    try:
        redis.Redis.from_url(settings.broker_url, socket_connect_timeout=3).ping()
        ensure_database(settings.source_url)
        ensure_database(settings.output_url)
    except Exception as exc:
        return f"bench needs MariaDB and Redis on 127.0.0.1: {exc}"
    for url in (settings.broker_url, settings.result_backend):
        redis.Redis.from_url(url).flushdb()
    with output_engine(settings).begin() as conn:
        conn.execute(text(f"DROP DATABASE `{settings.output_schema}`"))
    output_engine(settings).dispose()  # its pooled connections had the dropped schema selected
    ensure_database(settings.output_url)
    upgrade_output_schema(settings)
    return None
