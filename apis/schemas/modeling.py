"""Request and response bodies of the modeling API."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from apis.schemas.common import Envelope, UtcTime
from apis.schemas.documenting import ResourceName
from apis.schemas.preprocessing import SetName

TaskStatusName = Literal["PENDING", "STARTED", "BREAK", "SUCCESS", "FAILURE"]


class TrainingCreate(BaseModel):
    # Strict: no `true` for 1, no 1.5 or "1" for an id, no 1 or "yes" for `force`.
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        protected_namespaces=(),
        json_schema_extra={
            "examples": [
                {
                    "dataset_id": 1,
                    "model_type": "term_weight",
                    "model_name": "topics",
                    "params": {"C": 4.0, "tokenizer": "jieba"},
                }
            ]
        },
    )

    dataset_id: int | None = Field(
        default=None, ge=1, description="the labeled data; optional for keyword and regex models (rules alone)"
    )
    model_type: str = Field(
        min_length=1,
        max_length=32,
        description="keyword, regex (rule models from rule_set_id), term_weight, linear_svc, complement_nb, sgd",
    )
    model_name: ResourceName
    params: dict[str, Any] = Field(default_factory=dict, description="checked against the model type's parameters")
    rule_set_id: int | None = Field(default=None, ge=1, description="required by keyword and regex models")
    pattern_set: SetName | None = Field(default=None, description="texts it matches are left out of training")
    force: bool = Field(default=False, description="train again even if the same training is stored")


class ModelSummary(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: int
    name: str
    version: int
    kind: str
    labels: list[str]
    params: dict[str, Any]
    sha256: str
    library_versions: dict[str, str]
    dataset_id: int | None
    dataset_sha256: str | None
    rule_set_id: int | None
    task_id: str | None
    created_at: UtcTime
    multi_label: bool = Field(
        description="false: one label per text (trained on single-label data); true: any number (rule models, "
        "multi-label data)"
    )


class TrainingCreated(Envelope):
    task_id: str | None = Field(description="the training task; null when a stored model was reused")
    status: TaskStatusName
    reused: bool
    model: ModelSummary | None = Field(description="the reused model, when reused")
    config: dict[str, Any]


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    dataset_id: int = Field(ge=1)
    split: Literal["train", "dev", "test"] | None = Field(default=None, description="all rows when omitted")
    version: int | None = Field(default=None, ge=1, description="the newest when omitted")


class TaskCreated(Envelope):
    task_id: str
    status: TaskStatusName
    config: dict[str, Any]


class ModelingTask(Envelope):
    task_id: str
    type: str
    status: TaskStatusName
    config: dict[str, Any]
    result: dict[str, Any] | None = Field(description="when finished: the model and its metrics, or the evaluation")
    error: str | None
    created_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None


class ModelingTaskList(Envelope):
    tasks: list[ModelingTask]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class ModelDetail(Envelope, ModelSummary):
    pattern_set: dict[str, Any] | None
    metrics: dict[str, Any] | None = Field(
        description="dev and test: accuracy (multi-label: subset accuracy and Hamming loss), scikit-learn's "
        "classification report, confusion matrix (single-label), confusion per label, gold × predicted matrix; "
        "training time. Null for a rule model built from its rules alone"
    )
    decision: dict[str, Any] | None = Field(
        description="how the model decides: multi_label, score (probability or decision value), thresholds per "
        "label and threshold_method (how they were chosen), min_score; null for models stored before it was kept"
    )


class ModelList(Envelope):
    models: list[ModelSummary]
    next_cursor: str | None


class ModelsDeleted(Envelope):
    name: str
    versions: list[int]
