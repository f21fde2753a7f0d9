"""Stored models: bytes + sha256, versioned by name. Loading into labelers is `models.codec`'s job."""

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.engine import Row

from utils.db.tables import models
from utils.db.task_store import utcnow


def add_model(
    conn: Connection,
    name: str,
    kind: str,
    blob: bytes,
    labels: list[str],
    params: dict[str, Any],
    library_versions: dict[str, str],
) -> Row:
    """Store a new version of model `name`; returns its row."""
    version = (conn.execute(select(func.max(models.c.version)).where(models.c.name == name)).scalar() or 0) + 1
    conn.execute(
        insert(models).values(
            name=name,
            version=version,
            kind=kind,
            params=params,
            blob=blob,
            sha256=hashlib.sha256(blob).hexdigest(),
            labels=labels,
            library_versions=library_versions,
            created_at=utcnow(),
        )
    )
    return conn.execute(select(models).where(models.c.name == name, models.c.version == version)).one()


def latest_models(conn: Connection, names: Sequence[str]) -> dict[str, Row]:
    """The newest version of each named model that exists (metadata only, no bytes)."""
    newest = (
        select(models.c.name, func.max(models.c.version).label("version"))
        .where(models.c.name.in_(list(names)))
        .group_by(models.c.name)
        .subquery()
    )
    stmt = select(models.c.id, models.c.name, models.c.version, models.c.kind, models.c.sha256, models.c.labels).join(
        newest, (models.c.name == newest.c.name) & (models.c.version == newest.c.version)
    )
    return {row.name: row for row in conn.execute(stmt)}


def model_blob(conn: Connection, model_id: int) -> tuple[bytes, str]:
    row = conn.execute(select(models.c.blob, models.c.sha256).where(models.c.id == model_id)).one()
    return bytes(row.blob), row.sha256
