"""Which labeled rows of a task go back to annotators, picked in one pass over its label rows.

The label rows come in key order (`utils.db.label_export.label_pages`), so all of a source row's labels
are neighbours: each row is seen once, with every model's labels, and kept or not with memory bounded
by the sample, whatever the task's size.
"""

import heapq
import io
import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from utils.dataset_files import Conflict, ReadOptions, Rejection, read_dataset
from utils.db.label_export import LabelRow

Sampling = Literal["uniform", "per_label", "least_confident", "disagreement"]


@dataclass
class LabeledRow:
    source_table: str
    source_id: int
    # model → [(label, score)], in label order
    labels: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    # model → the margin of each of its labels, in the same order (None for a rule model's)
    margins: dict[str, list[float | None]] = field(default_factory=dict)

    def distance(self, model: str) -> float:
        """How far the model's labels of this row are from its decision: the smallest margin's size
        (a classifier's labels: score minus the runner-up's, or minus the threshold), or, for a model
        without margins (rules), the lowest score."""
        margins = self.margins.get(model, [])
        if margins and all(m is not None for m in margins):
            return min(abs(m) for m in margins if m is not None)
        return min(score for _, score in self.labels[model])


def labeled_rows(rows: Iterable[LabelRow]) -> Iterator[LabeledRow]:
    """Label rows in key order, gathered into one item per source row."""
    current: LabeledRow | None = None
    for table, source_id, model, label, score, margin in rows:
        if current is None or (current.source_table, current.source_id) != (table, source_id):
            if current is not None:
                yield current
            current = LabeledRow(table, source_id)
        current.labels.setdefault(model, []).append((label, score))
        current.margins.setdefault(model, []).append(margin)
    if current is not None:
        yield current


class Reservoir:
    """A uniform random sample of `size` items of a stream of unknown length (Algorithm R)."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size, self.rng, self.seen = size, rng, 0
        self.items: list[LabeledRow] = []

    def offer(self, item: LabeledRow) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        elif (slot := self.rng.randrange(self.seen)) < self.size:
            self.items[slot] = item


def pick(
    rows: Iterable[LabeledRow], sampling: Sampling, size: int, model: str, models: list[str], rng: random.Random
) -> list[LabeledRow]:
    """Up to `size` rows labeled by `model` (any of `models` for disagreement), in key order:

    - uniform: a uniform random sample;
    - per_label: a uniform sample of each of the model's labels, an equal share each (a row with two
      labels may serve both);
    - least_confident: the rows nearest the model's decision (`LabeledRow.distance`): for a single-label
      classifier the smallest margin between its top two labels, for a multi-label one the scores
      nearest their thresholds, for a rule model the lowest scores;
    - disagreement: a uniform sample of the rows where the models' label sets differ (a model that
      gave a row no label counts as the empty set)."""
    if sampling == "disagreement":
        reservoir = Reservoir(size, rng)
        for row in rows:
            sets = {frozenset(label for label, _ in row.labels.get(m, [])) for m in models}
            if len(sets) > 1:
                reservoir.offer(row)
        return _in_key_order(reservoir.items)
    own = (row for row in rows if model in row.labels)
    if sampling == "uniform":
        reservoir = Reservoir(size, rng)
        for row in own:
            reservoir.offer(row)
        return _in_key_order(reservoir.items)
    if sampling == "least_confident":
        # A max-heap by negated distance keeps the `size` nearest the decision seen so far.
        heap: list[tuple[float, int, LabeledRow]] = []
        for n, row in enumerate(own):
            entry = (-row.distance(model), -n, row)
            if len(heap) < size:
                heapq.heappush(heap, entry)
            elif entry > heap[0]:
                heapq.heapreplace(heap, entry)
        return _in_key_order([row for _, _, row in heap])
    per_label: dict[str, Reservoir] = {}
    for row in own:
        for label, _ in row.labels[model]:
            if label not in per_label:
                per_label[label] = Reservoir(size, rng)
            per_label[label].offer(row)
    # Each reservoir is a uniform sample of its label's rows, and so is a random part of it.
    share = math.ceil(size / len(per_label)) if per_label else 0
    picked: dict[tuple[str, int], LabeledRow] = {}
    for label in sorted(per_label):
        items = per_label[label].items
        for row in rng.sample(items, min(share, len(items))):
            picked.setdefault((row.source_table, row.source_id), row)
    chosen = list(picked.values())
    return _in_key_order(rng.sample(chosen, size) if len(chosen) > size else chosen)


def _in_key_order(rows: list[LabeledRow]) -> list[LabeledRow]:
    return sorted(rows, key=lambda row: (row.source_table, row.source_id))


@dataclass
class ReviewFile:
    """The lines of a review export, and the picked rows left out of it, counted by why."""

    lines: list[str]
    missing: int = 0  # deleted from the source since, or with no text now
    repeated: int = 0  # the text of a line already in the file
    unusable: Counter[str] = field(default_factory=Counter)  # what an upload would refuse, by rejection kind


def review_file(
    rows: list[LabeledRow],
    texts: dict[tuple[str, int], str],
    sampling: Sampling,
    size: int,
    model: str,
    meta: dict[str, Any],
    max_text_chars: int,
    rng: random.Random,
) -> ReviewFile:
    """Up to `size` doccano lines of the picked `rows` (more may be picked than asked for), each one a line
    the dataset upload stores: every candidate goes through the upload's own reader, so a text already in
    the file (the source repeats texts) or one the upload would refuse is left out and counted instead.

    Candidates are taken nearest the decision first (least_confident), label by label (per_label), else
    in random order; the lines come out in key order. A row `model` gave no label (a disagreement)
    proposes the other models' labels."""
    if sampling == "least_confident":
        ordered = sorted(rows, key=lambda row: (row.distance(model), row.source_table, row.source_id))
    else:
        ordered = rng.sample(rows, len(rows))
    if sampling == "per_label":
        # Label by label in turn, so the lines the file keeps share the labels as the pick did.
        by_label: dict[str, list[LabeledRow]] = {}
        for row in ordered:
            by_label.setdefault(row.labels[model][0][0], []).append(row)
        turns = [by_label[label] for label in sorted(by_label)]
        ordered = [row for turn in itertools.zip_longest(*turns) for row in turn if row is not None]
    result = ReviewFile([])
    candidates: list[tuple[LabeledRow, str]] = []
    missing_before: list[int] = []  # per candidate, the rows without text met before it
    missing = 0
    for row in ordered:
        text = texts.get((row.source_table, row.source_id))
        if not text:  # doccano has nothing to show
            missing += 1
            continue
        missing_before.append(missing)
        proposed = [label for label, _ in row.labels.get(model, [])]
        proposer = model
        if not proposed:
            others = [m for m in row.labels if m != model]
            proposed = list(dict.fromkeys(label for m in others for label, _ in row.labels[m]))
            proposer = ", ".join(others)
        line_meta = {
            **meta,
            "source_table": row.source_table,
            "source_id": row.source_id,
            "proposed_by": proposer,
            "predictions": {m: [{"label": lb, "score": sc} for lb, sc in found] for m, found in row.labels.items()},
        }
        line = json.dumps({"text": text, "label": proposed, "meta": line_meta}, ensure_ascii=False) + "\n"
        candidates.append((row, line))
    stream = io.BytesIO("".join(line for _, line in candidates).encode())
    options = ReadOptions(format="jsonl", encoding="utf_8", max_text_chars=max_text_chars)
    kept: list[tuple[LabeledRow, str]] = []
    result.missing = missing  # all of them, unless the file fills up first
    for item in read_dataset(stream, options) if candidates else ():
        if len(kept) == size:
            result.missing = missing_before[item.line - 1]
            break
        if isinstance(item, Conflict) or (isinstance(item, Rejection) and item.kind == "repeat"):
            result.repeated += 1
        elif isinstance(item, Rejection):
            result.unusable[item.kind] += 1
        else:
            kept.append(candidates[item.line - 1])
    result.lines = [line for _, line in sorted(kept, key=lambda pair: (pair[0].source_table, pair[0].source_id))]
    return result
