"""Storing an uploaded dataset: read, validate, settle repeated texts, split and insert in one transaction."""

import hashlib
import json
import math
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal, cast, get_args

from sqlalchemy import Connection

from utils.dataset_files import (
    MAX_LABELS_PER_ROW,
    Conflict,
    FileError,
    FileTooLarge,
    ReadOptions,
    Rejection,
    label_key,
    read_dataset,
    shown,
)
from utils.db import dataset_store as ds
from utils.splitting import dev_from_train, parse_ratios, stratified_split

INSERT_BATCH = 5_000
# Rejections and conflicts listed in the response; all are counted.
REJECTIONS_SHOWN = 200
CONFLICTS_SHOWN = 200
# Rows read back a page at a time when the content hash is taken from the stored rows.
HASH_PAGE = 500

# What to do with a later copy of a text whose labels differ from its first copy's.
ConflictPolicy = Literal["first", "reject", "merge"]
CONFLICT_POLICIES: tuple[str, ...] = get_args(ConflictPolicy)
# What the policy did: the first copy kept and this one rejected; every copy rejected; this copy's
# labels added to the first copy's row.
ConflictAction = Literal["kept_first", "rejected_all", "merged"]

DEFAULT_RATIOS = "0.8,0.1,0.1"
# With dev_from_train and no split_ratios: a test share, then dev is carved out of train.
DEFAULT_RATIOS_DEV_FROM_TRAIN = "0.9,0,0.1"


class FieldError(ValueError):
    """A form field whose value does not fit the file or the other fields: 422 naming it."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name


@dataclass(frozen=True)
class ImportPlan:
    """What the user chose beside the file, checked together by plan_import."""

    label_set: list[dict[str, str]] | None = None
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 42
    dev_from_train: float | None = None
    multi_label: bool | None = None  # None: detected from the stored rows
    on_conflict: ConflictPolicy = "first"


def plan_import(
    *,
    split_field: str | None = None,
    split_ratios: str | None = None,
    seed: int = 42,
    dev_from_train: float | None = None,
    multi_label: bool | None = None,
    on_conflict: str = "first",
    label_set: list[dict[str, str]] | None = None,
) -> ImportPlan:
    """The plan of an upload, or FieldError naming the first field that makes no sense with the others."""
    if split_field and split_ratios is not None:
        raise FieldError("split_ratios", f"the column {shown(split_field)} (split_field) gives the splits; give one")
    if split_ratios is None:
        split_ratios = DEFAULT_RATIOS if dev_from_train is None else DEFAULT_RATIOS_DEV_FROM_TRAIN
    try:
        ratios = parse_ratios(split_ratios)
    except ValueError as exc:
        raise FieldError("split_ratios", str(exc)) from None
    if dev_from_train is not None:
        if not (math.isfinite(dev_from_train) and 0 < dev_from_train < 1):
            raise FieldError("dev_from_train", "the share of train to move to dev, between 0 and 1 (such as 0.1)")
        if ratios[1] > 0:
            raise FieldError(
                "dev_from_train",
                f"split_ratios gives dev a share already ({ratios[1]:g}): give dev 0 there (such as 0.9,0,0.1) "
                "or leave dev_from_train out",
            )
    if on_conflict not in CONFLICT_POLICIES:
        raise FieldError("on_conflict", f"{shown(on_conflict)} is not one of {', '.join(CONFLICT_POLICIES)}")
    if on_conflict == "merge" and multi_label is False:
        raise FieldError(
            "on_conflict", "merge gives a text the labels of all its copies, which multi_label=false forbids"
        )
    return ImportPlan(label_set, ratios, seed, dev_from_train, multi_label, cast(ConflictPolicy, on_conflict))


@dataclass(frozen=True)
class ConflictReport:
    line: int
    first_line: int
    labels: tuple[str, ...]
    first_labels: tuple[str, ...]
    action: ConflictAction


@dataclass
class ImportResult:
    dataset_id: int
    stored: int
    rejected: int
    rejections: list[Rejection]
    rejected_by_reason: dict[str, int]
    conflicts: list[ConflictReport]
    conflicts_total: int
    label_counts: dict[str, dict[str, int]]
    encoding: str
    format: str
    split_from: str
    multi_label: bool
    label_set: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class AcceptedRows:
    """(line, labels, split) of every stored row, in arrays: a few bytes a row where tuples in a list took
    a few hundred, so a file of millions of short rows does not hold memory by the row. A row may be
    withdrawn (its split marked) or relabelled after it was added; both are rare, and remembered so the
    stored rows can be changed to match."""

    SPLITS: tuple[str | None, ...] = (None, "train", "dev", "test")
    WITHDRAWN = -1

    def __init__(self) -> None:
        self.lines = array("q")  # ascending: rows come in file order
        self.combos = array("i")  # index into `labels_of`: datasets have few label combinations
        self.splits = array("b")
        self.labels_of: list[tuple[str, ...]] = []
        self._combo_ids: dict[tuple[str, ...], int] = {}
        self.withdrawn = 0
        self.relabelled = array("q")  # indices of rows whose labels changed (an index may repeat)

    def _combo(self, labels: tuple[str, ...]) -> int:
        combo = self._combo_ids.setdefault(labels, len(self.labels_of))
        if combo == len(self.labels_of):
            self.labels_of.append(labels)
        return combo

    def add(self, line: int, labels: tuple[str, ...], split: str | None) -> None:
        self.lines.append(line)
        self.combos.append(self._combo(labels))
        self.splits.append(self.SPLITS.index(split))

    def index_of(self, line: int) -> int:
        index = bisect_left(self.lines, line)
        if index == len(self.lines) or self.lines[index] != line:
            raise KeyError(line)
        return index

    def labels_at(self, index: int) -> tuple[str, ...]:
        return self.labels_of[self.combos[index]]

    def relabel(self, index: int, labels: tuple[str, ...]) -> None:
        self.combos[index] = self._combo(labels)
        self.relabelled.append(index)

    def withdraw(self, index: int) -> None:
        if self.splits[index] != self.WITHDRAWN:
            self.splits[index] = self.WITHDRAWN
            self.withdrawn += 1

    def withdrawn_lines(self) -> list[int]:
        return [line for line, split in zip(self.lines, self.splits, strict=True) if split == self.WITHDRAWN]

    def relabelled_lines(self) -> dict[tuple[str, ...], list[int]]:
        """The lines of the relabelled rows still stored, by their labels now."""
        by_labels: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for index in sorted(set(self.relabelled)):
            if self.splits[index] != self.WITHDRAWN:
                by_labels[self.labels_at(index)].append(self.lines[index])
        return dict(by_labels)

    def strata(self) -> list[str]:
        """Each stored row's stratum for splitting (its label combination): one string per combination,
        shared by its rows."""
        keys = [label_key(labels) for labels in self.labels_of]
        return [keys[c] for c, s in zip(self.combos, self.splits, strict=True) if s != self.WITHDRAWN]

    def __len__(self) -> int:
        return len(self.lines) - self.withdrawn

    def __iter__(self) -> Iterator[tuple[int, tuple[str, ...], str | None]]:
        for line, combo, split in zip(self.lines, self.combos, self.splits, strict=True):
            if split != self.WITHDRAWN:
                yield line, self.labels_of[combo], self.SPLITS[split]


def _conflict_reason(conflict: Conflict, kept: str) -> str:
    return (
        f"conflicts with line {conflict.first_line} ({shown(list(conflict.first_labels), 60)} there, "
        f"{shown(list(conflict.labels), 60)} here): {kept}"
    )


def settle_conflict(
    conflict: Conflict, policy: ConflictPolicy, accepted: AcceptedRows
) -> tuple[ConflictReport, list[Rejection]]:
    """Apply `policy` to a conflicting copy: what is reported, and the rows it rejects (this copy, and
    under `reject` the first copy too, withdrawn from `accepted`). Under `merge` the first copy's row
    gets this copy's labels after its own, in first-seen order."""
    first = accepted.index_of(conflict.first_line)
    if policy == "reject":
        rejected = [Rejection(conflict.line, "conflict", _conflict_reason(conflict, "no copy stored"))]
        if conflict.first_of_text:
            accepted.withdraw(first)
            reason = (
                f"conflicts with line {conflict.line} ({shown(list(conflict.labels), 60)} there, "
                f"{shown(list(conflict.first_labels), 60)} here): no copy stored"
            )
            rejected.append(Rejection(conflict.first_line, "conflict", reason))
        return _report(conflict, "rejected_all"), rejected
    if policy == "merge":
        now = accepted.labels_at(first)
        merged = now + tuple(label for label in conflict.labels if label not in now)
        if len(merged) <= MAX_LABELS_PER_ROW:
            if merged != now:
                accepted.relabel(first, merged)
            return _report(conflict, "merged"), []
        kept = f"merged it would have {len(merged)} labels (the limit is {MAX_LABELS_PER_ROW}); the first copy kept"
        return _report(conflict, "kept_first"), [Rejection(conflict.line, "conflict", _conflict_reason(conflict, kept))]
    rejection = Rejection(conflict.line, "conflict", _conflict_reason(conflict, "the first copy kept"))
    return _report(conflict, "kept_first"), [rejection]


def _report(conflict: Conflict, action: ConflictAction) -> ConflictReport:
    return ConflictReport(conflict.line, conflict.first_line, conflict.labels, conflict.first_labels, action)


def _row_content(text: str, labels: Iterable[str]) -> bytes:
    # ASCII unit and record separators between fields and rows: characters posts do not hold.
    return ("\x1f".join((text, *sorted(labels))) + "\x1e").encode()


def _stored_content(conn: Connection, dataset_id: int) -> Iterator[bytes]:
    """What the content hash is made of, read back from the stored rows in upload order: after rows were
    withdrawn or relabelled, which the hash taken while reading cannot undo."""
    after = 0
    while rows := ds.rows_after(conn, dataset_id, after, HASH_PAGE):
        for row in rows:
            yield _row_content(row.text, row.labels)
        after = rows[-1].id


def _changed_splits(accepted: AcceptedRows, splits: Sequence[str]) -> dict[str, list[int]]:
    """Lines by split, of the rows whose split differs from the one they were inserted with."""
    changed: dict[str, list[int]] = defaultdict(list)
    for (line, _, inserted), split in zip(accepted, splits, strict=True):
        if split != (inserted or "train"):
            changed[split].append(line)
    return changed


def import_dataset(
    conn: Connection, stream: IO[bytes], options: ReadOptions, name: str, description: str, plan: ImportPlan
) -> ImportResult:
    """Store the accepted rows of `stream` as dataset `name`; raise FileError if none is accepted, and
    FieldError when the file contradicts a choice of `plan` (multi_label, dev_from_train).

    The caller's transaction holds everything: a file that fails half-way leaves nothing behind.
    """
    label_set = plan.label_set
    if label_set is not None:
        options.label_set = frozenset(item["name"] for item in label_set)
    dataset_id = ds.create_dataset(conn, name, description, label_set or [], "pending", "pending")
    batch: list[dict] = []
    accepted = AcceptedRows()
    rejections: list[Rejection] = []
    by_reason: Counter[str] = Counter()
    conflicts: list[ConflictReport] = []
    conflicts_total = 0
    content = hashlib.sha256()

    def reject(rejection: Rejection) -> None:
        by_reason[rejection.kind] += 1
        if len(rejections) < REJECTIONS_SHOWN:
            rejections.append(rejection)

    for item in read_dataset(stream, options):
        if isinstance(item, Rejection):
            reject(item)
            continue
        if isinstance(item, Conflict):
            report, rejected_now = settle_conflict(item, plan.on_conflict, accepted)
            conflicts_total += 1
            if len(conflicts) < CONFLICTS_SHOWN:
                conflicts.append(report)
            for rejection in rejected_now:
                reject(rejection)
            continue
        if plan.multi_label is False and len(item.labels) > 1:
            raise FieldError(
                "multi_label",
                f"false, but line {item.line} has {len(item.labels)} labels ({shown(list(item.labels), 60)}); "
                "give multi_label=true or leave it out",
            )
        if len(accepted) == options.max_rows:
            raise FileTooLarge(f"file: more than {options.max_rows:,} rows to store; a dataset holds at most that many")
        accepted.add(item.line, item.labels, item.split)
        content.update(_row_content(item.text, item.labels))
        batch.append(
            {
                "dataset_id": dataset_id,
                "line_no": item.line,
                "split": item.split or "train",
                "text": item.text,
                "labels": list(item.labels),
            }
        )
        if len(batch) == INSERT_BATCH:
            ds.insert_rows(conn, batch)
            batch = []
    ds.insert_rows(conn, batch)
    rejected = sum(by_reason.values())
    if not accepted:
        shown_rejections = "; ".join(f"line {r.line}: {r.reason}" for r in rejections[:3])
        raise FileError(f"file: no row could be stored ({rejected} rejected; {shown_rejections or 'no rows'})")
    if accepted.withdrawn or accepted.relabelled:
        ds.delete_rows(conn, dataset_id, accepted.withdrawn_lines())
        for labels, lines in accepted.relabelled_lines().items():
            ds.set_labels(conn, dataset_id, lines, labels)
        content = hashlib.sha256()
        for piece in _stored_content(conn, dataset_id):
            content.update(piece)

    splits, split_from, warnings = _split(accepted, options.split_field, plan)
    for split, lines in _changed_splits(accepted, splits).items():
        ds.set_split(conn, dataset_id, lines, split)
    content.update(json.dumps(splits).encode())

    counts: dict[str, Counter[str]] = {"train": Counter(), "dev": Counter(), "test": Counter()}
    several = False
    for (_, labels, _), split in zip(accepted, splits, strict=True):
        counts[split].update(labels)
        several = several or len(labels) > 1
    label_counts = {split: dict(sorted(c.items())) for split, c in counts.items()}
    multi_label = several if plan.multi_label is None else plan.multi_label
    if label_set is None:
        every = sorted({label for c in counts.values() for label in c})
        label_set = [{"name": label, "description": ""} for label in every]
    ds.finish_dataset(
        conn,
        dataset_id,
        label_set=label_set,
        source_format=options.detected_format,
        encoding=options.detected_encoding,
        row_count=len(accepted),
        rejected_count=rejected,
        label_counts=label_counts,
        sha256=content.hexdigest(),
        multi_label=multi_label,
    )
    return ImportResult(
        dataset_id=dataset_id,
        stored=len(accepted),
        rejected=rejected,
        rejections=rejections,
        rejected_by_reason=dict(sorted(by_reason.items())),
        conflicts=conflicts,
        conflicts_total=conflicts_total,
        label_counts=label_counts,
        encoding=options.detected_encoding,
        format=options.detected_format,
        split_from=split_from,
        multi_label=multi_label,
        label_set=label_set,
        warnings=warnings,
    )


def _split(accepted: AcceptedRows, split_field: str | None, plan: ImportPlan) -> tuple[list[str], str, list[str]]:
    """Each stored row's split, what it came from, and warnings about empty splits."""
    strata = accepted.strata() if plan.dev_from_train is not None or not split_field else []
    if split_field:
        splits = [split or "train" for _, _, split in accepted]
        split_from = f"column {split_field!r}"
        shares: dict[str, float] = {}
    else:
        splits = stratified_split(strata, plan.ratios, plan.seed)
        split_from = f"stratified {plan.ratios[0]:g}/{plan.ratios[1]:g}/{plan.ratios[2]:g}, seed {plan.seed}"
        shares = {"dev": plan.ratios[1], "test": plan.ratios[2]}
    sizes = Counter(splits)
    train_rows = sizes["train"]
    if plan.dev_from_train is not None:
        if split_field and sizes["dev"]:
            raise FieldError(
                "dev_from_train",
                f"the column {split_field!r} gives {sizes['dev']:,} dev rows already; leave dev_from_train out",
            )
        splits = dev_from_train(strata, splits, plan.dev_from_train, plan.seed)
        split_from += f"; dev: {plan.dev_from_train:g} of train, stratified, seed {plan.seed}"
        sizes = Counter(splits)
    warnings = []
    for name in ("dev", "test"):
        if sizes[name]:
            continue
        if name == "dev" and plan.dev_from_train is not None:
            warnings.append(
                f"the dev split is empty: {train_rows} train rows are too few for a share of {plan.dev_from_train:g}"
            )
        elif split_field:
            warnings.append(f"the {name} split is empty")
        elif shares[name] > 0:
            warnings.append(
                f"the {name} split is empty: {len(accepted)} rows are too few for a share of {shares[name]:g}"
            )
    return splits, split_from, warnings
