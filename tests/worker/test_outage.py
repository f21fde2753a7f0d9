"""The output schema refuses the service's account while a task runs (a locked or revoked account, a
password rotated under it): chunks retry for OUTPUT_OUTAGE_RETRY_S, never for ever, the task log tells of
the outage once it can be written, and the task ends with every row labeled exactly once."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, text

from settings import Settings
from tests.faults import _kill
from tests.services import start_worker
from tests.worker.flow import Fault, assert_labeled_exactly_once, create, wait_until_some_done
from tests.worker.test_faults import Report, end_other_tests_tasks
from utils.db.engines import output_engine

pytestmark = pytest.mark.fault
ACCOUNT = "audience_outage"
PASSWORD = "outage-test-only"


@pytest.fixture
def own_account(services: Settings) -> Iterator[str]:
    """An output account of the workers' own, with the rights the README grants, to lock and unlock."""
    with output_engine(services).begin() as conn:
        for host in ("127.0.0.1", "localhost"):
            conn.execute(text(f"DROP USER IF EXISTS '{ACCOUNT}'@'{host}'"))
            conn.execute(text(f"CREATE USER '{ACCOUNT}'@'{host}' IDENTIFIED BY '{PASSWORD}'"))
            conn.execute(
                text(
                    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES "
                    f"ON `{services.output_schema}`.* TO '{ACCOUNT}'@'{host}'"
                )
            )
    yield ACCOUNT
    set_locked(services, False)
    with output_engine(services).begin() as conn:
        for host in ("127.0.0.1", "localhost"):
            conn.execute(text(f"DROP USER IF EXISTS '{ACCOUNT}'@'{host}'"))


def set_locked(settings: Settings, locked: bool) -> None:
    """Lock the account and cut its connections (a lock alone spares open ones), or unlock it."""
    with output_engine(settings).begin() as conn:
        for host in ("127.0.0.1", "localhost"):
            conn.execute(text(f"ALTER USER '{ACCOUNT}'@'{host}' ACCOUNT {'LOCK' if locked else 'UNLOCK'}"))
        if locked:
            _kill(conn, connections_of(conn))


def connections_of(conn: Connection) -> list[int]:
    query = text("SELECT id FROM information_schema.processlist WHERE user = :u")
    return list(conn.execute(query, {"u": ACCOUNT}).scalars())


def task_log(api: httpx.Client, task_id: str) -> str:
    return api.get(f"/predicting/tasks/{task_id}/log", params={"limit": 10_000}).text


def test_output_account_refused_mid_task_then_restored(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings, own_account: str,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    env = {**worker_env, "OUTPUT_USER": own_account, "OUTPUT_PASSWORD": PASSWORD}
    worker = start_worker(env, tmp_path / "worker.log")
    workers.append(worker)
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 400)
    fault = Fault(api, task_id)
    set_locked(services, True)
    time.sleep(4)
    # The API (another account) answers throughout; the task is still running, not failed.
    assert api.get(f"/predicting/tasks/{task_id}").json()["status"] == "STARTED"
    set_locked(services, False)
    recovery = fault.watch(timeout=240)
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    log = task_log(api, task_id)
    assert "the output schema refused every write for" in log, log[-3000:]
    assert "locked" in log  # the cause, in the database's words


def test_output_account_refused_longer_than_the_retry_budget(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings, own_account: str,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """Retries end after OUTPUT_OUTAGE_RETRY_S: the messages are dropped (said in the worker's log), and
    recovery plans the task again from its checkpoints once the schema answers."""
    env = {
        **worker_env,
        "OUTPUT_USER": own_account,
        "OUTPUT_PASSWORD": PASSWORD,
        "OUTPUT_OUTAGE_RETRY_S": "3",
        "STALE_TASK_AFTER_S": "6",
    }
    end_other_tests_tasks(services)
    worker = start_worker(env, tmp_path / "worker.log")
    workers.append(worker)
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 400)
    fault = Fault(api, task_id)
    set_locked(services, True)
    deadline = time.monotonic() + 90
    while "this message is dropped" not in worker.output():
        assert time.monotonic() < deadline, worker.output()[-3000:]
        time.sleep(0.5)
    set_locked(services, False)
    recovery = fault.watch(timeout=240)
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    assert "the output schema has refused every write for" in worker.output()
    assert "planned again from its checkpoints" in task_log(api, task_id)
