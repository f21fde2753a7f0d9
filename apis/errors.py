"""One error type and the handlers that render every error in the Audience envelope."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from apis.schemas.common import PATTERN_WORDS
from utils.db.errors import cause_of, unavailable

log = logging.getLogger(__name__)


class AudienceError(Exception):
    """An error a user should see: `error_code` is also the HTTP status."""

    def __init__(self, error_code: int, error_message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error_message)
        self.error_code = error_code
        self.error_message = error_message
        self.headers = headers


def database_error(exc: SQLAlchemyError, code: int, message: str) -> AudienceError:
    """`message` and the database's own words as `code`, or as 503 when the database is out of reach:
    never the SQL statement SQLAlchemy's message carries."""
    return AudienceError(503 if unavailable(exc) else code, f"{message}: {cause_of(exc)}")


def envelope(error_code: int, error_message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=error_code, content={"error_code": error_code, "error_message": error_message}, headers=headers
    )


def _field(loc: tuple) -> str:
    # ("body", "source", "tables", 0) -> "source.tables[0]"
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _reason(error: dict) -> str:
    if error["type"] == "string_pattern_mismatch":  # words, not the regular expression
        return PATTERN_WORDS.get(error.get("ctx", {}).get("pattern", ""), error["msg"])
    return str(error["msg"])


def _describe(error: dict) -> str:
    if error["type"] == "json_invalid":  # loc is ("body", offset): say where, not "[7]"
        offset = error["loc"][-1] if len(error["loc"]) > 1 else "?"
        return f"body: not valid JSON at character {offset} ({error.get('ctx', {}).get('error', error['msg'])})"
    return f"{_field(tuple(error['loc']))}: {_reason(error)}"


def describe_validation(exc: RequestValidationError) -> str:
    return "; ".join(_describe(e) for e in exc.errors())


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AudienceError)
    async def _audience(_: Request, exc: AudienceError) -> JSONResponse:
        return envelope(exc.error_code, exc.error_message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return envelope(422, describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return envelope(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # Wherever a route meets a database it cannot reach, the answer is 503, as documented.
        if unavailable(exc):
            log.warning("%s %s: database unavailable: %s", request.method, request.url.path, cause_of(exc))
            return envelope(503, f"cannot reach the database: {cause_of(exc)}")
        log.exception("unhandled database error", exc_info=exc)
        return envelope(500, f"internal error: {type(exc).__name__}")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # A bug stays a 500, in the envelope; the cause goes to the log, not to the client.
        log.exception("unhandled error", exc_info=exc)
        return envelope(500, f"internal error: {type(exc).__name__}")
