"""Request and response bodies of the documenting API."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from apis.schemas.common import Envelope, UserName, UtcTime

ResourceName = UserName
Description = Annotated[str, StringConstraints(max_length=10_000)]
SplitName = Literal["train", "dev", "test"]


class LabelInfo(BaseModel):
    name: UserName
    description: Annotated[str, StringConstraints(max_length=2_000)] = ""


class RejectedRow(BaseModel):
    line: int = Field(description="line in the file (for a JSON array: position in it, from 1)")
    reason: str


class DatasetSummary(BaseModel):
    dataset_id: int
    name: str
    description: str
    format: str
    encoding: str
    rows: int
    rejected: int
    label_counts: dict[str, dict[str, int]] = Field(description="split -> label -> rows")
    sha256: str = Field(description="of the stored rows and their splits")
    created_at: UtcTime
    updated_at: UtcTime


class DatasetCreated(Envelope, DatasetSummary):
    split_from: str = Field(description="the split column, or the stratified split's ratios and seed")
    label_set: list[LabelInfo]
    rejected_rows: list[RejectedRow] = Field(description="the first 200 rejected rows; `rejected` counts all")
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
