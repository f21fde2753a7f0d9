"""Driving a predicting task over HTTP and checking its output against the oracle."""

import time
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select

from settings import Settings
from tests.conftest import task_body
from utils.db.engines import output_engine
from utils.db.tables import chunks, labels

FINISHED = ("SUCCESS", "FAILURE", "BREAK")


def label_count(settings: Settings, task_id: str) -> int:
    """The number of label rows of a task."""
    with output_engine(settings).connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(labels).where(labels.c.task_id == task_id)).scalar_one()
        )


def stored_pairs(settings: Settings, task_id: str) -> list[tuple[int, str]]:
    """Every (source id, label) a task stored, duplicates included."""
    with output_engine(settings).connect() as conn:
        rows = conn.execute(select(labels.c.source_id, labels.c.label).where(labels.c.task_id == task_id))
        return [(int(i), str(label)) for i, label in rows]


def damage(settings: Settings, status: dict, expected: dict) -> tuple[int, int]:
    """(rows lost, duplicate rows) of a finished task against the oracle: source rows missing a label
    they should have, plus label rows stored or rows counted beyond a clean run's."""
    pairs = stored_pairs(settings, status["task_id"])
    missing = expected["pairs"] - set(pairs)
    surplus = len(pairs) - len(set(pairs)) + len(set(pairs) - expected["pairs"])
    counted_twice = max(0, status["progress"]["done"] - expected["rows"])
    return len({i for i, _ in missing}), surplus + counted_twice


def chunk_attempts(settings: Settings, task_id: str) -> list[int]:
    with output_engine(settings).connect() as conn:
        return list(conn.execute(select(chunks.c.attempts).where(chunks.c.task_id == task_id)).scalars())


def assert_labeled_exactly_once(status: dict, settings: Settings, model: str, expected: dict) -> None:
    task_id = status["task_id"]
    assert status["status"] == "SUCCESS", status
    assert status["progress"]["total"] == expected["rows"]
    assert status["progress"]["done"] == expected["rows"]
    assert status["progress"]["labeled"] == len(expected["labeled"])
    assert status["progress"]["percent"] == 100.0
    assert status["label_counts"] == {model: expected["counts"]}
    pairs = stored_pairs(settings, task_id)
    assert len(pairs) == expected["labels"]  # no row labeled twice (and the unique key forbids it)
    assert set(pairs) == expected["pairs"]  # the same labels as a clean run, no row lost


def create(api: httpx.Client, table: str, **extra: object) -> str:
    r = api.post("/predicting/tasks", json=task_body(table, **extra))
    assert r.status_code == 200, r.text
    return str(r.json()["task_id"])


def wait_until_some_done(api: httpx.Client, task_id: str, rows: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get(f"/predicting/tasks/{task_id}").json()
        assert status["status"] in ("PENDING", "STARTED"), status
        if status["progress"]["done"] >= rows:
            return status
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did no work in {timeout}s")


@dataclass
class Recovery:
    status: dict
    resumed_s: float | None  # from the fault to the first row done after it
    finished_s: float  # from the fault to the task's end


class Fault:
    """The moment a fault was injected into a running task, to time the recovery from."""

    def __init__(self, api: httpx.Client, task_id: str) -> None:
        self.api, self.task_id = api, task_id
        self.done = api.get(f"/predicting/tasks/{task_id}").json()["progress"]["done"]
        self.at = time.monotonic()

    def watch(self, timeout: float = 180) -> Recovery:
        """Poll until the task ends. A task that has started never shows PENDING again."""
        resumed: float | None = None
        deadline = self.at + timeout
        body: dict = {}
        started = False
        while time.monotonic() < deadline:
            r = self.api.get(f"/predicting/tasks/{self.task_id}")
            assert r.status_code == 200, r.text
            body = r.json()
            started = started or body["status"] != "PENDING"
            assert not (started and body["status"] == "PENDING"), body
            if resumed is None and body["progress"]["done"] > self.done:
                resumed = time.monotonic() - self.at
            if body["status"] in FINISHED:
                return Recovery(body, resumed, time.monotonic() - self.at)
            time.sleep(0.1)
        raise AssertionError(f"task {self.task_id} not finished {timeout}s after the fault: {body}")
