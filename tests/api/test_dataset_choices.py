"""Uploads against MariaDB, the choices beside the file: label mode (detected, given, changed), the
policies for a text repeated with other labels, rejections counted by kind, and dev carved from train."""

import json
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from settings import Settings
from tests.api.conftest import assert_error
from tests.api.test_documenting_api import dataset_count, jsonl, unique, upload
from utils.db.engines import output_engine
from utils.db.tables import dataset_rows

TOPICS = ["体育", "财经", "美食"]


def stored(settings: Settings, dataset_id: int) -> list[tuple[int, str, str, list[str]]]:
    """(line, split, text, labels) of every stored row, in upload order."""
    r = dataset_rows.c
    query = select(r.line_no, r.split, r.text, r.labels).where(r.dataset_id == dataset_id).order_by(r.id)
    with output_engine(settings).connect() as conn:
        return [(line, split, text, labels) for line, split, text, labels in conn.execute(query)]


def single_label_rows(n: int) -> list[dict]:
    return [{"text": f"第{i}条 {TOPICS[i % 3]}", "label": [TOPICS[i % 3]]} for i in range(n)]


def test_every_row_one_label_is_single_label_unless_the_user_says_otherwise(client: TestClient) -> None:
    single = upload(client, jsonl(single_label_rows(12)))
    assert single.status_code == 200, single.text
    assert single.json()["multi_label"] is False
    dataset_id = single.json()["dataset_id"]
    assert client.get(f"/documenting/datasets/{dataset_id}").json()["multi_label"] is False
    listed = client.get("/documenting/datasets", params={"limit": 500}).json()["datasets"]
    assert next(d for d in listed if d["dataset_id"] == dataset_id)["multi_label"] is False
    assert upload(client, jsonl(single_label_rows(12)), multi_label="true").json()["multi_label"] is True
    assert upload(client, jsonl(single_label_rows(12)), multi_label="false").json()["multi_label"] is False


def test_one_row_with_two_labels_makes_a_dataset_multi_label(client: TestClient, services: Settings) -> None:
    rows = single_label_rows(12)
    rows[4]["label"] = ["体育", "美食"]
    assert upload(client, jsonl(rows)).json()["multi_label"] is True
    assert upload(client, jsonl(rows), multi_label="true").json()["multi_label"] is True
    before, name = dataset_count(services), unique()
    refused = upload(client, jsonl(rows), name=name, multi_label="false")
    assert_error(refused, 422, "multi_label: false, but line 5 has 2 labels (['体育', '美食'])")
    assert dataset_count(services) == before
    # A rejected row with two labels does not count: the label mode is of the stored rows.
    rows[4]["text"] = rows[1]["text"]
    assert upload(client, jsonl(rows), multi_label="false").json()["multi_label"] is False


def test_patch_sets_the_label_mode_and_refuses_single_label_for_a_row_with_several(client: TestClient) -> None:
    single = upload(client, jsonl(single_label_rows(6))).json()["dataset_id"]
    path = f"/documenting/datasets/{single}"
    assert client.patch(path, json={"multi_label": True}).json()["multi_label"] is True
    assert client.patch(path, json={"multi_label": False}).json()["multi_label"] is False
    assert_error(client.patch(path, json={"multi_label": "no"}), 422, "multi_label")

    rows = single_label_rows(6)
    rows[3]["label"] = ["财经", "体育"]
    several = upload(client, jsonl(rows)).json()
    path = f"/documenting/datasets/{several['dataset_id']}"
    assert_error(client.patch(path, json={"multi_label": False}), 422, "multi_label: false, but the row of line 4")
    after = client.get(path).json()
    assert after["multi_label"] is True and after["updated_at"] == several["updated_at"]


# A text repeated: line 3 and 8 agree with line 1, line 5 with line 2; lines 4 and 6 disagree with line 1.
REPEATS = [
    ("足球", ["体育"]),
    ("股票", ["财经"]),
    ("足球", ["体育"]),
    ("足球", ["财经"]),
    ("股票", ["财经"]),
    ("足球 ", ["美食"]),
    ("天气", ["生活"]),
    ("ＦＯＯＴＢＡＬＬ", ["体育"]),
    ("足球", ["体育"]),
]
CONFLICTS = [
    {"line": 4, "first_line": 1, "labels": ["财经"], "first_labels": ["体育"]},
    {"line": 6, "first_line": 1, "labels": ["美食"], "first_labels": ["体育"]},
]


def repeats_file() -> bytes:
    return jsonl([{"text": text, "label": labels} for text, labels in REPEATS])


def reupload_has_the_same_content(client: TestClient, body: dict) -> None:
    """The hash of rows withdrawn or merged, read back from the database, is the hash of those rows uploaded."""
    downloaded = client.get(f"/documenting/datasets/{body['dataset_id']}/download").content
    assert upload(client, downloaded, split_field="split").json()["sha256"] == body["sha256"]


def test_conflicts_under_first_keep_the_first_copy(client: TestClient, services: Settings) -> None:
    body = upload(client, repeats_file(), split_ratios="1,0,0").json()
    assert stored(services, body["dataset_id"]) == [
        (1, "train", "足球", ["体育"]),
        (2, "train", "股票", ["财经"]),
        (7, "train", "天气", ["生活"]),
        (8, "train", "ＦＯＯＴＢＡＬＬ", ["体育"]),
    ]
    assert [(r["line"], r["kind"]) for r in body["rejected_rows"]] == [
        (3, "repeat"), (4, "conflict"), (5, "repeat"), (6, "conflict"), (9, "repeat"),
    ]  # fmt: skip
    assert body["rejected_rows"][0]["reason"] == "repeat of line 1"
    assert (
        body["rejected_rows"][1]["reason"]
        == "conflicts with line 1 (['体育'] there, ['财经'] here): the first copy kept"
    )
    assert body["rejected_by_reason"] == {"conflict": 2, "repeat": 3} and body["rejected"] == 5
    assert body["conflicts"] == [{**c, "action": "kept_first"} for c in CONFLICTS] and body["conflicts_total"] == 2
    assert body["multi_label"] is False


def test_conflicts_under_reject_store_no_copy(client: TestClient, services: Settings) -> None:
    body = upload(client, repeats_file(), split_ratios="1,0,0", on_conflict="reject").json()
    assert stored(services, body["dataset_id"]) == [
        (2, "train", "股票", ["财经"]),
        (7, "train", "天气", ["生活"]),
        (8, "train", "ＦＯＯＴＢＡＬＬ", ["体育"]),
    ]
    assert body["rows"] == 3 and body["label_counts"]["train"] == {"体育": 1, "生活": 1, "财经": 1}
    assert [(r["line"], r["kind"]) for r in body["rejected_rows"]] == [
        (3, "repeat"), (4, "conflict"), (1, "conflict"), (5, "repeat"), (6, "conflict"), (9, "repeat"),
    ]  # fmt: skip
    assert body["rejected_rows"][2]["reason"] == "conflicts with line 4 (['财经'] there, ['体育'] here): no copy stored"
    assert body["rejected_by_reason"] == {"conflict": 3, "repeat": 3} and body["rejected"] == 6
    assert body["conflicts"] == [{**c, "action": "rejected_all"} for c in CONFLICTS]
    reupload_has_the_same_content(client, body)


def test_conflicts_under_merge_give_the_first_copy_every_label(client: TestClient, services: Settings) -> None:
    body = upload(client, repeats_file(), split_ratios="1,0,0", on_conflict="merge").json()
    assert stored(services, body["dataset_id"]) == [
        (1, "train", "足球", ["体育", "财经", "美食"]),
        (2, "train", "股票", ["财经"]),
        (7, "train", "天气", ["生活"]),
        (8, "train", "ＦＯＯＴＢＡＬＬ", ["体育"]),
    ]
    assert body["rejected_by_reason"] == {"repeat": 3} and body["rejected"] == 3
    assert body["conflicts"] == [{**c, "action": "merged"} for c in CONFLICTS] and body["conflicts_total"] == 2
    assert body["multi_label"] is True  # detected: the merge gave a row three labels
    assert body["label_counts"]["train"] == {"体育": 2, "生活": 1, "美食": 1, "财经": 2}
    reupload_has_the_same_content(client, body)
    assert upload(client, repeats_file(), on_conflict="merge", multi_label="true").json()["multi_label"] is True


def test_merge_on_a_dataset_the_user_says_is_single_label_is_refused(client: TestClient, services: Settings) -> None:
    before = dataset_count(services)
    r = upload(client, repeats_file(), on_conflict="merge", multi_label="false")
    assert_error(r, 422, "on_conflict: merge gives a text the labels of all its copies")
    assert_error(upload(client, repeats_file(), on_conflict="newest"), 422, "on_conflict")
    assert dataset_count(services) == before


def test_a_file_whose_every_row_conflicts_under_reject_stores_nothing(client: TestClient, services: Settings) -> None:
    before = dataset_count(services)
    content = jsonl([{"text": "足球", "label": ["体育"]}, {"text": "足球", "label": ["财经"]}])
    assert_error(upload(client, content, on_conflict="reject"), 400, "no row could be stored (2 rejected")
    assert dataset_count(services) == before


def test_more_than_200_rejections_are_counted_exactly_by_kind(client: TestClient) -> None:
    lines = [json.dumps({"text": f"正文{i}", "label": [TOPICS[i % 3]]}, ensure_ascii=False) for i in range(300)]
    lines += [json.dumps({"text": f"无标签{i}", "label": []}, ensure_ascii=False) for i in range(150)]
    lines += [json.dumps({"text": f"正文{i}", "label": [TOPICS[i % 3]]}, ensure_ascii=False) for i in range(100)]
    lines += ['{"text": "broken' for _ in range(60)]
    lines += [json.dumps({"text": f"正文{i}", "label": ["生活"]}, ensure_ascii=False) for i in range(250)]
    lines += [json.dumps({"text": "", "label": ["生活"]}) for _ in range(7)]
    body = upload(client, ("\n".join(lines) + "\n").encode()).json()
    assert body["rows"] == 300 and body["rejected"] == 567
    assert body["rejected_by_reason"] == {
        "conflict": 250, "empty_text": 7, "invalid_record": 60, "no_label": 150, "repeat": 100,
    }  # fmt: skip
    assert len(body["rejected_rows"]) == 200
    assert Counter(r["kind"] for r in body["rejected_rows"]) == {"no_label": 150, "repeat": 50}
    assert body["conflicts_total"] == 250 and len(body["conflicts"]) == 200
    assert body["conflicts"][0] == {
        "line": 611, "first_line": 1, "labels": ["生活"], "first_labels": ["体育"], "action": "kept_first",
    }  # fmt: skip


def split_file(train: int, test: int) -> bytes:
    rows = [{"text": f"训练{i}", "label": [TOPICS[i % 3]], "split": "train"} for i in range(train)]
    rows += [{"text": f"测试{i}", "label": [TOPICS[i % 3]], "split": "test"} for i in range(test)]
    return jsonl(rows)


def lines_of(rows: list[tuple[int, str, str, list[str]]], split: str) -> list[int]:
    return [line for line, s, _, _ in rows if s == split]


def test_dev_from_train_keeps_the_files_test_split_and_moves_a_stratified_share(
    client: TestClient, services: Settings
) -> None:
    content = split_file(300, 50)
    body = upload(client, content, split_field="split", dev_from_train="0.2", seed=3).json()
    assert body["split_from"] == "column 'split'; dev: 0.2 of train, stratified, seed 3"
    rows = stored(services, body["dataset_id"])
    assert lines_of(rows, "test") == list(range(301, 351))  # exactly the file's test rows
    assert len(lines_of(rows, "dev")) == 60 and len(lines_of(rows, "train")) == 240
    assert body["label_counts"]["dev"] == {"体育": 20, "美食": 20, "财经": 20}  # stratified by label
    assert body["label_counts"]["test"] == {"体育": 17, "美食": 16, "财经": 17}
    assert body["warnings"] == []

    same = upload(client, content, split_field="split", dev_from_train="0.2", seed=3).json()
    assert lines_of(stored(services, same["dataset_id"]), "dev") == lines_of(rows, "dev")
    assert same["sha256"] == body["sha256"]
    other = upload(client, content, split_field="split", dev_from_train="0.2", seed=4).json()
    assert lines_of(stored(services, other["dataset_id"]), "dev") != lines_of(rows, "dev")


def test_dev_from_train_after_a_stratified_split(client: TestClient, services: Settings) -> None:
    content = jsonl(single_label_rows(300))
    body = upload(client, content, dev_from_train="0.1", seed=5).json()
    assert body["split_from"] == "stratified 0.9/0/0.1, seed 5; dev: 0.1 of train, stratified, seed 5"
    sizes = client.get(f"/documenting/datasets/{body['dataset_id']}").json()["split_sizes"]
    assert sizes == {"train": 243, "dev": 27, "test": 30}
    # The test split is the one the ratios alone give: dev is taken from train only.
    without = upload(client, content, split_ratios="0.9,0,0.1", seed=5).json()
    test_rows = lines_of(stored(services, without["dataset_id"]), "test")
    assert lines_of(stored(services, body["dataset_id"]), "test") == test_rows
    few = upload(client, jsonl(single_label_rows(3)), dev_from_train="0.1").json()
    assert few["warnings"] == [
        "the dev split is empty: 3 train rows are too few for a share of 0.1",
        "the test split is empty: 3 rows are too few for a share of 0.1",
    ]


@pytest.mark.parametrize(
    ("form", "needle"),
    [
        ({"dev_from_train": "0.1", "split_ratios": "0.8,0.1,0.1"}, "dev_from_train: split_ratios gives dev a share"),
        ({"dev_from_train": "0"}, "dev_from_train"),
        ({"dev_from_train": "1"}, "dev_from_train"),
        ({"dev_from_train": "nan"}, "dev_from_train"),
        ({"split_field": "split", "split_ratios": "0.8,0.1,0.1"}, "split_ratios: the column 'split' (split_field)"),
    ],
)
def test_split_choices_that_make_no_sense_are_refused(client: TestClient, form: dict, needle: str) -> None:
    assert_error(upload(client, split_file(30, 5), **form), 422, needle)


def test_dev_from_train_refuses_a_file_that_gives_dev_rows(client: TestClient, services: Settings) -> None:
    rows = [{"text": f"行{i}", "label": ["体育"], "split": ("train", "dev", "test")[i % 3]} for i in range(30)]
    before = dataset_count(services)
    r = upload(client, jsonl(rows), split_field="split", dev_from_train="0.1")
    assert_error(r, 422, "dev_from_train: the column 'split' gives 10 dev rows already")
    assert dataset_count(services) == before
