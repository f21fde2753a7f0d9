"""End to end through HTTP: a uvicorn API process, real Celery worker processes, MariaDB, Redis."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from models.keyword import KeywordModel
from settings import Settings
from tests.conftest import TEST_ENV
from tests.oracle import keyword_oracle
from tests.services import start_api, start_worker, wait_for
from tests.worker.flow import assert_labeled_exactly_once, create, wait_until_some_done
from utils.demo import generate_posts
from utils.text import join_columns
from workers.cli import DEMO_RULES, read_keyword_rules


def test_label_a_year_through_http(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    workers.append(start_worker(worker_env, tmp_path / "worker.log"))
    worker = psutil.Process(workers[0].proc.pid)
    assert [p.nice() for p in [worker, *worker.children(recursive=True)]] == [10, 10, 10]  # WORKER_NICE's default
    task_id = create(api, source_posts)
    status = wait_for(api, task_id, ("SUCCESS", "FAILURE", "BREAK"))
    assert_labeled_exactly_once(status, services, keyword_model, expected)
    assert status["error"] is None
    assert status["peak_rss_bytes"] > 10 * 1024 * 1024
    assert status["progress"]["rows_per_s"] > 0
    assert set(status["chunks"]) == {"DONE"} and status["chunks"]["DONE"] > 1
    listed = api.get("/predicting/tasks", params={"status": "SUCCESS", "limit": 500}).json()["tasks"]
    assert task_id in [t["task_id"] for t in listed]
    assert_log_tells_the_run(api, task_id, status)

    sample = api.get(f"/predicting/tasks/{task_id}/sample", params={"size": 25})
    assert sample.status_code == 200, sample.text
    rows = sample.json()["rows"]
    assert 0 < len(rows) <= 25
    assert len({r["source_id"] for r in rows}) == len(rows)
    model = KeywordModel(read_keyword_rules(DEMO_RULES))
    for row in rows:
        assert row["source_table"] == source_posts and row["source_id"] in expected["labeled"]
        got = [(x["label"], x["score"]) for x in row["labels"][keyword_model]]
        assert sorted(got) == model.predict([row["text"]])[0]


def assert_log_tells_the_run(api: httpx.Client, task_id: str, status: dict) -> None:
    """A line for the plan, one per batch (committed with it: their counts add up), one per finished
    chunk, one for the end; read whole, or followed a few lines at a time."""
    r = api.get(f"/predicting/tasks/{task_id}/log", params={"limit": 10_000})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    line = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|ERROR) (.+)$")
    messages = [m.group(2) for m in map(line.match, lines) if m and m.group(1) == "INFO"]
    assert len(messages) == len(lines)  # every line well formed, no error
    chunks = status["chunks"]["DONE"]
    assert messages[0].startswith(f"planned {status['progress']['total']:,} rows in range in {chunks} chunks")
    batches = [re.search(r"read ([\d,]+), excluded", m) for m in messages]
    assert sum(int(b.group(1).replace(",", "")) for b in batches if b) == status["progress"]["done"]
    assert sum(m.endswith(": done") for m in messages) == chunks
    assert messages[-1].startswith(f"finished SUCCESS: read {status['progress']['done']:,} rows")
    followed, after = [], 0
    while page := (r := api.get(f"/predicting/tasks/{task_id}/log", params={"after": after, "limit": 7})).text:
        followed += page.splitlines()
        after = int(r.headers["X-Next-After"])
    assert followed == lines and r.headers["X-Next-After"] == str(after)


def test_gevent_pool_labels_the_same(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    env = {**worker_env, "WORKER_POOL": "gevent", "WORKER_CONCURRENCY": "4"}
    workers.append(start_worker(env, tmp_path / "worker.log"))
    status = wait_for(api, create(api, source_posts), ("SUCCESS", "FAILURE", "BREAK"))
    assert_labeled_exactly_once(status, services, keyword_model, expected)
    assert "(gevent)" in workers[0].output()


def embedded_env(var: Path, rows: int) -> dict[str, str]:
    """The environment of `make run` with no .env, and a seeded demo table of `rows` posts."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
    env.update({"VAR_DIR": str(var), "OUTPUT_HOST": "", "INPUT_HOST": "", "BROKER_URL": "", "RESULT_BACKEND": ""})
    seeded = subprocess.run(
        [sys.executable, "-m", "workers.cli", "demo", "--rows", str(rows)], env=env, capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stderr
    return env


def demo_year(**extra: object) -> dict:
    return {
        "model_names": ["demo_keywords"],
        "source": {"tables": ["main.posts"]},
        "start_time": "2026-01-01T00:00:00",
        "end_time": "2027-01-01T00:00:00",
        **extra,
    }


def test_embedded_default_end_to_end(tmp_path: Path, workers: list) -> None:
    env = embedded_env(tmp_path / "var", 3000)
    assert sorted(p.name for p in (tmp_path / "var").iterdir() if p.suffix == ".sqlite") == [
        "output.sqlite",
        "source.sqlite",
    ]
    workers.append(start_worker(env, tmp_path / "worker.log", queues="predicting,modeling"))
    api_proc, url = start_api(env, tmp_path / "api.log")
    workers.append(api_proc)
    assert "sqla+sqlite" in workers[0].output()
    with httpx.Client(base_url=url, timeout=30) as client:
        r = client.post("/predicting/tasks", json=demo_year(batch_size=500))
        assert r.status_code == 200, r.text
        status = wait_for(client, r.json()["task_id"], ("SUCCESS", "FAILURE", "BREAK"), timeout=120)
        expected = keyword_oracle(list(generate_posts(3000)), read_keyword_rules(DEMO_RULES))
        assert status["status"] == "SUCCESS", status
        assert status["progress"]["done"] == 3000
        assert status["progress"]["labeled"] == len(expected["labeled"])
        assert status["label_counts"] == {"demo_keywords": expected["counts"]}
        sample = client.get(f"/predicting/tasks/{r.json()['task_id']}/sample", params={"size": 3}).json()
        assert len(sample["rows"]) == 3 and all(row["text"] and row["labels"] for row in sample["rows"])

        # The same year without the rows a pattern set excludes (JSON queries on SQLite, too).
        patterns = ["股市", "^$"]
        created = client.post("/preprocessing/patterns", json={"name": "no_stocks", "patterns": patterns})
        assert created.status_code == 200, created.text
        r = client.post("/predicting/tasks", json=demo_year(batch_size=500, pattern_set="no_stocks"))
        assert r.status_code == 200, r.text
        status = wait_for(client, r.json()["task_id"], ("SUCCESS", "FAILURE", "BREAK"), timeout=120)
        posts = list(generate_posts(3000))
        excluded = {
            p["id"] for p in posts if any(re.search(x, join_columns([p["title"], p["content"]])) for x in patterns)
        }
        kept = keyword_oracle([p for p in posts if p["id"] not in excluded], read_keyword_rules(DEMO_RULES))
        assert status["status"] == "SUCCESS", status
        assert status["progress"]["done"] == 3000 and status["progress"]["excluded"] == len(excluded) > 0
        assert status["label_counts"] == {"demo_keywords": kept["counts"]}
        listed = client.get("/preprocessing/patterns").json()["pattern_sets"]
        assert [(s["name"], s["pattern_count"], s["unfinished_tasks"]) for s in listed] == [("no_stocks", 2, 0)]
        assert client.delete(f"/preprocessing/patterns/{created.json()['pattern_set_id']}").status_code == 200


@pytest.mark.fault
def test_embedded_default_survives_sigkill_of_its_worker(tmp_path: Path, workers: list) -> None:
    """The SQLAlchemy broker never redelivers a fetched message; the next worker re-sends the work."""
    rows = 12_000
    env = {**embedded_env(tmp_path / "var", rows), "CHUNK_ROWS": "3000"}
    first = start_worker(env, tmp_path / "first.log")
    workers.append(first)
    api_proc, url = start_api(env, tmp_path / "api.log")
    workers.append(api_proc)
    with httpx.Client(base_url=url, timeout=30) as client:
        task_id = client.post("/predicting/tasks", json=demo_year(batch_size=50)).json()["task_id"]
        wait_until_some_done(client, task_id, 500)
        first.kill(signal.SIGKILL)
        killed_at = client.get(f"/predicting/tasks/{task_id}").json()
        assert killed_at["status"] == "STARTED" and killed_at["progress"]["done"] < rows
        second = start_worker(env, tmp_path / "second.log", name="second")
        workers.append(second)
        status = wait_for(client, task_id, ("SUCCESS", "FAILURE", "BREAK"), timeout=180)
    expected = keyword_oracle(list(generate_posts(rows)), read_keyword_rules(DEMO_RULES))
    assert status["status"] == "SUCCESS", status
    assert status["progress"]["done"] == rows
    assert status["label_counts"] == {"demo_keywords": expected["counts"]}
    assert "re-sent 1 unfinished task" in second.output()
    with sqlite3.connect(tmp_path / "var" / "output.sqlite") as db:
        stored, distinct_rows = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT source_id) FROM labels WHERE task_id = ?", (task_id,)
        ).fetchone()
    assert stored == sum(expected["counts"].values())
    assert distinct_rows == len(expected["labeled"])
