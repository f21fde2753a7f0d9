"""`make bench`: Audience at scale, side by side with the database's ceiling and the naive way.

On a source table of N generated posts (`tests/benchmarks/corpus.py`, default 1,000,000, kept between
runs), one after another: (a) the database's ceiling, a server-side INSERT … SELECT of one label per
row into the labels table; (b) the naive pipeline (pandas, one Python `re` alternation, to_sql);
(c) Audience through its HTTP API with the keyword model (1,000 keywords, 20 labels) on prefork × 2
and on gevent, while a load generator polls the task's status at 200 requests/s; (d) the regex and
term_weight models; then the keyword model on 4 × N rows, for how time and memory scale.
Prints a Markdown table and writes every figure to a JSON file.
"""

import argparse
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

import tests.benchmarks.bench_env  # noqa: F401 - sets the bench settings before anything reads them
from models.keyword import KeywordModel, KeywordRule
from models.rules import RuleModel
from models.training import train as train_model
from settings import get_settings
from tests.benchmarks.baselines import database_ceiling, naive_pipeline
from tests.benchmarks.corpus import YEAR_START, keywords
from tests.benchmarks.fresh import fresh_start
from tests.benchmarks.source_table import ensure_posts
from tests.readme import write_section
from tests.services import Process, peak_rss_of, start_api, start_worker
from utils.db.engines import output_engine, source_engine
from utils.db.model_store import add_model
from utils.rule_files import Rule, read_rules

MB = 1024 * 1024
SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
YEAR = (YEAR_START, YEAR_START.replace(year=YEAR_START.year + 1))


def store_models(rules: list[tuple[str, str]]) -> dict[str, str]:
    """The keyword, regex and term_weight models of the bench, stored; their names by type."""
    keyword = KeywordModel([KeywordRule(label, word) for label, word in rules])
    by_label: dict[str, list[str]] = {}
    for label, word in rules:
        by_label.setdefault(label, []).append(word)
    regex = RuleModel([Rule(label, "|".join(words), "regex", 1.0) for label, words in by_label.items()])

    def examples(split: str) -> list[tuple[str, list[str]]]:
        lines = (SAMPLE_DATA / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        return [(row["text"], row["label"]) for row in map(json.loads, lines) if row]

    sample_rules = read_rules(io.BytesIO((SAMPLE_DATA / "rules.csv").read_bytes()), "rules.csv")
    term_weight = train_model("term_weight", {}, examples("train"), examples("dev"), sample_rules)
    names = {"keyword": "bench_keyword", "regex": "bench_regex", "term_weight": "bench_term_weight"}
    with output_engine().begin() as conn:
        add_model(conn, names["keyword"], keyword.kind, keyword.to_bytes(), keyword.labels_, {}, {})
        add_model(conn, names["regex"], regex.kind, regex.to_bytes(), regex.labels_, {}, {})
        add_model(conn, names["term_weight"], term_weight.kind, term_weight.to_bytes(), term_weight.labels_,
                  term_weight.params, term_weight.library_versions())  # fmt: skip
    return names


def peak_rss(worker: Process) -> list[int]:
    """The high-water mark of resident memory of each process of a worker (Linux VmHWM), in bytes."""
    root = psutil.Process(worker.proc.pid)
    return [peak_rss_of(proc.pid) for proc in [root, *root.children(recursive=True)]]


class StatusLoad:
    """Polls a task's status at a fixed rate from its own process (`status_load`) until stopped."""

    def __init__(self, url: str, task_id: str, rate: float = 200, limit_s: float = 60) -> None:
        self.argv = [sys.executable, "-m", "tests.benchmarks.status_load", url, f"/predicting/tasks/{task_id}",
                     "--rate", str(rate), "--seconds", str(limit_s)]  # fmt: skip
        self.result: dict[str, Any] = {}

    def __enter__(self) -> "StatusLoad":
        self._proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *_: object) -> None:
        self._proc.send_signal(signal.SIGTERM)
        out, _ = self._proc.communicate(timeout=60)
        self.result = json.loads(out)

    def summary(self) -> dict[str, Any]:
        return self.result


def run_task(
    env: dict[str, str], logs: Path, table: str, model: str, pool: str, concurrency: int, load: bool
) -> dict[str, Any]:
    """One predicting task over a whole table on a fresh worker; its rows/s, peak memory and latencies."""
    run_env = {**env, "WORKER_POOL": pool, "WORKER_CONCURRENCY": str(concurrency)}
    worker = start_worker(run_env, logs / f"worker-{pool}-{model}.log", name="bench")
    api, url = start_api(run_env, logs / f"api-{pool}-{model}.log")
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            body = {
                "model_names": [model],
                "source": {"tables": [table]},
                "start_time": YEAR[0].isoformat(),
                "end_time": YEAR[1].isoformat(),
            }
            began = time.perf_counter()
            created = client.post("/predicting/tasks", json=body)
            created.raise_for_status()
            task_id = created.json()["task_id"]
            poll = StatusLoad(url, task_id) if load else None
            with poll or contextlib.nullcontext():
                while (status := client.get(f"/predicting/tasks/{task_id}").json())["status"] not in (
                    "SUCCESS", "FAILURE", "BREAK",
                ):  # fmt: skip
                    time.sleep(0.2)
            seconds = time.perf_counter() - began
            if status["status"] != "SUCCESS":
                raise RuntimeError(f"task {task_id} ended {status['status']}: {status.get('error')}")
        peaks = peak_rss(worker)
    finally:
        api.stop()
        worker.stop()
    rows = int(status["progress"]["done"])
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "label_rows": sum(sum(c.values()) for c in status["label_counts"].values()),
        "peak_rss_mb": [round(p / MB) for p in peaks],
        "status_latency": poll.summary() if poll else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.scale", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="N, posts in the source table")
    parser.add_argument("--keywords", type=int, default=1_000)
    parser.add_argument("--no-scale", action="store_true", help="skip the run on 4 × N rows")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive pipeline (slow)")
    parser.add_argument("--only", default="", help="run only the Audience runs whose names contain one of these words")
    parser.add_argument("--json", type=Path, default=Path("var/bench.json"))
    parser.add_argument("--readme", default="README.md", help="where the table is written; - for nowhere")
    args = parser.parse_args(argv)

    settings = get_settings()
    if problem := fresh_start(settings):
        print(problem, file=sys.stderr)
        return 1

    rules = keywords(args.keywords)
    names = store_models(rules)
    table = ensure_posts(settings.source_url, args.rows)
    qualified = f"{settings.input_schema}.{table}"
    env = {**os.environ}
    logs = Path(settings.var_dir)
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "keywords": len(rules),
        "labels": len({label for label, _ in rules}),
        "cores": len(os.sched_getaffinity(0)),
    }

    rows, seconds = database_ceiling(output_engine(settings), qualified, *YEAR)
    result["ceiling"] = {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}
    print(f"database ceiling: {result['ceiling']}", file=sys.stderr)
    if not args.no_naive:
        rows, seconds = naive_pipeline(source_engine(settings), output_engine(settings), qualified, rules, *YEAR)
        result["naive"] = {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}
        print(f"naive pipeline: {result['naive']}", file=sys.stderr)

    runs = [
        ("keyword, prefork × 2", names["keyword"], "prefork", 2, False),
        ("keyword, prefork × 2, status polled at 200 req/s", names["keyword"], "prefork", 2, True),
        ("keyword, gevent × 4", names["keyword"], "gevent", 4, False),
        ("regex, prefork × 2", names["regex"], "prefork", 2, False),
        ("term_weight, prefork × 2", names["term_weight"], "prefork", 2, False),
    ]
    result["audience"] = {}
    for label, model, pool, concurrency, load in runs:
        if args.only and not any(word in label for word in args.only.split(",")):
            continue
        result["audience"][label] = run_task(env, logs, qualified, model, pool, concurrency, load)
        print(f"{label}: {result['audience'][label]}", file=sys.stderr)
    if not args.no_scale and "keyword, prefork × 2" in result["audience"]:
        big = f"{settings.input_schema}.{ensure_posts(settings.source_url, 4 * args.rows)}"
        large = run_task(env, logs, big, names["keyword"], "prefork", 2, False)
        result["audience"][f"keyword, prefork × 2, {4 * args.rows:,} rows"] = large
        small = result["audience"]["keyword, prefork × 2"]
        result["scaling"] = {
            "time_ratio": round(large["seconds"] / small["seconds"], 2),
            "memory_ratio": round(max(large["peak_rss_mb"]) / max(small["peak_rss_mb"]), 2),
        }

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    table = render(result)
    print(table)
    command = "make bench" if args.rows == 1_000_000 else f"make bench N={args.rows}"
    if args.readme != "-":
        write_section(Path(args.readme), "bench", f"{table}\n\nMeasured by `{command}`.")
    return 0


def render(result: dict[str, Any]) -> str:
    ceiling = result["ceiling"]["rows_per_s"]
    naive = result.get("naive", {}).get("rows_per_s")
    lines = [
        f"{result['rows']:,} posts, {result['keywords']:,} keywords over {result['labels']} labels, "
        f"{result['cores']} cores, {result['when']}",
        "",
        "| run | rows/s | of the ceiling | × naive | peak RSS per process (MB) | status p99 at 200 req/s |",
        "|---|---|---|---|---|---|",
        f"| (a) database ceiling: INSERT … SELECT, server side | {ceiling:,} | 100 % | | | |",
    ]
    if naive:
        lines.append(f"| (b) naive: pandas read_sql, Python re, to_sql | {naive:,} | {naive / ceiling:.0%} | 1.0 | | |")
    for name, run in result["audience"].items():
        times = f"{run['rows_per_s'] / naive:.1f}" if naive else ""
        latency = run["status_latency"]
        p99 = f"{latency['p99_ms']} ms ({latency['requests']:,} requests)" if latency else ""
        peaks = ", ".join(str(p) for p in run["peak_rss_mb"])
        lines.append(
            f"| (c) Audience {name} | {run['rows_per_s']:,} | {run['rows_per_s'] / ceiling:.0%} | {times} "
            f"| {peaks} | {p99} |"
        )
    if "scaling" in result:
        s = result["scaling"]
        lines += ["", f"From N to 4 × N rows: time × {s['time_ratio']}, peak memory × {s['memory_ratio']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
