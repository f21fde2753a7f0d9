"""The dashboard in a real browser against the running service: the API key prompt, starting a
labeling task from the page, its progress bar moving, the abort with its confirmation, and BREAK."""

import re
import time

from playwright.sync_api import Page, expect

from tests.dashboard.conftest import API_KEY, Stack


def percent_of(page: Page) -> float:
    value = page.locator("[role=progressbar]").first.get_attribute("data-percent")
    return float(value) if value else 0.0


def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.1)


def test_start_watch_and_abort_a_task(stack: Stack, page: Page, shot, source_posts: str, keyword_model: str) -> None:
    page.goto(f"{stack.url}/#/tasks")
    # The service has keys: the page asks for one before it shows anything.
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#key-reason")).to_contain_text("asks for an API key")
    shot(page, "1-api-key")
    page.fill("#key-input", "not-the-key")
    page.click("#key-save")
    expect(page.locator("#key-reason")).to_contain_text("not accepted")
    page.fill("#key-input", API_KEY)
    page.click("#key-save")
    expect(page.locator("#labeling-tasks")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('audience.apiKey')") == API_KEY

    page.click("#new-task")
    page.check(f"input[name=model][value={keyword_model}]")
    page.fill("input[name=tables]", source_posts)
    page.fill("input[name=start_time]", "2026-01-01T00:00:00")
    page.fill("input[name=end_time]", "2027-01-01T00:00:00")
    page.fill("input[name=batch_size]", "2")  # thousands of batches: slow enough to watch and abort
    page.click("#start-task")

    expect(page).to_have_url(re.compile(r"#/task/[0-9a-f]{32}$"))
    task_id = page.url.rsplit("/", 1)[1]
    wait_until(lambda: percent_of(page) > 0, 60, "the bar leaves 0 %")
    first = percent_of(page)
    wait_until(lambda: percent_of(page) > first, 60, f"the bar moves past {first} %")
    expect(page.locator("h1 [data-status]")).to_have_text("STARTED")
    expect(page.locator("[data-figure=rate]")).not_to_have_text("–")
    expect(page.locator("#sample tbody tr td.text").first).to_be_visible()
    expect(page.locator("#error")).to_be_hidden()  # no poll failed, the sample's early 404 included
    shot(page, "2-running")

    page.click("#abort")
    expect(page.locator("#confirm-dialog")).to_be_visible()
    shot(page, "3-confirm-abort")
    page.click("#confirm-cancel")  # "Keep running": nothing is sent
    assert stack.client.get(f"/predicting/tasks/{task_id}").json()["abort_requested"] is False
    page.click("#abort")
    page.click("#confirm-ok")

    expect(page.locator("h1 [data-status]")).to_have_text("BREAK", timeout=60_000)
    expect(page.locator("#abort")).to_be_hidden()
    stopped_at = percent_of(page)
    assert 0 < stopped_at < 100
    body = stack.client.get(f"/predicting/tasks/{task_id}").json()
    assert body["status"] == "BREAK" and body["abort_requested"] is True
    assert body["progress"]["percent"] == stopped_at
    expect(page.locator("pre.log")).to_contain_text("abort")
    shot(page, "4-break")

    page.click("nav a[data-nav=tasks]")
    row = page.locator(f"#labeling-tasks tr[data-task='{task_id}']")
    expect(row.locator("[data-status]")).to_have_text("BREAK")
    shot(page, "5-task-list")
    page.select_option("#status-filter", "SUCCESS")
    expect(row).to_have_count(0)
    page.select_option("#status-filter", "BREAK")
    expect(row).to_have_count(1)
