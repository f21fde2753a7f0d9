"""Fixtures of the dashboard tests: the API with API keys, a worker of both queues, and Debian's
chromium driven by Playwright. Screenshots go to TEST_ARTIFACTS (default test-artifacts/dashboard)."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from playwright.sync_api import Browser, Page, sync_playwright

from settings import Settings
from tests.conftest import TEST_ENV
from tests.services import ROOT, Process, start_api, start_worker

API_KEY = "dashboard-test-key"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts")) / "dashboard"


class Stack:
    def __init__(self, url: str, client: httpx.Client) -> None:
        self.url, self.client = url, client


@pytest.fixture(scope="module")
def stack(services: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    for url in (services.broker_url, services.result_backend):
        redis.Redis.from_url(url).flushdb()
    logs = tmp_path_factory.mktemp("dashboard")
    env = {**os.environ, **TEST_ENV, "API_KEYS": API_KEY}
    procs: list[Process] = [start_worker(env, logs / "worker.log", name="dashboard", queues="predicting,modeling")]
    api, url = start_api(env, logs / "api.log")
    procs.append(api)
    with httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": API_KEY}) as client:
        yield Stack(url, client)
    for proc in procs:
        proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Debian's chromium is required for the dashboard tests: run `make test_deps`", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A laptop-sized page; the JavaScript errors it raises fail the test."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"the page raised: {errors}"


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> object:
    """shot(page, name): a full-page screenshot saved as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
