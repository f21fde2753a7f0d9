"""The documenting API against MariaDB: datasets and rule sets, and every kind of bad upload."""

import json
import tracemalloc
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from apis.app import create_app
from settings import Settings
from tests.api.conftest import assert_error
from utils.dataset_import import AcceptedRows
from utils.db import dataset_store, task_store
from utils.db.engines import output_engine
from utils.db.tables import dataset_rows, datasets

TOPICS = {
    "体育": ["足球比赛太精彩了", "湖人队赢了季后赛", "篮球场上人山人海", "世界杯预选赛加油"],
    "财经": ["股市今天大涨", "基金经理说要谨慎", "好几只股票涨停", "理财收益不错"],
    "美食": ["火锅真好吃", "奶茶店排长队", "这家餐厅的面很香", "周末去吃烤鸭"],
}


def unique(prefix: str = "ds") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def doccano_rows(n: int) -> list[dict]:
    """`n` distinct posts; every fifth carries two labels, some have emoji and zero-width spaces."""
    names = list(TOPICS)
    rows = []
    for i in range(n):
        label = names[i % 3]
        text = f"{TOPICS[label][i % 4]} 第{i}条"
        labels = [label]
        if i % 5 == 0:
            labels.append(names[(i + 1) % 3])
        if i % 7 == 0:
            text += " 😂\u200b👍"
        rows.append({"id": i + 1, "text": text, "label": labels})
    return rows


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def upload(client: TestClient, content: bytes, filename: str = "data.jsonl", name: str | None = None, **form):
    data = {"name": name or unique(), **{k: str(v) for k, v in form.items()}}
    return client.post("/documenting/datasets", files={"file": (filename, content)}, data=data)


def stored_rows(settings: Settings, dataset_id: int) -> int:
    with output_engine(settings).connect() as conn:
        query = select(func.count()).select_from(dataset_rows).where(dataset_rows.c.dataset_id == dataset_id)
        return conn.execute(query).scalar_one()


def dataset_count(settings: Settings) -> int:
    with output_engine(settings).connect() as conn:
        return conn.execute(select(func.count()).select_from(datasets)).scalar_one()


def test_doccano_jsonl_upload_split_read_and_download_round_trip(client: TestClient, services: Settings) -> None:
    rows = doccano_rows(300)
    r = upload(client, jsonl(rows), seed=7)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"] == 300 and body["rejected"] == 0 and body["rejected_rows"] == []
    assert body["format"] == "jsonl" and body["encoding"] == "utf-8"
    assert body["split_from"] == "stratified 0.8/0.1/0.1, seed 7"
    expected_total: dict[str, int] = {}
    for row in rows:
        for label in row["label"]:
            expected_total[label] = expected_total.get(label, 0) + 1
    per_split = body["label_counts"]
    assert {label: sum(per_split[s].get(label, 0) for s in per_split) for label in expected_total} == expected_total
    assert [item["name"] for item in body["label_set"]] == sorted(TOPICS)
    # stratified: every split keeps every label
    assert all(set(per_split[s]) == set(TOPICS) for s in ("train", "dev", "test"))
    dataset_id = body["dataset_id"]
    assert stored_rows(services, dataset_id) == 300

    detail = client.get(f"/documenting/datasets/{dataset_id}").json()
    assert sum(detail["split_sizes"].values()) == 300 and 200 <= detail["split_sizes"]["train"] <= 260
    assert detail["examples"][0]["text"] == rows[0]["text"]  # emoji and zero-width kept as written
    assert client.get(f"/documenting/datasets/{dataset_id}/labels").json()["labels"][0]["name"] == sorted(TOPICS)[0]

    downloaded = client.get(f"/documenting/datasets/{dataset_id}/download", params={"format": "jsonl"})
    assert downloaded.status_code == 200 and "attachment" in downloaded.headers["content-disposition"]
    lines = [json.loads(line) for line in downloaded.text.splitlines()]
    assert [(x["text"], x["label"]) for x in lines] == [(x["text"], x["label"]) for x in rows]
    again = upload(client, downloaded.content, split_field="split").json()
    assert again["sha256"] == body["sha256"]  # same rows, same splits
    as_csv = client.get(f"/documenting/datasets/{dataset_id}/download", params={"format": "csv", "split": "dev"})
    assert (
        as_csv.text.startswith("\ufefftext,label,split") and as_csv.text.count("\n") == detail["split_sizes"]["dev"] + 1
    )


def test_same_seed_same_split(client: TestClient) -> None:
    content = jsonl(doccano_rows(120))
    first, second = upload(client, content, seed=3).json(), upload(client, content, seed=3).json()
    other = upload(client, content, seed=4).json()
    assert first["sha256"] == second["sha256"] != other["sha256"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "big5"])
def test_encodings_are_detected(client: TestClient, encoding: str) -> None:
    text = "今天天氣很好，我們去公園散步吧。這家餐廳的牛肉麵非常好吃，推薦給大家！"
    rows = [{"text": f"{text}{i}", "label": ["生活" if i % 2 else "美食"]} for i in range(40)]
    r = upload(client, jsonl(rows).decode().encode(encoding))
    assert r.status_code == 200, r.text
    assert r.json()["encoding"] == {"utf-8-sig": "utf-8-sig", "gb18030": "gb18030", "big5": "big5"}[encoding]
    assert r.json()["rows"] == 40


def test_given_encoding_wins_and_mixed_encoding_rejects_the_odd_lines(client: TestClient) -> None:
    good = [json.dumps({"text": f"正常的一行{i}", "label": ["a"]}, ensure_ascii=False).encode() for i in range(5)]
    odd = json.dumps({"text": "这一行是GB18030", "label": ["a"]}, ensure_ascii=False).encode("gb18030")
    content = b"\n".join([*good[:2], odd, *good[2:]]) + b"\n"
    r = upload(client, content, encoding="utf-8")
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 5
    assert r.json()["rejected_rows"] == [{"line": 3, "kind": "bad_text", "reason": "bytes that are not valid utf-8"}]
    assert_error(upload(client, content, encoding="klingon"), 422, "encoding: unknown encoding 'klingon'")


def test_csv_with_quotes_newlines_ragged_rows_and_several_labels(client: TestClient) -> None:
    content = (
        'text,label\n'
        '"他说：""今天下雨""",天气\n'
        '"第一行\n第二行",天气#生活\n'
        'too,many,fields\n'
        'no label column value,\n'
        '普通的一行,生活\n'
    ).encode()  # fmt: skip
    r = upload(client, content, filename="data.csv")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"] == 3 and body["format"] == "csv"
    assert body["rejected_rows"] == [
        {"line": 5, "kind": "invalid_record", "reason": "3 fields where the header has 2"},
        {"line": 6, "kind": "no_label", "reason": "no label"},
    ]
    detail = client.get(f"/documenting/datasets/{body['dataset_id']}").json()
    texts = {e["text"]: e["labels"] for e in detail["examples"]}
    assert texts['他说："今天下雨"'] == ["天气"] and texts["第一行\n第二行"] == ["天气", "生活"]


def test_tsv_with_a_split_column(client: TestClient) -> None:
    content = "text\tlabel\tsplit\n一\ta\ttrain\n二\tb\tvalidation\n三\ta\ttest\n四\tb\tholdout\n".encode()
    body = upload(client, content, filename="x.tsv", split_field="split").json()
    assert body["rows"] == 3 and body["label_counts"] == {"train": {"a": 1}, "dev": {"b": 1}, "test": {"a": 1}}
    assert body["rejected_rows"] == [
        {"line": 5, "kind": "bad_split", "reason": "split 'holdout' is not one of train, dev, test"}
    ]


def test_json_array_and_missing_csv_column(client: TestClient) -> None:
    body = upload(client, json.dumps(doccano_rows(30), ensure_ascii=False).encode(), filename="x.json").json()
    assert body["format"] == "json" and body["rows"] == 30
    assert_error(upload(client, b"content,tag\n1,2\n", filename="x.csv"), 400, "header has no column 'text'")
    assert_error(upload(client, b"[1, 2", filename="x.json"), 400, "not valid JSON")


def test_broken_jsonl_line_in_the_middle_is_rejected_alone(client: TestClient) -> None:
    lines = jsonl(doccano_rows(10)).decode().splitlines()
    lines[4] = lines[4][:-5]
    body = upload(client, ("\n".join(lines) + "\n").encode()).json()
    assert body["rows"] == 9
    assert body["rejected_rows"][0]["line"] == 5 and "not valid JSON" in body["rejected_rows"][0]["reason"]


def test_labels_outside_the_declared_set_duplicates_and_oversized_texts(client: TestClient) -> None:
    rows = [
        {"text": "足球", "label": ["体育"]},
        {"text": "股票", "label": ["财经"]},
        {"text": "足球", "label": ["体育"]},
        {"text": "Ｆｏｏｔｂａｌｌ", "label": ["体育"]},
        {"text": "football", "label": ["体育"]},
        {"text": "长" * 70_000, "label": ["体育"]},  # about 200 KB of UTF-8
        {"text": "\u200b \u200b", "label": ["体育"]},
        {"text": "天气", "label": "体育"},
    ]
    r = upload(client, jsonl(rows), labels=json.dumps([{"name": "体育", "description": "sports"}]))
    body = r.json()
    assert body["rows"] == 3, body
    assert [item["line"] for item in body["rejected_rows"]] == [2, 3, 5, 6, 7]
    reasons = [item["reason"] for item in body["rejected_rows"]]
    assert reasons[0] == "label '财经' is not in the label set"
    assert reasons[1] == "repeat of line 1"
    assert reasons[2] == "repeat of line 4"  # full-width and case fold to the same text
    assert reasons[3] == "text of 70,000 characters; the limit is 50,000"
    assert reasons[4] == "empty text"
    assert [item["kind"] for item in body["rejected_rows"]] == [
        "label_not_in_set", "repeat", "repeat", "text_too_long", "empty_text",
    ]  # fmt: skip
    assert body["rejected_by_reason"] == {"empty_text": 1, "label_not_in_set": 1, "repeat": 2, "text_too_long": 1}
    assert body["conflicts"] == [] and body["conflicts_total"] == 0
    assert body["label_set"] == [{"name": "体育", "description": "sports"}]


def test_whole_file_errors_store_nothing(client: TestClient, services: Settings) -> None:
    before = dataset_count(services)
    assert_error(upload(client, b""), 400, "file: empty")
    assert_error(upload(client, b"\n\n  \n"), 400, "file: empty")
    assert_error(upload(client, jsonl([{"text": "x", "label": []}])), 400, "no row could be stored", "no label")
    assert_error(upload(client, b"hello", filename="notes"), 400, "cannot tell its format")
    assert dataset_count(services) == before


def test_a_failure_half_way_leaves_nothing_stored(
    client: TestClient, services: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    insert_rows = dataset_store.insert_rows
    calls = []

    def failing_second_batch(conn, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise OperationalError("INSERT INTO dataset_rows", {}, Exception("disk full"))
        insert_rows(conn, rows)

    monkeypatch.setattr(dataset_store, "insert_rows", failing_second_batch)
    before = dataset_count(services)
    name = unique()
    assert_error(upload(client, jsonl(doccano_rows(12_000)), name=name), 503, "cannot store the dataset", "disk full")
    assert calls[0] == 5_000
    assert dataset_count(services) == before
    monkeypatch.undo()
    assert upload(client, jsonl(doccano_rows(10)), name=name).status_code == 200  # the name is free


def test_size_limit_gives_413(services: Settings) -> None:
    small = services.model_copy(update={"upload_max_bytes": 2_048})
    with TestClient(create_app(small)) as c:
        assert_error(upload(c, jsonl(doccano_rows(100))), 413, "the limit is 2,048 (UPLOAD_MAX_BYTES)")
        assert upload(c, jsonl(doccano_rows(5))).status_code == 200
        # refused before the body is read, from its declared length or while it streams in
        huge = b"x" * (small.upload_max_bytes + 70 * 1024)
        assert_error(upload(c, huge), 413, "over the limit of 2,048 bytes")

        def chunks():  # no Content-Length: sent chunked
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jsonl"\r\n\r\n'
            for _ in range(100):
                yield b"y" * 1024

        form = {"content-type": "multipart/form-data; boundary=b"}
        streamed = c.post("/documenting/datasets", content=chunks(), headers=form)
        assert_error(streamed, 413, "over the limit of 2,048 bytes")


@pytest.mark.parametrize(
    ("form", "needle"),
    [
        ({"split_ratios": "0.5,0.5"}, "split_ratios: give three ratios"),
        ({"split_ratios": "0.5,0.6,0.1"}, "split_ratios: ratios must be non-negative, sum to 1"),
        ({"labels": "{not json"}, "labels: not valid JSON"),
        ({"labels": '["a", "a"]'}, "labels: give at least one label, each once"),
        ({"format": "xml"}, "format"),
        ({"seed": "-1"}, "seed"),
    ],
)
def test_bad_form_fields_are_named(client: TestClient, form: dict, needle: str) -> None:
    assert_error(upload(client, jsonl(doccano_rows(5)), **form), 422, needle)


def test_name_is_required_and_unique(client: TestClient) -> None:
    r = client.post("/documenting/datasets", files={"file": ("x.jsonl", jsonl(doccano_rows(3)))})
    assert_error(r, 422, "name: Field required")
    name = unique()
    assert upload(client, jsonl(doccano_rows(3)), name=name).status_code == 200
    assert_error(upload(client, jsonl(doccano_rows(3)), name=name), 409, f"a dataset named '{name}' exists")


def test_list_rename_describe_delete(client: TestClient, services: Settings) -> None:
    ids = [upload(client, jsonl(doccano_rows(6))).json()["dataset_id"] for _ in range(3)]
    first = client.get("/documenting/datasets", params={"limit": 2}).json()
    assert [d["dataset_id"] for d in first["datasets"]] == ids[::-1][:2]
    second = client.get("/documenting/datasets", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["datasets"][0]["dataset_id"] == ids[0]
    assert_error(client.get("/documenting/datasets", params={"cursor": "x"}), 400, "cursor")

    taken = client.get(f"/documenting/datasets/{ids[1]}").json()["name"]
    assert_error(client.patch(f"/documenting/datasets/{ids[0]}", json={"name": taken}), 409, "exists")
    new_name = unique("renamed")
    patched = client.patch(
        f"/documenting/datasets/{ids[0]}",
        json={"name": new_name, "description": "训练集", "label_set": [{"name": "体育", "description": "sports"}]},
    ).json()
    assert patched["name"] == new_name and patched["description"] == "训练集"
    assert {"name": "体育", "description": "sports"} in patched["label_set"]
    assert_error(client.patch(f"/documenting/datasets/{ids[0]}", json={"label_set": [{"name": "x"}]}), 422, "'x'")
    assert_error(client.patch(f"/documenting/datasets/{ids[0]}", json={"owner": "me"}), 422, "owner")

    task_id = uuid.uuid4().hex
    with output_engine(services).begin() as conn:
        task_store.create_task(conn, task_id, "modeling", {"dataset_id": ids[0]})
    assert_error(client.delete(f"/documenting/datasets/{ids[0]}"), 409, f"used by running task {task_id}")
    with output_engine(services).begin() as conn:
        task_store.finish_task(conn, task_id, task_store.SUCCESS, {}, None)
    assert client.delete(f"/documenting/datasets/{ids[0]}").json()["deleted"] == ids[0]
    assert stored_rows(services, ids[0]) == 0
    assert_error(client.get(f"/documenting/datasets/{ids[0]}"), 404, "does not exist")
    assert_error(client.delete(f"/documenting/datasets/{ids[0]}"), 404, "does not exist")
    assert_error(client.get("/documenting/datasets/abc"), 422, "dataset_id")


def upload_rules(client: TestClient, content: bytes, filename: str = "rules.csv", name: str | None = None):
    return client.post(
        "/documenting/rule-sets", files={"file": (filename, content)}, data={"name": name or unique("rules")}
    )


def test_rule_set_upload_read_download_delete(client: TestClient, services: Settings) -> None:
    content = "label,pattern,kind,weight\n体育,足球,keyword,2\n体育,(?i)nba,regex,\n财经,股票,,\n".encode()
    r = upload_rules(client, content)
    assert r.status_code == 200, r.text
    rule_set_id = r.json()["rule_set_id"]
    assert r.json()["rules"] == 3 and r.json()["labels"] == ["体育", "财经"]
    detail = client.get(f"/documenting/rule-sets/{rule_set_id}").json()
    assert detail["items"] == [
        {"label": "体育", "pattern": "足球", "kind": "keyword", "weight": 2.0},
        {"label": "体育", "pattern": "(?i)nba", "kind": "regex", "weight": 1.0},
        {"label": "财经", "pattern": "股票", "kind": "keyword", "weight": 1.0},
    ]
    downloaded = client.get(f"/documenting/rule-sets/{rule_set_id}/download").content
    again = upload_rules(client, downloaded).json()
    again_items = client.get(f"/documenting/rule-sets/{again['rule_set_id']}").json()["items"]
    assert again_items == detail["items"]
    listed = client.get("/documenting/rule-sets", params={"limit": 1}).json()
    assert listed["rule_sets"][0]["rule_set_id"] == again["rule_set_id"] and listed["next_cursor"]
    renamed = client.patch(f"/documenting/rule-sets/{rule_set_id}", json={"description": "运动和财经"}).json()
    assert renamed["description"] == "运动和财经"

    task_id = uuid.uuid4().hex
    with output_engine(services).begin() as conn:
        task_store.create_task(conn, task_id, "modeling", {"rule_set_id": rule_set_id})
    assert_error(client.delete(f"/documenting/rule-sets/{rule_set_id}"), 409, "used by running task")
    with output_engine(services).begin() as conn:
        task_store.finish_task(conn, task_id, task_store.FAILURE, {}, "x")
    assert client.delete(f"/documenting/rule-sets/{rule_set_id}").status_code == 200
    assert_error(client.get(f"/documenting/rule-sets/{rule_set_id}"), 404, "does not exist")


def test_json_rule_set_and_catastrophic_pattern_compiles_linear(client: TestClient) -> None:
    rules = [{"label": "spam", "pattern": "(a+)+$", "kind": "regex"}, {"label": "spam", "keyword": "广告"}]
    r = upload_rules(client, json.dumps(rules, ensure_ascii=False).encode(), filename="rules.json")
    assert r.status_code == 200, r.text
    assert r.json()["rules"] == 2


@pytest.mark.parametrize(
    ("content", "code", "needle"),
    [
        (b"label,pattern,kind\nx,(,regex\n", 422, "file line 2: regex '(' does not compile with RE2"),
        (b"label,pattern,kind\nx,a,keyword\ny,(a)\\1,regex\n", 422, "file line 3: regex '(a)\\1' does not"),
        (b"label,pattern,kind\nx,a,fuzzy\n", 422, "file line 2: kind 'fuzzy' is not keyword or regex"),
        (b"label,pattern,weight\nx,a,heavy\n", 422, "file line 2: weight 'heavy' is not a number"),
        (b"label,pattern\n,a\n", 422, "file line 2: empty label"),
        (b"label,pattern\nx,a,extra\n", 422, "file line 2: the row's number of fields differs"),
        (b"name,word\nx,a\n", 400, "header must name label and pattern"),
        (b"label,pattern\n", 400, "no rules"),
        (b"", 400, "file: empty"),
        (b'[{"label": "x"}]', 422, "file line 1: empty pattern"),
    ],
)
def test_bad_rule_files(client: TestClient, services: Settings, content: bytes, code: int, needle: str) -> None:
    name = unique("rules")
    filename = "rules.json" if content.startswith(b"[") else "rules.csv"
    assert_error(upload_rules(client, content, filename, name=name), code, needle)
    assert all(rs["name"] != name for rs in client.get("/documenting/rule-sets?limit=500").json()["rule_sets"])


@pytest.mark.parametrize(
    ("content", "filename", "form", "code", "needle"),
    [
        (b'{"text": "a", "label": ["x"]}\n' + b"[" * 100_000 + b"\n", "x.jsonl", {}, 200, "JSON nested too deeply"),
        (b"[" * 100_000, "x.json", {}, 400, "file: JSON nested too deeply"),
        (
            b'{"text": "a", "label": ["x"]}\n{"text": "b\\ud800", "label": ["x"]}\n',
            "x.jsonl",
            {},
            200,
            "lone surrogate",
        ),
        (b'{"text": "a", "label": ["x"]}\n{"text": "b", "label": ["x\\udfff"]}\n', "x.jsonl", {}, 200, "label with"),
        (b"text,label\na,b\n", "x.csv", {"encoding": "rot13"}, 422, "encoding: 'rot13' is not a text encoding"),
        (b"text,label\na,b\n", "x.csv", {"encoding": "utf-16"}, 400, "file: cannot be read as utf-16"),
        (b"text,label\na,b\n", "x.csv", {"split_ratios": "nan,nan,nan"}, 422, "split_ratios: ratios must be"),
        (b"text,label\na,b\n", "x.csv", {"split_ratios": "0.8,nan,0.2"}, 422, "split_ratios: ratios must be"),
    ],
)
def test_hostile_uploads_get_a_clear_answer(
    client: TestClient, content: bytes, filename: str, form: dict, code: int, needle: str
) -> None:
    r = upload(client, content, filename=filename, **form)
    if code == 200:
        assert r.status_code == 200, r.text
        assert r.json()["rows"] == 1 and r.json()["rejected_rows"][0]["line"] == 2
        assert needle in r.json()["rejected_rows"][0]["reason"]
    else:
        assert_error(r, code, needle)


def test_echoed_values_are_cut_short(client: TestClient) -> None:
    rows = [{"text": "a", "label": ["x"]}, {"text": "b", "label": ["y" * 200_000]}]
    body = upload(client, jsonl(rows)).json()
    assert len(body["rejected_rows"][0]["reason"]) < 100
    r = upload(client, b"text,label,split\na,x," + b"s" * 100_000 + b"\n", filename="x.csv", split_field="split")
    assert r.status_code == 400 and len(r.text) < 500


@pytest.mark.parametrize("shift", [0, 1])
def test_big5_detected_whatever_byte_the_detection_window_ends_on(client: TestClient, shift: int) -> None:
    line = "今天天氣很好，我們去公園散步吧。這家餐廳的牛肉麵非常好吃，推薦給大家！颱風要來了，請注意安全。"
    content = ("text,label\n" + "x" * shift + "".join(f"{line}{i},生活\n" for i in range(30_000))).encode("big5")
    assert len(content) > 1 << 20
    r = upload(client, content, filename="tw.csv")
    assert r.status_code == 200, r.text[:300]
    assert r.json()["encoding"] == "big5" and r.json()["rows"] == 30_000


def test_a_json_array_is_read_item_by_item_whatever_its_size(client: TestClient) -> None:
    # Over the 16 MiB that used to be the cap of a JSON array read whole.
    rows = [{"text": f"{i}" + "长" * 1_000, "label": ["a"]} for i in range(6_000)]
    content = json.dumps({"data": rows}, ensure_ascii=False).encode()
    assert len(content) > 16 << 20
    body = upload(client, content, filename="big.json").json()
    assert body["format"] == "json" and body["rows"] == 6_000, body


def test_names_compare_exactly(client: TestClient) -> None:
    stem = unique()
    for name in (f"{stem}-😀", f"{stem}-😁", f"{stem}-Ads", f"{stem}-ads", f"{stem}-Résumé", f"{stem}-resume"):
        r = upload(client, jsonl(doccano_rows(3)), name=name)
        assert r.status_code == 200, r.text
        assert r.json()["name"] == name


def test_a_dataset_over_max_dataset_rows_is_refused_and_nothing_is_stored(services: Settings) -> None:
    capped = services.model_copy(update={"max_dataset_rows": 3})
    with TestClient(create_app(capped)) as c:
        before = c.get("/documenting/datasets?limit=500").json()["datasets"]
        rows = [{"text": f"t{i}", "label": ["a"]} for i in range(4)]
        assert_error(upload(c, jsonl(rows), name="over-the-cap"), 413, "more than 3 rows to store")
        assert c.get("/documenting/datasets?limit=500").json()["datasets"] == before
        # Rejected rows hold nothing and do not count.
        assert upload(c, jsonl([*rows[:3], {"text": "", "label": ["a"]}]), name="at-the-cap").json()["rows"] == 3


def test_accepted_rows_cost_a_few_bytes_each() -> None:
    """What an upload keeps per stored row until it is split: arrays, not a tuple per row."""
    accepted = AcceptedRows()
    tracemalloc.start()
    for line in range(200_000):
        accepted.add(line, ("体育", "财经") if line % 3 else ("体育",), ("train", "dev", None)[line % 3])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 200_000 * 32, peak  # a list of tuples took about 150 bytes a row
    assert list(accepted)[:3] == [(0, ("体育",), "train"), (1, ("体育", "财经"), "dev"), (2, ("体育", "财经"), None)]


def test_small_datasets_split_by_largest_remainder_and_warn_when_a_split_is_empty(client: TestClient) -> None:
    five = upload(client, jsonl([{"text": f"t{i}", "label": ["a"]} for i in range(5)])).json()
    assert {s: sum(c.values()) for s, c in five["label_counts"].items()} == {"train": 3, "dev": 1, "test": 1}
    assert five["warnings"] == []
    two = upload(client, jsonl([{"text": f"t{i}", "label": ["a"]} for i in range(2)])).json()
    assert two["rows"] == 2 and two["warnings"] == [
        "the dev split is empty: 2 rows are too few for a share of 0.1",
        "the test split is empty: 2 rows are too few for a share of 0.1",
    ]


def test_explicit_utf8_reads_a_file_with_a_bom(client: TestClient) -> None:
    r = upload(client, "\ufefftext,label\n一,a\n".encode(), filename="x.csv", encoding="utf-8")
    assert r.status_code == 200, r.text
    assert r.json()["encoding"] == "utf-8-sig" and r.json()["rows"] == 1


@pytest.mark.parametrize(
    ("rules", "needle"),
    [
        ([{"label": "x", "pattern": "a", "weight": int("1" + "0" * 400)}], "line 1: weight 1000000"),
        ([{"label": "x", "pattern": "a\ud800"}], "line 1: pattern holds a lone surrogate"),
        ([{"label": "x", "pattern": {"x": 1}}], "line 1: pattern must be text, found dict"),
    ],
)
def test_hostile_rule_files(client: TestClient, rules: list, needle: str) -> None:
    content = json.dumps(rules).encode()
    assert_error(upload_rules(client, content, filename="r.json"), 422, needle)
    assert_error(upload_rules(client, b"[" * 100_000, filename="r.json"), 400, "JSON nested too deeply")


DATASET_FIELDS = [
    "name", "description", "format", "encoding", "text_field", "label_field", "label_separator",
    "split_field", "split_ratios", "seed", "labels", "multi_label", "on_conflict", "dev_from_train",
]  # fmt: skip
RULE_SET_FIELDS = ["name", "description", "encoding"]
# What a hostile or careless client sends in any field; none of it is a value any field takes.
HOSTILE: list[str | bytes] = ["\x00", "a\x00b", "\x01\x02", "\x1b[31m", "a\x85b", b"\xff\xfe\x80", "x" * 20_000]
# Values only some fields see: numbers out of range, encodings that cannot read, JSON of the wrong shape.
FIELD_HOSTILE: dict[str, list[str]] = {
    "encoding": ["klingon", "rot13", "idna", "utf-8\x00", "x" * 41],
    "seed": ["-1", str(2**31 + 1), "9" * 5_000, "1e3", "nan"],
    "split_ratios": ["1e999,0,0", "nan,nan,nan", "0.5,0.5", ",,,,", "0.8;0.1;0.1"],
    "labels": [
        '{"a": 1}', "[1, 2]", '[["a"]]', '"a"', "[]", "1e999", "[" * 10_000,
        '[{"description": "x"}]', '[{"name": "a\\u0000"}]', '["a\\u0001"]', '[" a"]', '["a", "a"]',
    ],
    "label_separator": ["\n", "\t", "123456"],
    "format": ["xml", "JSON"],
    "multi_label": ["maybe", "2", "-1"],
    "on_conflict": ["keep", "FIRST", "merge\x00"],
    "dev_from_train": ["0", "1", "-0.1", "nan", "inf", "1e999", "0,1"],
}  # fmt: skip
CASES = [
    (route, field, value)
    for route, fields in (("/documenting/datasets", DATASET_FIELDS), ("/documenting/rule-sets", RULE_SET_FIELDS))
    for field in fields
    for value in HOSTILE + FIELD_HOSTILE.get(field, [])
]


@pytest.mark.parametrize(("route", "field", "value"), CASES)
def test_every_form_field_refuses_hostile_values_by_name(
    client: TestClient, route: str, field: str, value: str | bytes
) -> None:
    content = jsonl(doccano_rows(3)) if route.endswith("datasets") else b"label,pattern\na,b\n"
    data: dict[str, str | bytes] = {"name": unique("hostile"), field: value}
    r = client.post(route, files={"file": ("x.jsonl", content)}, data=data)  # type: ignore[arg-type]
    assert_error(r, 422, field)  # the message names the field, and the reason after it
    assert r.json()["error_message"].split("[")[0].split(":")[0].split(";")[0].strip() == field


@pytest.mark.parametrize("route", ["/documenting/datasets", "/documenting/rule-sets"])
def test_form_parts_are_bounded(client: TestClient, route: str) -> None:
    content = jsonl(doccano_rows(3)) if route.endswith("datasets") else b"label,pattern\na,b\n"
    # A field over 256 KiB, or more fields or files than a form has, is refused before the route runs.
    r = client.post(route, files={"file": ("x.jsonl", content)}, data={"name": unique(), "description": "d" * 300_000})
    assert_error(r, 400, "Part exceeded maximum size of 256KB")
    many = {f"extra{i}": "x" for i in range(30)}
    assert_error(client.post(route, files={"file": ("x", content)}, data={"name": unique(), **many}), 400, "fields")
    two = [("file", ("x.jsonl", content)), ("file", ("y.jsonl", content))]
    assert_error(client.post(route, files=two, data={"name": unique()}), 400, "Too many files")


def test_control_characters_and_surrounding_whitespace_in_rows(client: TestClient) -> None:
    rows = [
        {"text": "\x00", "label": ["体育"]},
        {"text": "\x01\x02", "label": ["体育"]},
        {"text": "足球", "label": ["体育\x00"]},
        {"text": "篮球", "label": [" 体育 ", "体育"]},
        {"text": "股票", "label": ["财经\u3000"]},
    ]
    body = upload(client, jsonl(rows)).json()
    assert body["rows"] == 2, body
    assert body["rejected_rows"] == [
        {"line": 1, "kind": "empty_text", "reason": "empty text: only control characters"},
        {"line": 2, "kind": "empty_text", "reason": "empty text: only control characters"},
        {"line": 3, "kind": "bad_label", "reason": "label '体育\\x00' holds a control character"},
    ]
    assert [item["name"] for item in body["label_set"]] == ["体育", "财经"]  # trimmed, so one label each
    r = upload_rules(client, "label,pattern\n体育,足球\n\x1b体育,篮球\n".encode())
    assert_error(r, 422, "file line 3: label '\\x1b体育' holds a control character")


def test_a_bad_byte_in_the_first_mib_rejects_its_row_not_the_file(client: TestClient) -> None:
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in doccano_rows(200)]
    lines[9] = lines[9].replace("第".encode(), b"\xe7\xac")  # a character cut short
    lines[99] = lines[99].replace(b'"text": "', b'"text": "\xff')
    r = upload(client, b"\n".join(lines) + b"\n")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["encoding"] == "utf-8" and body["rows"] == 198
    assert body["rejected_rows"] == [
        {"line": 10, "kind": "bad_text", "reason": "bytes that are not valid utf-8"},
        {"line": 100, "kind": "bad_text", "reason": "bytes that are not valid utf-8"},
    ]


def test_a_record_over_the_limit_is_rejected_and_the_rest_read(client: TestClient) -> None:
    big = b'{"text": "' + b"x" * (3 << 20) + b'", "label": ["a"]}\n'
    r = upload(client, jsonl(doccano_rows(2)) + big + jsonl([{"text": "last", "label": ["a"]}]))
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 3
    assert r.json()["rejected_rows"] == [
        {
            "line": 3,
            "kind": "record_too_long",
            "reason": "a record of more than 1,648,576 characters (a text may have 50,000): skipped",
        }
    ]
