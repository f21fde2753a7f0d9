"""The modeling workflow's steps as plain functions; Celery tasks in `workers.modeling` wrap them."""

import csv
import gzip
import io
import json
import time
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Row

from models.base import Labeler
from models.evaluation import accuracy, confusion, details, matrix, report
from models.training import train
from settings import Settings
from utils.db import dataset_store as ds
from utils.db import rule_store as rs
from utils.db import task_store as ts
from utils.db.engines import output_engine
from utils.db.errors import cause_of
from utils.db.model_store import add_model
from utils.db.task_log import add_line
from utils.patterns import ExclusionSet
from workers.exclusion_cache import get_exclusion_set
from workers.labeler_cache import get_labeler

PAGE = 5_000
Rows = list[tuple[str, list[str]]]


def load_split(
    conn: Connection, dataset_id: int, split: str | None, exclusion: ExclusionSet | None
) -> tuple[Rows, int]:
    """The (text, labels) rows of one split (all splits when None), and how many were excluded."""
    rows: Rows = []
    excluded = 0
    after = 0
    while page := ds.rows_after(conn, dataset_id, after, PAGE, split):
        for row in page:
            if exclusion is not None and exclusion.first_match(row.text) is not None:
                excluded += 1
            else:
                rows.append((row.text, list(row.labels)))
        after = page[-1].id
    return rows, excluded


def evaluate(labeler: Labeler, rows: Rows, labels: list[str]) -> tuple[dict[str, Any], list[list[tuple[str, float]]]]:
    """The classification report, accuracy and confusion of `labeler` on `rows`, and its predictions."""
    predicted = labeler.predict([text for text, _ in rows]) if rows else []
    gold = [gold_labels for _, gold_labels in rows]
    names = [[label for label, _ in found] for found in predicted]
    every = sorted(set(labels) | {label for g in gold for label in g})
    return {
        "rows": len(rows),
        **accuracy(gold, names, every, labeler.multi_label),
        "report": report(gold, names, every) if rows else {},
        "confusion": confusion(gold, names, every) if rows else {},
        "matrix": matrix(gold, names, every),
    }, predicted


def details_csv(rows: Rows, predicted: list[list[tuple[str, float]]]) -> bytes:
    """The validation details as gzipped CSV: text, gold labels, predicted labels, scores."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "gold", "predicted", "scores"])
    for item in details([t for t, _ in rows], [g for _, g in rows], predicted):
        writer.writerow([item["text"], "#".join(item["gold"]), "#".join(item["predicted"]),
                         json.dumps(item["scores"], ensure_ascii=False)])  # fmt: skip
    return gzip.compress(("\ufeff" + buffer.getvalue()).encode(), mtime=0)


def _start(out: Engine, task_id: str) -> Row | None:
    """The task's row, marked STARTED unless it has finished. A redelivered task starts over:
    nothing of a lost attempt was stored."""
    with out.begin() as conn:
        task = ts.get_task(conn, task_id)
        if task is not None and task.status not in ts.FINISHED and ts.mark_started(conn, task_id, 0):
            add_line(conn, task_id, f"started {task.type}")
    return task


def train_task(settings: Settings, task_id: str) -> str:
    """Train, evaluate on dev and test, and store the model as the next version of its name."""
    out = output_engine(settings)
    task = _start(out, task_id)
    if task is None or task.status in ts.FINISHED:
        return str(task.status) if task else ts.FAILURE
    config = task.config
    began = time.perf_counter()
    snapshot = config.get("pattern_set")
    # Through the cache, as labeling does: the set is checked under the compile guard first.
    exclusion = get_exclusion_set(snapshot["patterns"]) if snapshot else None
    dataset_id = config.get("dataset_id")
    train_rows: Rows = []
    dev_rows: Rows = []
    test_rows: Rows = []
    excluded_train = excluded_dev = excluded_test = 0
    with out.connect() as conn:
        if dataset_id is not None:
            train_rows, excluded_train = load_split(conn, dataset_id, "train", exclusion)
            dev_rows, excluded_dev = load_split(conn, dataset_id, "dev", exclusion)
            test_rows, excluded_test = load_split(conn, dataset_id, "test", exclusion)
        rules = rs.rules_of(conn, config["rule_set_id"]) if config.get("rule_set_id") else None
    multi_label = config.get("multi_label", True)
    if dataset_id is None:
        _log(out, task_id, f"building {config['model_type']} from rule set {config['rule_set_id']} alone")
    else:
        _log(
            out,
            task_id,
            f"training {config['model_type']} on {len(train_rows):,} rows ({'multi' if multi_label else 'single'}"
            f"-label); dev {len(dev_rows):,}, test {len(test_rows):,}; excluded by the pattern set: "
            f"{excluded_train + excluded_dev + excluded_test:,}",
        )
    model = train(config["model_type"], config["params"], train_rows, dev_rows, rules, multi_label)
    trained_s = time.perf_counter() - began
    metrics: dict[str, Any] | None = None
    dev_predicted: list[list[tuple[str, float]]] = []
    if dataset_id is not None:
        _log(out, task_id, f"trained in {trained_s:.2f} s; evaluating on dev and test")
        dev_metrics, dev_predicted = evaluate(model, dev_rows, model.labels_)
        test_metrics, _ = evaluate(model, test_rows, model.labels_)
        metrics = {
            "dev": dev_metrics,
            "test": test_metrics,
            "train_rows": len(train_rows),
            "excluded": {"train": excluded_train, "dev": excluded_dev, "test": excluded_test},
            "train_seconds": round(trained_s, 3),
        }
    with out.begin() as conn:
        # The status first: a second copy of this task that finished meanwhile makes this one store nothing.
        if not ts.finish_task(conn, task_id, ts.SUCCESS, {}, None):
            return ts.SUCCESS
        row = add_model(
            conn,
            config["model_name"],
            model.kind,
            model.to_bytes(),
            model.labels_,
            model.params,
            model.library_versions(),
            task_id=task_id,
            dataset_id=dataset_id,
            dataset_sha256=config.get("dataset_sha256"),
            rule_set_id=config.get("rule_set_id"),
            pattern_set=snapshot,
            training_key=config["training_key"],
            metrics=metrics,
            details=details_csv(dev_rows, dev_predicted) if dataset_id is not None else None,
            decision=model.decision(),
        )
        ts.set_stats(conn, task_id, {"model": {"id": row.id, "name": row.name, "version": row.version},
                                     "metrics": metrics})  # fmt: skip
    return ts.SUCCESS


def evaluate_task(settings: Settings, task_id: str) -> str:
    """Run a stored model over a dataset (or one split of it) and record the report."""
    out = output_engine(settings)
    task = _start(out, task_id)
    if task is None or task.status in ts.FINISHED:
        return str(task.status) if task else ts.FAILURE
    config = task.config
    model = config["model"]
    labeler = get_labeler(out, model["id"], model["sha256"])
    with out.connect() as conn:
        rows, _ = load_split(conn, config["dataset_id"], config.get("split"), None)
    _log(out, task_id, f"evaluating {model['name']} version {model['version']} on {len(rows):,} rows")
    result, _ = evaluate(labeler, rows, model["labels"])
    with out.begin() as conn:
        ts.finish_task(conn, task_id, ts.SUCCESS, {"model": model, "evaluation": result}, None)
    return ts.SUCCESS


def _log(out: Engine, task_id: str, message: str) -> None:
    with out.begin() as conn:
        add_line(conn, task_id, message)


def fail(settings: Settings, task_id: str, error: BaseException) -> None:
    with output_engine(settings).begin() as conn:
        ts.finish_task(conn, task_id, ts.FAILURE, {}, cause_of(error))
