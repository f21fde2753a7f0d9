"""`make bench_stages`: each stage of Audience alone, and a whole task, on MariaDB, Redis and real workers.

Seeds `--rows` posts into the schema `audience_bench_src`, stores a keyword model of `--keywords`
keywords, then measures each stage alone in this process (match, keyset read, label write), a
whole predicting task through the HTTP API on one Celery worker, and the upload of a labeled
dataset of `--upload-rows` rows. Prints a Markdown table for the README.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete

import tests.benchmarks.bench_env  # noqa: F401 - sets the bench settings before anything reads them
from models.base import RowLabels
from models.keyword import KeywordModel, KeywordRule
from models.params import MODEL_TYPES
from models.training import train as train_model
from settings import get_settings
from tests.benchmarks.fresh import fresh_start
from tests.services import peak_rss_of, start_api, start_worker, wait_for
from utils.db.engines import output_engine, source_engine
from utils.db.label_store import LabelRows, write_labels
from utils.db.model_store import add_model
from utils.db.tables import labels
from utils.demo import DEMO_YEAR_START, generate_posts, posts_table, seed_posts
from utils.memory import PeakRss
from utils.rule_files import read_rules
from utils.source import SourceSpec, reflect_source
from utils.text import join_columns, utf8_of
from workers.cli import DEMO_RULES, read_keyword_rules

MODEL = "bench_keywords"
MB = 1024 * 1024


def keyword_rules(n: int, seed: int = 11) -> list[KeywordRule]:
    """The demo rules plus random two- and three-character Chinese keywords, `n` rules in all, over 20 labels."""
    rng = random.Random(seed)
    rules = read_keyword_rules(DEMO_RULES)
    alphabet = "".join(sorted({ch for row in generate_posts(2_000) for ch in (row["content"] or "") if ch > "\u4e00"}))
    while len(rules) < n:
        word = "".join(rng.choice(alphabet) for _ in range(rng.choice((2, 3))))
        rules.append(KeywordRule(f"label_{len(rules) % 20:02d}", word))
    return rules


def label_rows(model: str, ids: list[int], predictions: list[RowLabels]) -> list[tuple[str, int, str, float]]:
    """The label rows a batch writes, as a chunk makes them."""
    return [(model, i, label, score) for i, row in zip(ids, predictions, strict=True) for label, score in row]


def dataset_file(rows: int) -> bytes:
    """A doccano JSONL export of `rows` distinct posts, labeled by the demo rules."""
    model = KeywordModel(read_keyword_rules(DEMO_RULES))
    posts = [join_columns((r["title"], r["content"])) for r in generate_posts(rows, seed=23)]
    out = io.StringIO()
    for number, (post, found) in enumerate(zip(posts, model.predict(posts), strict=True)):
        names = [name for name, _ in found] or ["其他"]
        out.write(json.dumps({"id": number, "text": f"{post} #{number}", "label": names}, ensure_ascii=False) + "\n")
    return out.getvalue().encode()


def upload_dataset(client: httpx.Client, content: bytes) -> float:
    """rows/s of one upload through the documenting API."""
    began = time.perf_counter()
    r = client.post(
        "/documenting/datasets",
        files={"file": ("bench.jsonl", content)},
        data={"name": f"bench-{uuid.uuid4().hex[:12]}"},
        timeout=600,
    )
    r.raise_for_status()
    return int(r.json()["rows"]) / (time.perf_counter() - began)


def modeling_figures(posts: list[str]) -> list[tuple[str, str, str]]:
    """Training time on the sample data and prediction rows/s on `posts`, per model type, 1 core."""
    sample = Path(__file__).resolve().parent.parent / "sample_data"

    def examples(split: str) -> list[tuple[str, list[str]]]:
        lines = (sample / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        return [(row["text"], row["label"]) for row in map(json.loads, lines) if row]

    train_rows, dev_rows = examples("train"), examples("dev")
    rules = read_rules(io.BytesIO((sample / "rules.csv").read_bytes()), "rules.csv")
    figures = []
    for model_type in MODEL_TYPES:
        began = time.perf_counter()
        model = train_model(model_type, {}, train_rows, dev_rows, rules)
        trained = time.perf_counter() - began
        began = time.perf_counter()
        for i in range(0, len(posts), 5_000):
            model.predict(posts[i : i + 5_000])
        rate = len(posts) / (time.perf_counter() - began)
        figures.append((f"predict with {model_type} (trained on {len(train_rows)} rows in {trained:.2f} s), 1 core",
                        f"{rate:,.0f}", f"{rate:,.0f}"))  # fmt: skip
    return figures


def timed(fn: Callable[[], int], runs: int) -> tuple[float, float]:
    """rows/s of `fn` (which returns the rows it handled) over `runs` runs: (median, min)."""
    rates = []
    for _ in range(runs):
        began = time.perf_counter()
        rows = fn()
        rates.append(rows / (time.perf_counter() - began))
    return statistics.median(rates), min(rates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.stages", description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000, help="posts in the source table")
    parser.add_argument("--keywords", type=int, default=1_000, help="keywords in the model")
    parser.add_argument("--runs", type=int, default=2, help="runs of each measurement")
    parser.add_argument("--pool", default="prefork", help="worker pool of the end-to-end run")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (or greenlets)")
    parser.add_argument("--upload-rows", type=int, default=100_000, help="rows in the uploaded dataset")
    args = parser.parse_args(argv)

    settings = get_settings()
    if problem := fresh_start(settings):
        print(problem, file=sys.stderr)
        return 1

    began = time.perf_counter()
    seed_posts(source_engine(settings), posts_table("posts"), args.rows)
    print(f"seeded {args.rows:,} posts in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    model = KeywordModel(keyword_rules(args.keywords))
    with output_engine(settings).begin() as conn:
        add_model(conn, MODEL, model.kind, model.to_bytes(), model.labels_, {"rules": len(model.rules)}, {})

    memory = PeakRss()
    results: list[tuple[str, str, str]] = []
    sample = [join_columns((r["title"], r["content"])) for r in generate_posts(min(args.rows, 50_000))]

    model.predict(sample[:1])  # the matcher is built on first use, as in a worker: not timed

    encoded = [utf8_of(text) for text in sample]
    engine = model.matcher.engine
    for given, texts in (("", sample), (", texts in UTF-8", encoded)):

        def match(texts: list[str] | list[bytes] = texts) -> int:
            for i in range(0, len(texts), 5_000):
                model.predict(texts[i : i + 5_000])
            return len(texts)

        median, low = timed(match, args.runs)
        name = f"match {len(model.rules):,} keywords ({engine}){given}, 1 core"
        results.append((name, f"{median:,.0f}", f"{low:,.0f}"))

    spec = SourceSpec((f"{settings.input_schema}.posts",), "id", ("title", "content"), "post_time")
    table = reflect_source(source_engine(settings), spec)[spec.tables[0]]
    start, end = DEMO_YEAR_START, DEMO_YEAR_START.replace(year=DEMO_YEAR_START.year + 1)

    driver = source_engine(settings).dialect.driver
    for given, read_batch in (("", table.read_batch), (" as UTF-8", table.read_batch_utf8)):

        def read(read_batch: Callable[..., tuple[list[int], list[Any]]] = read_batch) -> int:
            after, seen = 0, 0
            with source_engine(settings).connect() as conn:
                while (batch := read_batch(conn, after, 2**62, start, end, 5_000))[0]:
                    seen += len(batch[0])
                    after = batch[0][-1]
            return seen

        median, low = timed(read, args.runs)
        results.append((f"read{given}, keyset batches of 5,000 ({driver})", f"{median:,.0f}", f"{low:,.0f}"))

    predictions = model.predict(sample)
    ids = list(range(1, len(sample) + 1))

    def write() -> int:
        task_id = uuid.uuid4().hex
        rows = label_rows(MODEL, ids, predictions)
        with output_engine(settings).begin() as conn:
            for i in range(0, len(rows), 5_000):
                write_labels(conn, LabelRows(task_id, "bench.posts", DEMO_YEAR_START, rows[i : i + 5_000]))
        with output_engine(settings).begin() as conn:
            conn.execute(delete(labels).where(labels.c.task_id == task_id))
        return len(rows)

    write_rows = len(label_rows(MODEL, ids, predictions))
    median, low = timed(write, args.runs)
    results.append(("write labels, INSERT … SELECT over VALUES, unique key", f"{median:,.0f}", f"{low:,.0f}"))
    memory.sample()

    # INFO: start_worker waits for the worker's "ready" line.
    env = {**os.environ, "WORKER_POOL": args.pool, "WORKER_CONCURRENCY": str(args.concurrency), "LOG_LEVEL": "INFO"}
    logs = Path(settings.var_dir)
    worker = start_worker(env, logs / "worker.log", name="bench")
    api, url = start_api(env, logs / "api.log")
    e2e: list[float] = []
    peaks: list[int] = []
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            for _ in range(args.runs):
                body = {
                    "model_names": [MODEL],
                    "source": {"tables": [spec.tables[0]]},
                    "start_time": start.isoformat(),
                    "end_time": end.isoformat(),
                }
                created = client.post("/predicting/tasks", json=body)
                created.raise_for_status()
                task_id = created.json()["task_id"]
                began = time.perf_counter()
                done = wait_for(client, task_id, ("SUCCESS", "FAILURE", "BREAK"), timeout=3_600)
                seconds = time.perf_counter() - began
                if done["status"] != "SUCCESS":
                    print(f"task {task_id} ended {done['status']}: {done.get('error')}", file=sys.stderr)
                    return 1
                e2e.append(done["progress"]["done"] / seconds)
                peaks.append(done["peak_rss_bytes"])
            uploads = [upload_dataset(client, dataset_file(args.upload_rows)) for _ in range(args.runs)]
            api_peak = peak_rss_of(api.proc.pid)
    finally:
        api.stop()
        worker.stop()
    results.append(
        (
            f"end to end over HTTP, 1 worker, {args.pool} × {args.concurrency}",
            f"{statistics.median(e2e):,.0f}",
            f"{min(e2e):,.0f}",
        )
    )

    results += modeling_figures(sample[:20_000])
    results.append(
        (
            f"upload a doccano JSONL dataset of {args.upload_rows:,} rows over HTTP (parse, check, split, insert)",
            f"{statistics.median(uploads):,.0f}",
            f"{min(uploads):,.0f}",
        )
    )

    print(f"peak RSS of the API process (uploads included): {api_peak / MB:.0f} MB")
    print(
        f"\n{args.rows:,} posts, {len(model.rules):,} keywords, {write_rows:,} label rows per write run, "
        f"{args.runs} runs; peak RSS of a worker process {max(peaks) / MB:.0f} MB, of this process "
        f"{memory.sample() / MB:.0f} MB\n"
    )
    print("| stage | rows/s (median) | rows/s (min) |")
    print("|---|---|---|")
    for name, median_s, low_s in results:
        print(f"| {name} | {median_s} | {low_s} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
