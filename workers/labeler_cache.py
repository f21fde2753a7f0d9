"""Labelers loaded from the output schema, cached per process by sha256."""

import hashlib

from sqlalchemy import Engine
from sqlalchemy.exc import NoResultFound

from models.base import Labeler
from models.codec import load_labeler
from utils.db.model_store import model_blob

_cache: dict[str, Labeler] = {}


def get_labeler(engine: Engine, model_id: int, sha256: str) -> Labeler:
    if sha256 not in _cache:
        with engine.connect() as conn:
            try:
                blob, stored_sha, kind, versions = model_blob(conn, model_id)
            except NoResultFound:
                raise ValueError(f"model {model_id} was deleted after the task was created") from None
        if hashlib.sha256(blob).hexdigest() != sha256 or stored_sha != sha256:
            raise ValueError(f"model {model_id}: stored bytes do not match sha256 {sha256}")
        _cache[sha256] = load_labeler(kind, blob, versions)
    return _cache[sha256]
