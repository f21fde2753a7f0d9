"""The documenting API: labeled datasets and rule sets, uploaded, managed and downloaded."""

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from apis.deps import OutputEngine, SettingsDep, connect_output
from apis.errors import AudienceError
from apis.paging import id_cursor, next_id_cursor
from apis.schemas.common import error_responses
from apis.schemas.documenting import (
    ConflictOut,
    DatasetCreated,
    DatasetDetail,
    DatasetList,
    DatasetPatch,
    DatasetSummary,
    Deleted,
    Description,
    Encoding,
    ExampleRow,
    FieldName,
    LabelInfo,
    LabelSeparator,
    LabelSet,
    LabelsJson,
    RejectedRow,
    ResourceName,
    RuleOut,
    RuleSetCreated,
    RuleSetDetail,
    RuleSetList,
    RuleSetPatch,
    RuleSetSummary,
    SplitRatios,
)
from utils.dataset_files import FileError, FileTooLarge, Format, ReadOptions
from utils.dataset_import import ConflictPolicy, FieldError, import_dataset, plan_import
from utils.db import dataset_store as ds
from utils.db import rule_store as rs
from utils.db.errors import cause_of
from utils.db.usage import tasks_using
from utils.rule_files import RuleError, read_rules

router = APIRouter(
    prefix="/documenting", tags=["documenting"], responses=error_responses(400, 401, 403, 404, 409, 413, 422, 500, 503)
)
DOWNLOAD_PAGE = 2_000
# The parts of an upload's form held in memory (the file is spooled to disk): one file, the route's
# dozen fields and a few to spare, none over 256 KiB. Beyond them Starlette answers 400 and says why.
UPLOAD_PART_BYTES = 256 * 1024


def _check_size(file: UploadFile, limit: int) -> None:
    if file.size is not None and file.size > limit:
        raise AudienceError(413, f"file: {file.size:,} bytes; the limit is {limit:,} (UPLOAD_MAX_BYTES)")


def _label_set(raw: str | None) -> list[dict[str, str]] | None:
    """The `labels` form field: a JSON list of names or of {name, description}."""
    if raw is None or not raw.strip():
        return None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AudienceError(422, f"labels: not valid JSON: {exc.msg} at column {exc.colno}") from exc
    except RecursionError as exc:
        raise AudienceError(422, "labels: JSON nested too deeply") from exc
    if not isinstance(parsed, list):
        raise AudienceError(422, "labels: a JSON list of label names or of {name, description}")
    items: list[LabelInfo] = []
    for index, item in enumerate(parsed):
        try:
            items.append(LabelInfo(name=item) if isinstance(item, str) else LabelInfo.model_validate(item))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = "".join(f".{part}" for part in error["loc"])
            raise AudienceError(422, f"labels[{index}]{where}: {error['msg']}") from None
    names = [item.name for item in items]
    if not items or len(set(names)) != len(names):
        raise AudienceError(422, "labels: give at least one label, each once")
    return [item.model_dump() for item in items]


def _summary(row: Row) -> DatasetSummary:
    return DatasetSummary(
        dataset_id=row.id,
        name=row.name,
        description=row.description,
        format=row.source_format,
        encoding=row.encoding,
        rows=row.row_count,
        rejected=row.rejected_count,
        label_counts=row.label_counts,
        multi_label=row.multi_label,
        sha256=row.sha256,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _load_dataset(engine: Engine, dataset_id: int) -> Row:
    with connect_output(engine) as conn:
        row = ds.get_dataset(conn, dataset_id)
    if row is None:
        raise AudienceError(404, f"dataset {dataset_id} does not exist")
    return row


def _described(label_set: list[dict[str, str]], given: list[LabelInfo]) -> list[dict[str, str]]:
    """The stored label set with the descriptions `given`; 422 for a label the dataset lacks."""
    known = {item["name"] for item in label_set}
    unknown = sorted({item.name for item in given} - known)
    if unknown:
        raise AudienceError(422, f"label_set: {unknown[0]!r} is not a label of this dataset")
    described = {item.name: item.description for item in given}
    return [{"name": i["name"], "description": described.get(i["name"], i["description"])} for i in label_set]


@router.post(
    "/datasets",
    response_model=DatasetCreated,
    summary="upload a labeled dataset",
    form_limits={"max_files": 1, "max_fields": 20, "max_part_size": UPLOAD_PART_BYTES},
)
def upload_dataset(
    settings: SettingsDep,
    out: OutputEngine,
    file: Annotated[UploadFile, File(description="doccano JSONL/JSON/CSV export, or CSV/TSV/JSON of text and labels")],
    name: Annotated[ResourceName, Form()],
    description: Annotated[Description, Form()] = "",
    format: Annotated[Format, Form(description="auto: from the file name and content")] = "auto",
    encoding: Annotated[Encoding, Form(description="auto detects UTF-8 (± BOM), GB18030, Big5")] = "auto",
    text_field: Annotated[FieldName, Form()] = "text",
    label_field: Annotated[FieldName, Form()] = "label",
    label_separator: Annotated[LabelSeparator, Form(description="between labels in CSV")] = "#",
    split_field: Annotated[FieldName | None, Form(description="a column of train/dev/test")] = None,
    split_ratios: Annotated[
        SplitRatios | None,
        Form(description="train,dev,test shares without split_field: 0.8,0.1,0.1 (0.9,0,0.1 with dev_from_train)"),
    ] = None,
    seed: Annotated[int, Form(ge=0, le=2**31)] = 42,
    labels: Annotated[
        LabelsJson | None, Form(description='declared label set: ["a","b"] or [{"name","description"}]')
    ] = None,
    multi_label: Annotated[
        bool | None, Form(description="false: every row one label (422 otherwise); omitted: detected")
    ] = None,
    on_conflict: Annotated[
        ConflictPolicy,
        Form(description="a text repeated with other labels: keep the first copy, reject every copy, or merge labels"),
    ] = "first",
    dev_from_train: Annotated[
        float | None, Form(gt=0, lt=1, description="move this stratified share of train to dev; test stays as it is")
    ] = None,
) -> DatasetCreated:
    _check_size(file, settings.upload_max_bytes)
    label_set = _label_set(labels)
    try:
        plan = plan_import(
            split_field=split_field or None,
            split_ratios=split_ratios,
            seed=seed,
            dev_from_train=dev_from_train,
            multi_label=multi_label,
            on_conflict=on_conflict,
            label_set=label_set,
        )
    except FieldError as exc:
        raise AudienceError(422, str(exc)) from exc
    options = ReadOptions(
        format=format,
        encoding=encoding,
        text_field=text_field,
        label_field=label_field,
        label_separator=label_separator,
        split_field=split_field or None,
        max_text_chars=settings.max_text_chars,
        max_rows=settings.max_dataset_rows,
        filename=file.filename or "",
    )
    with connect_output(out) as conn:
        if ds.name_taken(conn, name):
            raise AudienceError(409, f"name: a dataset named {name!r} exists")
    try:
        # One transaction: an upload that fails at any row leaves nothing stored.
        with out.begin() as conn:
            result = import_dataset(conn, file.file, options, name, description, plan)
            row = ds.get_dataset(conn, result.dataset_id)
            assert row is not None  # inserted above in this transaction
    except FileTooLarge as exc:
        raise AudienceError(413, str(exc)) from exc
    except FileError as exc:
        raise AudienceError(400, str(exc)) from exc
    except FieldError as exc:
        raise AudienceError(422, str(exc)) from exc
    except IntegrityError as exc:
        raise AudienceError(409, f"name: a dataset named {name!r} exists") from exc
    except SQLAlchemyError as exc:
        raise AudienceError(503, f"cannot store the dataset: {cause_of(exc)}") from exc
    return DatasetCreated(
        **_summary(row).model_dump(),
        split_from=result.split_from,
        label_set=[LabelInfo(**item) for item in result.label_set],
        rejected_rows=[RejectedRow(line=r.line, kind=r.kind, reason=r.reason) for r in result.rejections],
        rejected_by_reason=result.rejected_by_reason,
        conflicts=[
            ConflictOut(
                line=c.line,
                first_line=c.first_line,
                labels=list(c.labels),
                first_labels=list(c.first_labels),
                action=c.action,
            )
            for c in result.conflicts
        ],
        conflicts_total=result.conflicts_total,
        warnings=result.warnings,
    )


@router.get("/datasets", response_model=DatasetList, summary="datasets, newest first")
def list_datasets(
    out: OutputEngine,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=20, description="`next_cursor` of the previous page")] = None,
) -> DatasetList:
    with connect_output(out) as conn:
        rows = ds.list_datasets(conn, id_cursor(cursor), limit + 1)
    return DatasetList(datasets=[_summary(r) for r in rows[:limit]], next_cursor=next_id_cursor(rows, limit))


@router.get("/datasets/{dataset_id}", response_model=DatasetDetail, summary="a dataset: stats and examples")
def read_dataset(dataset_id: int, out: OutputEngine) -> DatasetDetail:
    row = _load_dataset(out, dataset_id)
    with connect_output(out) as conn:
        sizes = ds.split_sizes(conn, dataset_id)
        examples = ds.rows_after(conn, dataset_id, 0, 5)
    return DatasetDetail(
        **_summary(row).model_dump(),
        label_set=[LabelInfo(**item) for item in row.label_set],
        split_sizes=sizes,
        examples=[ExampleRow(line=e.line_no, split=e.split, text=e.text, labels=e.labels) for e in examples],
    )


@router.get("/datasets/{dataset_id}/labels", response_model=LabelSet, summary="the dataset's labels (labels.json)")
def dataset_labels(dataset_id: int, out: OutputEngine) -> LabelSet:
    row = _load_dataset(out, dataset_id)
    return LabelSet(dataset_id=dataset_id, labels=[LabelInfo(**item) for item in row.label_set])


@router.patch(
    "/datasets/{dataset_id}",
    response_model=DatasetDetail,
    summary="rename or describe a dataset, or set its label mode",
)
def patch_dataset(dataset_id: int, patch: DatasetPatch, out: OutputEngine) -> DatasetDetail:
    _load_dataset(out, dataset_id)
    values: dict[str, object] = patch.model_dump(exclude_none=True)
    try:
        with out.begin() as conn:
            # Read under a row lock: two PATCHes describing different labels both keep theirs.
            row = ds.get_dataset(conn, dataset_id, lock=True)
            if row is None:
                raise AudienceError(404, f"dataset {dataset_id} does not exist")
            if "label_set" in values:
                values["label_set"] = _described(row.label_set, patch.label_set or [])
            if patch.multi_label is False and row.multi_label:
                # Every stored row has at least one label: more labels than rows means a row has several.
                labelled = sum(n for per_label in row.label_counts.values() for n in per_label.values())
                line = ds.first_multi_label_line(conn, dataset_id) if labelled > row.row_count else None
                if line is not None:
                    raise AudienceError(422, f"multi_label: false, but the row of line {line} has several labels")
            if patch.name is not None and ds.name_taken(conn, patch.name, other_than=dataset_id):
                raise AudienceError(409, f"name: a dataset named {patch.name!r} exists")
            if values:
                ds.update_dataset(conn, dataset_id, **values)
    except IntegrityError as exc:
        raise AudienceError(409, f"name: a dataset named {patch.name!r} exists") from exc
    return read_dataset(dataset_id, out)


@router.delete("/datasets/{dataset_id}", response_model=Deleted, summary="delete a dataset and its rows")
def delete_dataset(dataset_id: int, out: OutputEngine) -> Deleted:
    _load_dataset(out, dataset_id)
    with out.begin() as conn:
        users = tasks_using(conn, ("dataset_id",), dataset_id)
        if users:
            raise AudienceError(409, f"dataset {dataset_id} is used by running task {users[0]}")
        if not ds.delete_dataset(conn, dataset_id):
            raise AudienceError(404, f"dataset {dataset_id} does not exist")
    return Deleted(deleted=dataset_id)


def _dataset_lines(engine: Engine, dataset_id: int, fmt: str, split: str | None) -> Iterator[bytes]:
    """The file, a keyset page of rows at a time: memory does not grow with the dataset."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["text", "label", "split"])
        yield ("\ufeff" + buffer.getvalue()).encode()  # a BOM, so spreadsheet programs read UTF-8
    after = 0
    while True:
        with engine.connect() as conn:
            rows = ds.rows_after(conn, dataset_id, after, DOWNLOAD_PAGE, split)
        if not rows:
            return
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerows([r.text, "#".join(r.labels), r.split] for r in rows)
            yield buffer.getvalue().encode()
        else:
            yield "".join(
                json.dumps({"id": r.line_no, "text": r.text, "label": r.labels, "split": r.split},
                           ensure_ascii=False) + "\n"
                for r in rows
            ).encode()  # fmt: skip
        after = rows[-1].id


@router.get("/datasets/{dataset_id}/download", summary="download a dataset as doccano JSONL or CSV")
def download_dataset(
    dataset_id: int,
    out: OutputEngine,
    format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl: doccano's import format")] = "jsonl",
    split: Annotated[Literal["train", "dev", "test"] | None, Query()] = None,
) -> StreamingResponse:
    row = _load_dataset(out, dataset_id)
    media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
    filename = f"dataset-{row.id}{'-' + split if split else ''}.{format}"
    return StreamingResponse(
        _dataset_lines(out, dataset_id, format, split),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _rule_summary(row: Row, labels: list[str] | None = None) -> RuleSetSummary:
    return RuleSetSummary(
        rule_set_id=row.id,
        name=row.name,
        description=row.description,
        rules=row.rule_count,
        labels=labels,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _load_rule_set(engine: Engine, rule_set_id: int) -> Row:
    with connect_output(engine) as conn:
        row = rs.get_rule_set(conn, rule_set_id)
    if row is None:
        raise AudienceError(404, f"rule set {rule_set_id} does not exist")
    return row


@router.post(
    "/rule-sets",
    response_model=RuleSetCreated,
    summary="upload a rule set (label, pattern, kind, weight)",
    form_limits={"max_files": 1, "max_fields": 20, "max_part_size": UPLOAD_PART_BYTES},
)
def upload_rule_set(
    settings: SettingsDep,
    out: OutputEngine,
    file: Annotated[UploadFile, File(description="CSV/TSV with label,pattern[,kind][,weight], or a JSON array")],
    name: Annotated[ResourceName, Form()],
    description: Annotated[Description, Form()] = "",
    encoding: Annotated[Encoding, Form()] = "auto",
) -> RuleSetCreated:
    _check_size(file, settings.upload_max_bytes)
    try:
        items = read_rules(file.file, file.filename or "", encoding)
    except RuleError as exc:
        raise AudienceError(422, f"file {exc}") from exc
    except FileError as exc:
        raise AudienceError(400, str(exc)) from exc
    try:
        with out.begin() as conn:
            if rs.name_taken(conn, name):
                raise AudienceError(409, f"name: a rule set named {name!r} exists")
            rule_set_id = rs.create_rule_set(conn, name, description, items)
            row = rs.get_rule_set(conn, rule_set_id)
            assert row is not None  # inserted above in this transaction
    except IntegrityError as exc:
        raise AudienceError(409, f"name: a rule set named {name!r} exists") from exc
    return RuleSetCreated(**_rule_summary(row, sorted({r.label for r in items})).model_dump())


@router.get("/rule-sets", response_model=RuleSetList, summary="rule sets, newest first")
def list_rule_sets(
    out: OutputEngine,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> RuleSetList:
    with connect_output(out) as conn:
        rows = rs.list_rule_sets(conn, id_cursor(cursor), limit + 1)
    return RuleSetList(rule_sets=[_rule_summary(r) for r in rows[:limit]], next_cursor=next_id_cursor(rows, limit))


@router.get("/rule-sets/{rule_set_id}", response_model=RuleSetDetail, summary="a rule set and its rules")
def read_rule_set(rule_set_id: int, out: OutputEngine) -> RuleSetDetail:
    row = _load_rule_set(out, rule_set_id)
    with connect_output(out) as conn:
        items = rs.rules_of(conn, rule_set_id)
    return RuleSetDetail(
        **_rule_summary(row, sorted({r.label for r in items})).model_dump(),
        items=[RuleOut(label=r.label, pattern=r.pattern, kind=r.kind, weight=r.weight) for r in items],  # type: ignore[arg-type]
    )


@router.patch("/rule-sets/{rule_set_id}", response_model=RuleSetDetail, summary="rename or describe a rule set")
def patch_rule_set(rule_set_id: int, patch: RuleSetPatch, out: OutputEngine) -> RuleSetDetail:
    _load_rule_set(out, rule_set_id)
    try:
        with out.begin() as conn:
            if patch.name is not None and rs.name_taken(conn, patch.name, other_than=rule_set_id):
                raise AudienceError(409, f"name: a rule set named {patch.name!r} exists")
            values = patch.model_dump(exclude_none=True)
            if values:
                rs.update_rule_set(conn, rule_set_id, **values)
    except IntegrityError as exc:
        raise AudienceError(409, f"name: a rule set named {patch.name!r} exists") from exc
    return read_rule_set(rule_set_id, out)


@router.delete("/rule-sets/{rule_set_id}", response_model=Deleted, summary="delete a rule set")
def delete_rule_set(rule_set_id: int, out: OutputEngine) -> Deleted:
    _load_rule_set(out, rule_set_id)
    with out.begin() as conn:
        users = tasks_using(conn, ("rule_set_id",), rule_set_id)
        if users:
            raise AudienceError(409, f"rule set {rule_set_id} is used by running task {users[0]}")
        if not rs.delete_rule_set(conn, rule_set_id):
            raise AudienceError(404, f"rule set {rule_set_id} does not exist")
    return Deleted(deleted=rule_set_id)


@router.get("/rule-sets/{rule_set_id}/download", summary="download a rule set as CSV")
def download_rule_set(rule_set_id: int, out: OutputEngine) -> StreamingResponse:
    _load_rule_set(out, rule_set_id)
    with connect_output(out) as conn:
        items = rs.rules_of(conn, rule_set_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["label", "pattern", "kind", "weight"])
    writer.writerows([r.label, r.pattern, r.kind, f"{r.weight:g}"] for r in items)
    return StreamingResponse(
        iter([("\ufeff" + buffer.getvalue()).encode()]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rule-set-{rule_set_id}.csv"'},
    )
