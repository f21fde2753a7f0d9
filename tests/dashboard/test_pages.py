"""The dashboard's other pages in a real browser, checked against what the API answers: the model
registry and two models side by side, a dataset, a rule set, a pattern set's dry run, and errors."""

import time

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import API_KEY, Stack
from tests.samples import SAMPLE, as_jsonl, split_rows, split_upload


def enter_key(page: Page, url: str) -> None:
    page.goto(url)
    page.fill("#key-input", API_KEY)
    page.click("#key-save")


def finished(stack: Stack, task_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = stack.client.get(f"/modeling/tasks/{task_id}").json()
        if body["status"] in ("SUCCESS", "FAILURE", "BREAK"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"modeling task {task_id} did not finish")


@pytest.fixture(scope="module")
def catalogue(stack: Stack) -> dict:
    """A dataset, a rule set, a pattern set and two models trained on the dataset."""
    dataset = stack.client.post(
        "/documenting/datasets",
        files={"file": ("sample.jsonl", split_upload())},
        data={
            "name": "微博话题",
            "split_field": "split",
            "labels": (SAMPLE / "labels.json").read_text(encoding="utf-8"),
        },
    ).json()
    rules = stack.client.post(
        "/documenting/rule-sets",
        files={"file": ("rules.csv", (SAMPLE / "rules.csv").read_bytes())},
        data={"name": "话题规则"},
    ).json()
    patterns = stack.client.post(
        "/preprocessing/patterns", json={"name": "广告", "patterns": [r"加微信\s*[0-9A-Za-z_-]{5,20}", r"^\s*$"]}
    ).json()
    models = {}
    for kind in ("term_weight", "complement_nb"):
        created = stack.client.post(
            "/modeling/tasks",
            json={"dataset_id": dataset["dataset_id"], "model_type": kind, "model_name": f"话题-{kind}"},
        ).json()
        done = finished(stack, created["task_id"])
        assert done["status"] == "SUCCESS", done
        models[kind] = stack.client.get(f"/modeling/models/话题-{kind}").json()
    return {"dataset": dataset, "rules": rules, "patterns": patterns, "models": models}


def test_models_side_by_side_on_the_same_test_set(stack: Stack, catalogue: dict, page: Page, shot) -> None:
    a, b = catalogue["models"]["term_weight"], catalogue["models"]["complement_nb"]
    enter_key(page, f"{stack.url}/#/models")
    for model in (a, b):  # other tests' models may be listed too
        expect(page.locator("#models tbody tr", has_text=model["name"])).to_have_count(1)
    page.select_option("#compare-a", f"{a['name']}@{a['version']}")
    page.select_option("#compare-b", f"{b['name']}@{b['version']}")
    page.click("#compare")
    comparison = page.locator("#comparison")
    expect(comparison).to_be_visible()
    expect(page.get_by_text("tested on its test split")).to_be_visible()
    report_a, report_b = a["metrics"]["test"]["report"], b["metrics"]["test"]["report"]
    for label in a["labels"]:
        cells = comparison.locator("tr", has=page.locator("td:first-child", has_text=label)).first.locator("td")
        expect(cells.nth(3)).to_have_text(f"{report_a[label]['f1-score']:.3f}")
        expect(cells.nth(6)).to_have_text(f"{report_b[label]['f1-score']:.3f}")
    # One heatmap per model, its cells the stored gold × predicted counts.
    expect(page.locator("table.heatmap")).to_have_count(2)
    counts = a["metrics"]["test"]["matrix"]["counts"]
    first_row = page.locator("table.heatmap").first.locator("tbody tr").first.locator("td")
    expect(first_row).to_have_text([f"{n:,}" for n in counts[0]])
    shot(page, "compare")


def test_evaluate_both_models_on_a_chosen_split(stack: Stack, catalogue: dict, page: Page) -> None:
    a, b = catalogue["models"]["term_weight"], catalogue["models"]["complement_nb"]
    enter_key(page, f"{stack.url}/#/compare?a={a['name']}@{a['version']}&b={b['name']}@{b['version']}")
    page.select_option("select >> nth=1", "dev")
    page.click("#evaluate-both")
    expect(page.locator("#comparison")).to_be_visible(timeout=120_000)
    dev_a = a["metrics"]["dev"]["report"]["micro avg"]["f1-score"]  # the same rows as at training
    row = page.locator("#comparison tr", has=page.locator("td:first-child", has_text="micro avg"))
    expect(row.locator("td").nth(3)).to_have_text(f"{dev_a:.3f}")


def test_model_dataset_rule_set_pages(stack: Stack, catalogue: dict, page: Page, shot) -> None:
    model = catalogue["models"]["term_weight"]
    enter_key(page, f"{stack.url}/#/model/{model['name']}/{model['version']}")
    expect(page.locator("table.report")).to_be_visible()
    expect(page.locator("table.heatmap")).to_be_visible()
    page.select_option("section select", "dev")
    micro = model["metrics"]["dev"]["report"]["micro avg"]
    row = page.locator("table.report tr.average", has=page.locator("td", has_text="micro avg"))
    expect(row.locator("td").nth(1)).to_have_text(f"{micro['precision']:.3f}")
    # Multi-label: subset accuracy and Hamming loss beside the report, and each label's threshold.
    expect(page.locator("[data-figure=accuracy]")).to_have_text(f"{model['metrics']['dev']['subset_accuracy']:.3f}")
    expect(page.locator("[data-figure=hamming]")).to_have_text(f"{model['metrics']['dev']['hamming_loss']:.3f}")
    expect(page.get_by_text("any number (multi-label)")).to_be_visible()
    expect(page.get_by_text(model["decision"]["threshold_method"])).to_be_visible()
    thresholds = page.locator("table.thresholds tbody tr")
    expect(thresholds).to_have_count(len(model["labels"]))
    expect(thresholds.locator("td:last-child")).to_have_text(
        [f"{model['decision']['thresholds'][label]:.3f}" for label in model["labels"]]
    )
    shot(page, "model")
    page.click(f"a[href='#/modeling-task/{model['task_id']}']")  # the training task behind it
    expect(page.locator("h1 [data-status]")).to_have_text("SUCCESS")
    expect(page.locator("pre.log")).to_contain_text("finished SUCCESS")
    expect(page.locator("table.report")).to_be_visible()

    dataset = catalogue["dataset"]
    page.click("nav a[data-nav=datasets]")
    expect(page.locator("#datasets")).to_contain_text("微博话题")
    page.click("#datasets a")
    expect(page.locator("h1")).to_contain_text("微博话题")
    labels = {label for split in dataset["label_counts"].values() for label in split}
    expect(page.locator("svg.chart text[lang]")).to_have_count(len(labels))
    expect(page.locator("#examples tbody tr").first).to_be_visible()
    shot(page, "dataset")

    page.goto(f"{stack.url}/#/rule-set/{catalogue['rules']['rule_set_id']}")
    expect(page.locator("h1")).to_contain_text("话题规则")
    page.fill("input[type=search]", "NBA")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr code")).to_have_text("NBA")


def test_pattern_set_dry_run(stack: Stack, catalogue: dict, page: Page, shot) -> None:
    enter_key(page, f"{stack.url}/#/patterns")
    page.click("#pattern-sets a")
    page.fill("#dry-run-texts", "加微信 abc12345 领红包\n今天天气很好")
    page.click("#dry-run")
    result = page.locator("#dry-run-result")
    expect(result).to_contain_text("1 of 2 texts would be left out")
    expect(result.locator("tbody tr").first).to_contain_text("left out")
    expect(result.locator("tbody tr").nth(1)).to_contain_text("kept")
    shot(page, "dry-run")


def test_errors_are_said_in_plain_words(stack: Stack, catalogue: dict, page: Page) -> None:
    enter_key(page, f"{stack.url}/#/task/{'0' * 32}")
    expect(page.locator("#error")).to_contain_text("task id does not exist")
    page.goto(f"{stack.url}/#/new-task")
    page.reload()
    page.check("input[name=model] >> nth=0")
    page.fill("input[name=tables]", "posts; DROP")
    page.click("#start-task")
    plain = "Please check the input: source.tables[0]: a table name is 1 to 64 ASCII letters"
    expect(page.locator("#form-error")).to_contain_text(plain)


def test_a_single_label_model_page(stack: Stack, page: Page, shot) -> None:
    """A model of single-label data: one label per text, plain accuracy, and its confusion matrix."""
    rows = [row for row in split_rows() if len(row["label"]) == 1]
    dataset = stack.client.post(
        "/documenting/datasets",
        files={"file": ("single.jsonl", as_jsonl(rows))},
        data={"name": "单标签话题", "split_field": "split"},
    ).json()
    assert dataset["multi_label"] is False, dataset
    created = stack.client.post(
        "/modeling/tasks",
        json={"dataset_id": dataset["dataset_id"], "model_type": "term_weight", "model_name": "单标签-term_weight"},
    ).json()
    assert finished(stack, created["task_id"])["status"] == "SUCCESS"
    model = stack.client.get("/modeling/models/单标签-term_weight").json()
    test = model["metrics"]["test"]
    enter_key(page, f"{stack.url}/#/model/{model['name']}/{model['version']}")
    expect(page.get_by_text("one, the best-scoring (single-label)")).to_be_visible()
    expect(page.locator("[data-figure=accuracy]")).to_have_text(f"{test['accuracy']:.3f}")
    expect(page.locator("[data-figure=hamming]")).to_have_count(0)
    expect(page.locator("table.thresholds")).to_have_count(0)
    expect(page.get_by_role("heading", name="Confusion matrix")).to_be_visible()
    # The heatmap's cells are scikit-learn's confusion matrix, label by label, without a "no label" column.
    heat_rows = page.locator("table.heatmap tbody tr")
    expect(heat_rows).to_have_count(len(test["confusion_matrix"]["labels"]))
    expect(heat_rows.first.locator("td")).to_have_text([f"{n:,}" for n in test["confusion_matrix"]["counts"][0]])
    shot(page, "model-single-label")
