"""Request and response bodies of the predicting API."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, field_validator

from apis.schemas.common import IDENTIFIER, TABLE_NAME, Envelope, SourceTime, UserName, UtcTime
from apis.schemas.preprocessing import PatternSetSnapshot, SetName

# Identifiers are plain ASCII names; anything else (quotes, backticks, `;`, look-alike letters)
# is refused before the database is asked about it.
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER)]
TableName = Annotated[str, StringConstraints(pattern=TABLE_NAME)]
ModelName = UserName


def no_repeats(value: list[str]) -> list[str]:
    repeated = sorted({v for v in value if value.count(v) > 1})
    if repeated:
        raise ValueError(f"names must be unique: {', '.join(repeated)} repeated")
    return value


TaskStatusName = Literal["PENDING", "STARTED", "BREAK", "SUCCESS", "FAILURE"]

# A date, or a date and time with an optional offset; what pydantic would otherwise also read as a time
# (a number, or a string of digits: Unix seconds, so "-1" is 1969) is refused before it parses.
_ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?")


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else f"a JSON {type(value).__name__}"


def _iso_8601(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(
            f"must be an ISO 8601 string (2026-03-01 or 2026-03-01T00:00:00+08:00), not {_json_kind(value)}"
        )
    if not _ISO_8601.fullmatch(value):
        raise ValueError("must be an ISO 8601 date or date-time (2026-03-01 or 2026-03-01T00:00:00+08:00)")
    return value


# Strict models refuse every string for a datetime (FastAPI validates the decoded JSON as Python
# objects); this type takes the ISO 8601 strings, and only those.
IsoTime = Annotated[datetime, Strict(False), BeforeValidator(_iso_8601)]


class SourceIn(BaseModel):
    # Request bodies are parsed strictly: no `true` for 1, no 1.5 or "1" for an integer, no number for
    # a string.
    model_config = ConfigDict(extra="forbid", strict=True)

    tables: list[TableName] = Field(min_length=1, max_length=64, examples=[["posts"]])
    id_column: Identifier = "id"
    text_columns: list[Identifier] = Field(default=["title", "content"], min_length=1, max_length=16)
    time_column: Identifier = "post_time"

    _unique = field_validator("tables", "text_columns")(no_repeats)


class PredictingTaskCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "model_names": ["demo_keywords"],
                    "source": {"tables": ["posts"]},
                    "start_time": "2026-01-01T00:00:00",
                    "end_time": "2027-01-01T00:00:00",
                }
            ]
        },
    )

    model_names: list[ModelName] = Field(min_length=1, max_length=32)
    model_versions: dict[ModelName, Annotated[int, Field(ge=1)]] | None = Field(
        default=None, description="pin a version of some of model_names; the others use their newest"
    )
    source: SourceIn
    start_time: IsoTime = Field(
        description="inclusive; ISO 8601 date or date-time (a date is midnight); without an offset it is read in "
        "the source's zone (INPUT_TIMEZONE)"
    )
    end_time: IsoTime = Field(description="exclusive; ISO 8601; as start_time")
    batch_size: int | None = Field(default=None, ge=1, le=100_000)
    pattern_set: SetName | None = Field(
        default=None, description="name of a preprocessing pattern set: rows whose text matches it are not labeled"
    )

    _unique = field_validator("model_names")(no_repeats)


class ModelRef(BaseModel):
    id: int
    name: str
    version: int
    sha256: str


class TaskConfig(BaseModel):
    models: list[ModelRef]
    source: SourceIn
    start_time: SourceTime
    end_time: SourceTime
    batch_size: int
    pattern_set: PatternSetSnapshot | None = None


class TaskCreated(Envelope):
    task_id: str
    status: TaskStatusName
    config: TaskConfig


class Progress(BaseModel):
    total: int | None = Field(description="rows in range, known once the task is planned")
    done: int
    excluded: int
    labeled: int
    percent: float | None
    rows_per_s: float | None
    eta_s: float | None


class TaskSummary(BaseModel):
    task_id: str
    status: TaskStatusName
    progress: Progress
    created_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None


class TaskDetail(Envelope, TaskSummary):
    abort_requested: bool
    label_counts: dict[str, dict[str, int]] = Field(description="model -> label -> rows")
    error: str | None
    peak_rss_bytes: int
    chunks: dict[str, int] = Field(description="chunk status -> count")
    config: TaskConfig


class TaskList(Envelope):
    tasks: list[TaskSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class ScoredLabel(BaseModel):
    label: str
    score: float


class SampleRow(BaseModel):
    source_table: str
    source_id: int
    text: str | None
    labels: dict[str, list[ScoredLabel]] = Field(description="model -> its labels for this row")


class Sample(Envelope):
    task_id: str
    status: TaskStatusName
    rows: list[SampleRow]


class AbortAccepted(Envelope):
    task_id: str
    status: TaskStatusName
