"""Pieces every response shares: the error envelope fields, and how times are written."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from utils.text import has_control_character


def _as_utc(moment: datetime) -> datetime:
    # The service stores UTC without an offset; answers say so (RFC 3339 needs the offset).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# A time the service recorded (created, started, finished): UTC, written with its offset.
UtcTime = Annotated[datetime, AfterValidator(_as_utc)]
# A time as the source holds it: wall-clock in INPUT_TIMEZONE, written without an offset.
SourceTime = Annotated[
    datetime,
    WithJsonSchema({"type": "string", "description": "ISO 8601 wall-clock time in INPUT_TIMEZONE, no offset"}),
]


# The patterns names must match, and what an error says instead of the regular expression.
IDENTIFIER = r"^[A-Za-z0-9_$]{1,64}$"
TABLE_NAME = r"^([A-Za-z0-9_$]{1,64}\.)?[A-Za-z0-9_$]{1,64}$"
PATTERN_WORDS = {
    IDENTIFIER: "a column name is 1 to 64 ASCII letters, digits, _ or $",
    TABLE_NAME: "a table name is 1 to 64 ASCII letters, digits, _ or $, optionally after `schema.`",
}


def _exact_name(value: str) -> str:
    # Refused, not trimmed: "topics " would otherwise be stored beside "topics" as another name, or
    # silently become it. Control characters break CSV, logs and the dashboard alike.
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    if has_control_character(value):
        raise ValueError("must not contain control characters (tabs, line breaks)")
    return value


# Every name a user gives (dataset, rule set, pattern set, model, label): compared byte for byte.
UserName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_exact_name)]


class Envelope(BaseModel):
    error_code: int = 200
    error_message: str = "OK"


class ErrorEnvelope(BaseModel):
    """Every error: `error_code` is the HTTP status, `error_message` says what and why."""

    error_code: int
    error_message: str


_MEANINGS = {
    400: "the request names something that does not exist or cannot be used",
    401: "missing API key",
    403: "API key not accepted",
    404: "not found",
    409: "conflicts with the current state (a name taken, in use, finished)",
    413: "upload or body over the limit",
    422: "validation error naming the field and the reason",
    500: "failed to start or to read (the cause is named)",
    503: "the output schema cannot be reached",
}


def error_responses(*codes: int) -> dict[int | str, dict]:
    """OpenAPI `responses` for the error codes a router's operations can answer."""
    return {code: {"model": ErrorEnvelope, "description": _MEANINGS[code]} for code in codes}
