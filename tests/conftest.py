"""Test configuration. Integration tests run on real MariaDB, Redis and worker processes; when
MariaDB or Redis is missing they fail with the reason, they are never skipped."""

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

# Several checkouts may test on one machine at once: AUDIENCE_TEST_NS names their schemas apart and
# AUDIENCE_TEST_REDIS_DB picks the first of their two Redis databases.
NAMESPACE = os.environ.get("AUDIENCE_TEST_NS", "")
REDIS_DB = int(os.environ.get("AUDIENCE_TEST_REDIS_DB", "14"))

# The settings every process of the suite sees; set before any project module reads them.
TEST_ENV = {
    "ENV": "development",
    "VAR_DIR": tempfile.mkdtemp(prefix="audience-test-var-"),
    "OUTPUT_HOST": os.environ.get("TEST_MARIADB_HOST", "127.0.0.1"),
    "OUTPUT_PORT": "3306",
    "OUTPUT_USER": "root",
    "OUTPUT_PASSWORD": "",
    "OUTPUT_SCHEMA": f"audience_test{NAMESPACE}_out",
    "INPUT_HOST": os.environ.get("TEST_MARIADB_HOST", "127.0.0.1"),
    "INPUT_PORT": "3306",
    "INPUT_USER": "root",
    "INPUT_PASSWORD": "",
    "INPUT_SCHEMA": f"audience_test{NAMESPACE}_src",
    "BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "RESULT_BACKEND": f"redis://127.0.0.1:6379/{REDIS_DB + 1}",
    # Short, so a message of a killed worker comes back within seconds.
    "BROKER_VISIBILITY_TIMEOUT": "8",
    "BROKER_RESTORE_INTERVAL": "1",
    "WORKER_POOL": "prefork",
    "WORKER_CONCURRENCY": "2",
    "BATCH_SIZE": "1000",
    "CHUNK_ROWS": "4000",
    "API_KEYS": "",
    "LOG_LEVEL": "INFO",
}
os.environ.update(TEST_ENV)

import pytest  # noqa: E402
import redis  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from settings import Settings, get_settings  # noqa: E402
from tests.oracle import keyword_oracle  # noqa: E402
from utils.db.engines import ensure_database, source_engine  # noqa: E402
from utils.db.migrating import upgrade_output_schema  # noqa: E402
from utils.demo import generate_posts, posts_table, seed_posts  # noqa: E402
from workers.cli import DEMO_RULES, read_keyword_rules, register_keyword_model  # noqa: E402

# 30,000 posts from October 2025 to March 2027; the test range is the year 2026.
SOURCE_ROWS = 30_000
SOURCE_START = datetime(2025, 10, 1)
SOURCE_DAYS = 517
RANGE = (datetime(2026, 1, 1), datetime(2027, 1, 1))
MODEL = "test_keywords"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--trials", type=int, default=1, help="run each fault scenario (marker fault) this many times")
    parser.addoption("--fault-report", default=None, help="append each fault trial's outcome as a JSON line here")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    trials = int(metafunc.config.getoption("trials"))
    if trials > 1 and metafunc.definition.get_closest_marker("fault"):
        metafunc.fixturenames.append("trial")
        metafunc.parametrize("trial", range(1, trials + 1), indirect=True)


@pytest.fixture
def trial(request: pytest.FixtureRequest) -> int:
    """The number of this run of a fault scenario under --trials."""
    return int(request.param)


class FaultReport:
    """Writes each fault trial's outcome and what it measured (record_property) as a JSON line."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "fault" not in report.keywords or not (report.when == "call" or report.failed):
            return
        line = {
            "trial": report.nodeid,
            "test": report.nodeid.split("[")[0],
            "outcome": report.outcome,
            "when": report.when,
            "duration_s": round(report.duration, 3),
            "measured": dict(report.user_properties),
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("fault_report")
    if path:
        config.pluginmanager.register(FaultReport(path), "fault_report")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "services" in item.fixturenames or "worker_env" in item.fixturenames:
            item.add_marker(pytest.mark.services)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def services(settings: Settings) -> Settings:
    """Fresh test schemas in MariaDB and empty Redis databases; fails loudly if either is down."""
    try:
        redis.Redis.from_url(settings.broker_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required at {settings.broker_url}: {exc}", pytrace=False)
    server = create_engine(f"mysql+pymysql://root:@{TEST_ENV['OUTPUT_HOST']}:3306/?charset=utf8mb4")
    try:
        with server.begin() as conn:
            for schema in (settings.output_schema, settings.input_schema):
                conn.execute(text(f"DROP DATABASE IF EXISTS `{schema}`"))
    except Exception as exc:
        pytest.fail(f"MariaDB is required at {TEST_ENV['OUTPUT_HOST']}:3306 (root): {exc}", pytrace=False)
    finally:
        server.dispose()
    for url in (settings.broker_url, settings.result_backend):
        redis.Redis.from_url(url).flushdb()
    ensure_database(settings.source_url)
    upgrade_output_schema(settings)
    return settings


@pytest.fixture(scope="session")
def source_posts(services: Settings) -> str:
    """The seeded source table, as a task names it."""
    seed_posts(source_engine(services), posts_table("posts"), SOURCE_ROWS, start=SOURCE_START, days=SOURCE_DAYS)
    return f"{services.input_schema}.posts"


@pytest.fixture(scope="session")
def keyword_model(services: Settings) -> str:
    register_keyword_model(MODEL, DEMO_RULES)
    return MODEL


@pytest.fixture(scope="session")
def expected() -> dict:
    """What the demo rules should give on the seeded rows in range, computed without the model."""
    rows = [
        r
        for r in generate_posts(SOURCE_ROWS, start=SOURCE_START, days=SOURCE_DAYS)
        if RANGE[0] <= r["post_time"] < RANGE[1]
    ]
    return keyword_oracle(rows, read_keyword_rules(DEMO_RULES))


@pytest.fixture
def worker_env(services: Settings, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {**os.environ, **TEST_ENV}


def task_body(table: str, model: str = MODEL, **extra: object) -> dict:
    return {
        "model_names": [model],
        "source": {"tables": [table]},
        "start_time": RANGE[0].isoformat(),
        "end_time": RANGE[1].isoformat(),
        **extra,
    }
