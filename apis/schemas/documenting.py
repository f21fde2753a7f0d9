"""Request and response bodies of the documenting API."""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints
from pydantic_core import PydanticCustomError

from apis.schemas.common import Envelope, UserName, UtcTime
from utils.dataset_files import RejectionKind, check_encoding
from utils.dataset_import import ConflictAction
from utils.text import has_control_character

# Control characters but tab and line breaks, which a description may hold.
_CONTROL_BUT_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _prose(value: str) -> str:
    if _CONTROL_BUT_BREAKS.search(value):
        raise PydanticCustomError("control_character", "must not contain control characters but tabs and line breaks")
    return value


def _no_control(value: str) -> str:
    if has_control_character(value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return value


def _encoding(value: str) -> str:
    if value == "auto":
        return value
    try:
        check_encoding(value)
    except ValueError as exc:
        raise PydanticCustomError("encoding", "{reason}", {"reason": str(exc)}) from None
    return value


ResourceName = UserName
Description = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_prose)]
SplitName = Literal["train", "dev", "test"]
# Form fields of the uploads; each refuses what would break reading, storing or showing it (422).
# A column or JSON key: CSV headers are read trimmed, so the rule of names.
FieldName = UserName
Encoding = Annotated[str, StringConstraints(min_length=1, max_length=40), AfterValidator(_encoding)]
LabelSeparator = Annotated[str, StringConstraints(min_length=1, max_length=5), AfterValidator(_no_control)]
SplitRatios = Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_control)]
# The declared label set, as JSON (parsed by the route): room for a few thousand described labels.
LabelsJson = Annotated[str, StringConstraints(max_length=200_000)]


class LabelInfo(BaseModel):
    name: UserName
    description: Annotated[str, StringConstraints(max_length=2_000)] = ""


class RejectedRow(BaseModel):
    line: int = Field(description="line in the file (for a JSON array: position in it, from 1)")
    kind: RejectionKind = Field(description="why, for a machine: one of a small stable set (see README)")
    reason: str


class ConflictOut(BaseModel):
    line: int = Field(description="the later copy")
    first_line: int = Field(description="the text's first copy")
    labels: list[str] = Field(description="the later copy's labels")
    first_labels: list[str] = Field(description="the first copy's labels, as the file gives them")
    action: ConflictAction = Field(
        description="kept_first: this copy rejected; rejected_all: no copy stored; merged: its labels added"
    )


class DatasetSummary(BaseModel):
    dataset_id: int
    name: str
    description: str
    format: str
    encoding: str
    rows: int
    rejected: int
    label_counts: dict[str, dict[str, int]] = Field(description="split -> label -> rows")
    multi_label: bool = Field(description="false: every row has exactly one label (single-label data)")
    sha256: str = Field(description="of the stored rows and their splits")
    created_at: UtcTime
    updated_at: UtcTime


class DatasetCreated(Envelope, DatasetSummary):
    split_from: str = Field(description="the split column, or the stratified split's ratios and seed")
    label_set: list[LabelInfo]
    rejected_rows: list[RejectedRow] = Field(description="the first 200 rejected rows; `rejected` counts all")
    rejected_by_reason: dict[str, int] = Field(description="rejection kind -> rows, counting every rejection")
    conflicts: list[ConflictOut] = Field(
        description="the first 200 later copies of a text with other labels than its first copy, and what "
        "on_conflict did with each"
    )
    conflicts_total: int
    warnings: list[str] = Field(description="what was stored but may not be what you meant (an empty split)")


class DatasetList(Envelope):
    datasets: list[DatasetSummary]
    next_cursor: str | None


class ExampleRow(BaseModel):
    line: int
    split: str
    text: str
    labels: list[str]


class DatasetDetail(Envelope, DatasetSummary):
    label_set: list[LabelInfo]
    split_sizes: dict[str, int]
    examples: list[ExampleRow]


class DatasetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ResourceName | None = None
    description: Description | None = None
    label_set: list[LabelInfo] | None = Field(
        default=None, description="new descriptions; the names must be the dataset's labels"
    )
    multi_label: StrictBool | None = Field(default=None, description="false refused when a row has several labels")


class LabelSet(Envelope):
    dataset_id: int
    labels: list[LabelInfo]


class Deleted(Envelope):
    deleted: int


class RuleOut(BaseModel):
    label: str
    pattern: str
    kind: Literal["keyword", "regex"]
    weight: float


class RuleSetSummary(BaseModel):
    rule_set_id: int
    name: str
    description: str
    rules: int
    labels: list[str] | None = None
    created_at: UtcTime
    updated_at: UtcTime


class RuleSetCreated(Envelope, RuleSetSummary):
    pass


class RuleSetList(Envelope):
    rule_sets: list[RuleSetSummary]
    next_cursor: str | None


class RuleSetDetail(Envelope, RuleSetSummary):
    items: list[RuleOut]


class RuleSetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ResourceName | None = None
    description: Description | None = None
