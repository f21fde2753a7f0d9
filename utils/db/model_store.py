"""Stored models: bytes + sha256, versioned by name. Loading into labelers is `models.codec`'s job."""

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.engine import Row

from settings import Settings, get_settings
from utils.db.tables import model_names, models
from utils.db.task_store import utcnow

# Everything but the bytes and the validation details, which can be large.
_META = [c for c in models.c if c.name not in ("blob", "details", "signature")]


def add_model(
    conn: Connection,
    name: str,
    kind: str,
    blob: bytes,
    labels: list[str],
    params: dict[str, Any],
    library_versions: dict[str, str],
    **provenance: Any,
) -> Row:
    """Store a new version of model `name`; returns its row (without bytes).

    `provenance` fills the optional columns: task_id, dataset_id, dataset_sha256, rule_set_id,
    pattern_set, training_key, metrics, details.
    """
    version = _next_version(conn, name)
    conn.execute(
        insert(models).values(
            name=name,
            version=version,
            kind=kind,
            params=params,
            blob=blob,
            sha256=hashlib.sha256(blob).hexdigest(),
            signature=sign(blob),
            labels=labels,
            library_versions=library_versions,
            created_at=utcnow(),
            **provenance,
        )
    )
    return conn.execute(select(*_META).where(models.c.name == name, models.c.version == version)).one()


def sign(blob: bytes, settings: Settings | None = None) -> str:
    """The HMAC-SHA256 of model bytes under MODEL_SIGNING_KEY."""
    key = (settings or get_settings()).model_signing_key.get_secret_value().encode()
    return hmac.new(key, blob, hashlib.sha256).hexdigest()


def _next_version(conn: Connection, name: str) -> int:
    """Take the next version number of `name` under a row lock held to the end of the transaction."""
    # A plain read (no locks) of versions stored before the counter existed; INSERT … SELECT would
    # lock the models index and deadlock two first trainings of one name.
    highest = conn.execute(select(func.coalesce(func.max(models.c.version), 0)).where(models.c.name == name)).scalar()
    first = insert(model_names).values(name=name, last_version=highest)
    conn.execute(first.prefix_with("IGNORE", dialect="mysql").prefix_with("OR IGNORE", dialect="sqlite"))
    counter = select(model_names.c.last_version).where(model_names.c.name == name).with_for_update()
    version = int(conn.execute(counter).scalar_one()) + 1
    conn.execute(update(model_names).where(model_names.c.name == name).values(last_version=version))
    return version


def latest_models(conn: Connection, names: Sequence[str]) -> dict[str, Row]:
    """The newest version of each named model that exists (metadata only, no bytes)."""
    newest = (
        select(models.c.name, func.max(models.c.version).label("version"))
        .where(models.c.name.in_(list(names)))
        .group_by(models.c.name)
        .subquery()
    )
    columns = (models.c.id, models.c.name, models.c.version, models.c.kind, models.c.sha256, models.c.labels,
               models.c.library_versions)  # fmt: skip
    stmt = select(*columns).join(newest, (models.c.name == newest.c.name) & (models.c.version == newest.c.version))
    return {row.name: row for row in conn.execute(stmt)}


def get_model(conn: Connection, name: str, version: int | None = None) -> Row | None:
    """One version of a model (the newest when `version` is None), without bytes."""
    stmt = select(*_META).where(models.c.name == name)
    if version is not None:
        stmt = stmt.where(models.c.version == version)
    return conn.execute(stmt.order_by(models.c.version.desc()).limit(1)).one_or_none()


def model_by_training(conn: Connection, training_key: str, name: str) -> Row | None:
    """The newest version of `name` trained exactly this way, if any."""
    stmt = select(*_META).where(models.c.training_key == training_key, models.c.name == name)
    return conn.execute(stmt.order_by(models.c.id.desc()).limit(1)).one_or_none()


def list_models(conn: Connection, before_id: int | None, limit: int, name: str | None = None) -> Sequence[Row]:
    """Model versions, newest first, keyset on id."""
    stmt = select(*_META)
    if name is not None:
        stmt = stmt.where(models.c.name == name)
    if before_id is not None:
        stmt = stmt.where(models.c.id < before_id)
    return conn.execute(stmt.order_by(models.c.id.desc()).limit(limit)).all()


def model_details(conn: Connection, model_id: int) -> bytes | None:
    value = conn.execute(select(models.c.details).where(models.c.id == model_id)).scalar_one_or_none()
    return bytes(value) if value is not None else None


def model_blob(
    conn: Connection, model_id: int, settings: Settings | None = None
) -> tuple[bytes, str, str, dict[str, str]]:
    """The bytes of a model with what loading them needs: sha256, kind, library versions.

    Raises ValueError unless the bytes carry the signature MODEL_SIGNING_KEY gives them."""
    columns = (models.c.blob, models.c.sha256, models.c.signature, models.c.kind, models.c.library_versions)
    row = conn.execute(select(*columns).where(models.c.id == model_id)).one()
    blob = bytes(row.blob)
    if not hmac.compare_digest(sign(blob, settings), row.signature):
        raise ValueError(f"model {model_id}: its bytes are not signed with this server's MODEL_SIGNING_KEY; not loaded")
    return blob, row.sha256, row.kind, dict(row.library_versions or {})


def delete_models(conn: Connection, ids: Sequence[int]) -> int:
    return conn.execute(delete(models).where(models.c.id.in_(list(ids)))).rowcount
