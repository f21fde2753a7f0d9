"""Dependencies shared by the routers."""

import hmac
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Row
from sqlalchemy.exc import OperationalError

from apis.errors import AudienceError
from models.params import RULE_TYPES
from models.versions import ModelVersionError, check_versions
from settings import Settings, get_settings
from utils.db.engines import output_engine, source_engine


# The dependencies below are `async def` because none of them waits on anything: FastAPI runs a plain
# `def` dependency in its thread pool, a hop that costs more than the work on every request.
async def settings_dep() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dep)]


async def _output_engine(settings: SettingsDep) -> Engine:
    return output_engine(settings)


async def _source_engine(settings: SettingsDep) -> Engine:
    return source_engine(settings)


OutputEngine = Annotated[Engine, Depends(_output_engine)]
SourceEngine = Annotated[Engine, Depends(_source_engine)]


# Declared as security schemes, so Swagger UI offers "Authorize" and clients see what to send.
_API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="one of API_KEYS")
_BEARER = HTTPBearer(auto_error=False, description="one of API_KEYS, as a bearer token")


async def require_api_key(
    settings: SettingsDep,
    x_api_key: Annotated[str | None, Depends(_API_KEY)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
) -> None:
    """When keys are configured, every request must carry one (X-API-Key or Bearer).

    `apis.auth.ApiKeyGuard` decides first, before the body is read; this dependency declares the
    security schemes in the OpenAPI schema and stays as defence in depth."""
    if not settings.api_keys:
        return
    given = x_api_key or (bearer.credentials.strip() if bearer else None)
    if not given:
        raise AudienceError(
            401, "missing API key: send X-API-Key or Authorization: Bearer", {"WWW-Authenticate": "Bearer"}
        )
    # Compare against every key in constant time; never log the key.
    matched = False
    for key in settings.api_keys:
        matched |= hmac.compare_digest(given.encode(), key.encode())
    if not matched:
        raise AudienceError(403, "API key not accepted")


def connect_output(engine: Engine, code: int = 503, message: str = "cannot connect to output schema") -> Connection:
    """A connection to the output schema, or the error envelope's `code` naming the cause."""
    try:
        return engine.connect()
    except OperationalError as exc:
        raise AudienceError(code, f"{message}: {exc.orig}") from exc


def loadable(model: Row, field: str) -> None:
    """400 naming `field` when a stored model needs library versions other than this server's."""
    if model.kind in RULE_TYPES:
        return  # rule models are JSON: no library version to match
    try:
        check_versions(model.kind, (model.library_versions or {}).keys(), model.library_versions)
    except ModelVersionError as exc:
        raise AudienceError(400, f"{field}: model {model.name!r} version {model.version}: {exc}") from exc
