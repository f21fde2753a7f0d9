"""Storing an uploaded dataset: read, validate, split and insert in one transaction."""

import hashlib
import json
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import Connection

from utils.dataset_files import FileError, FileTooLarge, ReadOptions, Rejection, label_key, read_dataset
from utils.db import dataset_store as ds
from utils.splitting import stratified_split

INSERT_BATCH = 5_000
# Rejections listed in the response; all are counted.
REJECTIONS_SHOWN = 200


@dataclass
class ImportResult:
    dataset_id: int
    stored: int
    rejected: int
    rejections: list[Rejection]
    label_counts: dict[str, dict[str, int]]
    encoding: str
    format: str
    split_from: str
    label_set: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class AcceptedRows:
    """(line, labels, split) of every stored row, in arrays: a few bytes a row where tuples in a list took
    a few hundred, so a file of millions of short rows does not hold memory by the row."""

    SPLITS: tuple[str | None, ...] = (None, "train", "dev", "test")

    def __init__(self) -> None:
        self.lines = array("q")
        self.combos = array("i")  # index into `labels_of`: datasets have few label combinations
        self.splits = array("b")
        self.labels_of: list[tuple[str, ...]] = []
        self._combo_ids: dict[tuple[str, ...], int] = {}

    def add(self, line: int, labels: tuple[str, ...], split: str | None) -> None:
        combo = self._combo_ids.setdefault(labels, len(self.labels_of))
        if combo == len(self.labels_of):
            self.labels_of.append(labels)
        self.lines.append(line)
        self.combos.append(combo)
        self.splits.append(self.SPLITS.index(split))

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[tuple[int, tuple[str, ...], str | None]]:
        for line, combo, split in zip(self.lines, self.combos, self.splits, strict=True):
            yield line, self.labels_of[combo], self.SPLITS[split]


def import_dataset(
    conn: Connection,
    stream: IO[bytes],
    options: ReadOptions,
    name: str,
    description: str,
    label_set: list[dict[str, str]] | None,
    ratios: tuple[float, float, float],
    seed: int,
) -> ImportResult:
    """Store the accepted rows of `stream` as dataset `name`; raise FileError if none is accepted.

    The caller's transaction holds everything: a file that fails half-way leaves nothing behind.
    """
    if label_set is not None:
        options.label_set = frozenset(item["name"] for item in label_set)
    dataset_id = ds.create_dataset(conn, name, description, label_set or [], "pending", "pending")
    batch: list[dict] = []
    accepted = AcceptedRows()
    rejections: list[Rejection] = []
    rejected = 0
    content = hashlib.sha256()
    for item in read_dataset(stream, options):
        if isinstance(item, Rejection):
            rejected += 1
            if len(rejections) < REJECTIONS_SHOWN:
                rejections.append(item)
            continue
        if len(accepted) == options.max_rows:
            raise FileTooLarge(f"file: more than {options.max_rows:,} rows to store; a dataset holds at most that many")
        accepted.add(item.line, item.labels, item.split)
        # ASCII unit and record separators between fields and rows: characters posts do not hold.
        content.update(("\x1f".join((item.text, *sorted(item.labels))) + "\x1e").encode())
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
    if not accepted:
        shown = "; ".join(f"line {r.line}: {r.reason}" for r in rejections[:3])
        raise FileError(f"file: no row could be stored ({rejected} rejected; {shown or 'no rows'})")

    if options.split_field:
        splits = [split or "train" for _, _, split in accepted]
        split_from = f"column {options.split_field!r}"
    else:
        splits = stratified_split([label_key(labels) for _, labels, _ in accepted], ratios, seed)
        for name_of_split in ("dev", "test"):
            lines = [line for (line, _, _), split in zip(accepted, splits, strict=True) if split == name_of_split]
            ds.set_split(conn, dataset_id, lines, name_of_split)
        split_from = f"stratified {ratios[0]:g}/{ratios[1]:g}/{ratios[2]:g}, seed {seed}"
    content.update(json.dumps(splits).encode())

    counts: dict[str, Counter[str]] = {"train": Counter(), "dev": Counter(), "test": Counter()}
    for (_, labels, _), split in zip(accepted, splits, strict=True):
        counts[split].update(labels)
    label_counts = {split: dict(sorted(c.items())) for split, c in counts.items()}
    sizes = Counter(splits)
    warnings = [
        f"the {name} split is empty: {len(accepted)} rows are too few for a share of {share:g}"
        for name, share in (("dev", ratios[1]), ("test", ratios[2]))
        if share > 0 and not sizes[name] and not options.split_field
    ]
    if options.split_field:
        warnings = [f"the {name} split is empty" for name in ("dev", "test") if not sizes[name]]
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
    )
    return ImportResult(
        dataset_id=dataset_id,
        stored=len(accepted),
        rejected=rejected,
        rejections=rejections,
        label_counts=label_counts,
        encoding=options.detected_encoding,
        format=options.detected_format,
        split_from=split_from,
        label_set=label_set,
        warnings=warnings,
    )
