"""The preprocessing API's answers and error codes, on MariaDB and Redis (no worker needed)."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from settings import Settings
from tests.api.conftest import assert_error
from tests.conftest import task_body
from utils.db import pattern_store as ps
from utils.db import task_store as ts
from utils.db.engines import output_engine

URL = "/preprocessing/patterns"
# Generous: RE2 answers in milliseconds; a backtracking engine would not answer in hours.
HANG_GUARD_S = 60


def unique_name(prefix: str = "set") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def create(client: TestClient, patterns: list[str], name: str | None = None, **extra: object) -> dict:
    r = client.post(URL, json={"name": name or unique_name(), "patterns": patterns, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def test_create_then_read(client: TestClient) -> None:
    name = unique_name("ads")
    body = create(client, ["广告", r"(?i)promo\s*code", r"^\s*$"], name, description="advertising")
    assert body["error_code"] == 200 and body["pattern_set_id"] >= 1
    assert body["name"] == name and body["description"] == "advertising"
    assert body["patterns"] == ["广告", r"(?i)promo\s*code", r"^\s*$"]
    assert body["pattern_count"] == 3 and body["unfinished_tasks"] == 0
    assert body["created_at"] == body["updated_at"]
    assert client.get(f"{URL}/{body['pattern_set_id']}").json() == body


def test_a_taken_name_is_409(client: TestClient) -> None:
    name = unique_name()
    create(client, ["a"], name)
    assert_error(client.post(URL, json={"name": name, "patterns": ["b"]}), 409, f"name: a pattern set named {name!r}")


@pytest.mark.parametrize(
    ("patterns", "needle"),
    [
        (["ok", "x", r"(a)\1"], r"patterns[2]: '(a)\1' does not compile with RE2"),
        (["(?<=a)b"], "patterns[0]: '(?<=a)b' does not compile with RE2 (linear-time engine): invalid perl operator"),
        (["fine", "(unclosed"], "patterns[1]: '(unclosed' does not compile with RE2"),
        (["a{1001}"], "invalid repetition size"),
        (["x", r"[\p{L}]{1000}"], r"patterns[1]: '[\p{L}]{1000}' repeats 1,000 times; at most 100"),
        (
            ["x", r"a.{99}b"],
            "patterns[1]: 'a.{99}b' is refused by Hyperscan (the bounded engine): Pattern is too large",
        ),
    ],
)
def test_patterns_re2_refuses_are_422_naming_the_pattern(client: TestClient, patterns: list[str], needle: str) -> None:
    name = unique_name()
    assert_error(client.post(URL, json={"name": name, "patterns": patterns}), 422, needle)
    assert name not in [s["name"] for s in client.get(f"{URL}?limit=500").json()["pattern_sets"]]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"patterns": ["a"]}, "name: Field required"),
        ({"name": "x"}, "patterns: Field required"),
        ({"name": "x", "patterns": []}, "patterns: List should have at least 1 item"),
        ({"name": "x", "patterns": ["a"] * 1001}, "patterns: List should have at most 1000 items"),
        ({"name": "x", "patterns": ["a", "x" * 2001]}, "patterns[1]: String should have at most 2000 characters"),
        ({"name": "x", "patterns": ["a", ""]}, "patterns[1]: String should have at least 1 character"),
        ({"name": "x", "patterns": ["a", "b", "a"]}, "patterns[0] and patterns[2] are the same: 'a'"),
        ({"name": " x", "patterns": ["a"]}, "name: Value error, must not start or end with whitespace"),
        ({"name": "x\ny", "patterns": ["a"]}, "name: Value error"),
        ({"name": "x" * 101, "patterns": ["a"]}, "name: String should have at most 100 characters"),
        ({"name": "x", "patterns": ["a"], "description": "d" * 2001}, "description: String should have at most"),
        ({"name": "x", "patterns": "a"}, "patterns: Input should be a valid list"),
        ({"name": "x", "patterns": ["a"], "extra": 1}, "extra: Extra inputs are not permitted"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(client: TestClient, body: dict, needle: str) -> None:
    assert_error(client.post(URL, json=body), 422, needle)


def test_a_lone_surrogate_is_422_not_a_crash(client: TestClient) -> None:
    raw = f'{{"name": "{unique_name()}", "patterns": ["ok", "a\\ud800"]}}'  # json.dumps would refuse
    r = client.post(URL, content=raw, headers={"content-type": "application/json"})
    assert_error(r, 422, "patterns[1]", "unicode string")
    set_id = create(client, ["a"])["pattern_set_id"]
    raw = '{"texts": ["ok", "\\udfff"]}'
    r = client.post(f"{URL}/{set_id}/test", content=raw, headers={"content-type": "application/json"})
    assert_error(r, 422, "texts[1]", "unicode string")


def test_catastrophic_pattern_answers_correctly_on_a_long_text(client: TestClient) -> None:
    set_id = create(client, [r"(a+)+$"])["pattern_set_id"]
    texts = ["a" * 99_999 + "b", "a" * 100_000]  # the first is what makes a backtracking engine explode
    pool = ThreadPoolExecutor(1)
    try:
        r = pool.submit(client.post, f"{URL}/{set_id}/test", json={"texts": texts}).result(timeout=HANG_GUARD_S)
    finally:
        pool.shutdown(wait=False)
    assert r.status_code == 200, r.text
    assert [v["excluded"] for v in r.json()["results"]] == [False, True]


def test_a_set_that_could_match_slowly_is_refused(client: TestClient) -> None:
    """Hundreds of long counted classes: RE2 matched them at milliseconds a character, and so does
    Hyperscan past about 250 repetitions; a counted repetition is bounded."""
    slow = [f"{'ab'[i % 2]}[ab]{{{50 + i % 400}}}c" for i in range(400)]
    needle = "patterns[51]: 'b[ab]{101}c' repeats 101 times; at most 100 in a counted repetition"
    assert_error(client.post(URL, json={"name": unique_name(), "patterns": slow}), 422, needle)
    set_id = create(client, ["a"])["pattern_set_id"]
    assert_error(client.patch(f"{URL}/{set_id}", json={"patterns": slow}), 422, needle)
    fine = [f"(?i)广告{i}\\s*[0-9A-Za-z_-]{{5,20}}" for i in range(1_000)]
    assert create(client, fine)["pattern_count"] == 1_000


def test_dry_run_says_which_pattern_excludes_each_text(client: TestClient) -> None:
    created = create(client, ["广告", "(?i)promo", "^$"])
    texts = ["今天天气很好", "买广告位", "PROMO code 广告", "", "Promo!", "ｐｒｏｍｏ"]
    r = client.post(f"{URL}/{created['pattern_set_id']}/test", json={"texts": texts})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["pattern_set_id"], body["name"], body["excluded"]) == (created["pattern_set_id"], created["name"], 4)
    assert [(v["excluded"], v["pattern_index"], v["pattern"]) for v in body["results"]] == [
        (False, None, None),
        (True, 0, "广告"),
        (True, 0, "广告"),  # several match: the first one is named
        (True, 2, "^$"),
        (True, 1, "(?i)promo"),
        (False, None, None),  # full-width letters are other characters: texts are not normalised
    ]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"texts": []}, "texts: List should have at least 1 item"),
        ({"texts": ["x"] * 1001}, "texts: List should have at most 1000 items"),
        ({"texts": ["ok", "x" * 200_001]}, "texts[1]: String should have at most 200000 characters"),
        ({"texts": ["x" * 200_000] * 3}, "600000 characters in all, more than 500000"),
        ({"texts": [None]}, "texts[0]: Input should be a valid string"),
        (["bare", "list"], "Input should be a valid dictionary"),
    ],
)
def test_dry_run_input_is_bounded(client: TestClient, body: object, needle: str) -> None:
    set_id = create(client, ["a"])["pattern_set_id"]
    assert_error(client.post(f"{URL}/{set_id}/test", json=body), 422, needle)


def test_list_pages_by_cursor_newest_first(client: TestClient) -> None:
    created = [create(client, [f"p{i}" for i in range(n)])["pattern_set_id"] for n in (1, 2, 3)]
    first = client.get(f"{URL}?limit=2").json()
    assert first["error_code"] == 200 and len(first["pattern_sets"]) == 2 and first["next_cursor"]
    assert [s["pattern_set_id"] for s in first["pattern_sets"]] == created[::-1][:2]
    assert [s["pattern_count"] for s in first["pattern_sets"]] == [3, 2]
    assert "patterns" not in first["pattern_sets"][0]  # lists stay small; read one set for its patterns
    walked, cursor = [], None
    while True:
        page = client.get(URL, params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        assert page["pattern_sets"], "a next_cursor led to an empty page"
        walked += [s["pattern_set_id"] for s in page["pattern_sets"]]
        if not (cursor := page["next_cursor"]):
            break
    everything = [s["pattern_set_id"] for s in client.get(f"{URL}?limit=500").json()["pattern_sets"]]
    assert walked == everything == sorted(everything, reverse=True)
    assert client.get(URL, params={"limit": len(everything)}).json()["next_cursor"] is None
    assert_error(client.get(f"{URL}?cursor=garbage"), 400, "cursor: not a cursor")
    assert_error(client.get(f"{URL}?limit=0"), 422, "limit")
    assert_error(client.get(f"{URL}?limit=501"), 422, "limit")


def test_put_replaces_and_patch_changes_only_what_is_given(client: TestClient) -> None:
    created = create(client, ["a", "b"], description="first")
    url = f"{URL}/{created['pattern_set_id']}"
    new_name = unique_name("renamed")
    r = client.put(url, json={"name": new_name, "patterns": ["c"]})
    assert r.status_code == 200, r.text
    put = r.json()
    assert (put["name"], put["description"], put["patterns"], put["pattern_count"]) == (new_name, "", ["c"], 1)
    assert put["created_at"] == created["created_at"]
    assert datetime.fromisoformat(put["updated_at"]) > datetime.fromisoformat(created["updated_at"])
    r = client.patch(url, json={"description": "second"})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["description"], r.json()["patterns"]) == (new_name, "second", ["c"])
    r = client.patch(url, json={"patterns": ["d", "e"]})
    assert (r.json()["description"], r.json()["patterns"]) == ("second", ["d", "e"])
    assert client.get(url).json() == r.json()


def test_updates_are_checked_like_creations(client: TestClient) -> None:
    taken = create(client, ["a"])["name"]
    set_id = create(client, ["a"])["pattern_set_id"]
    url = f"{URL}/{set_id}"
    assert_error(client.patch(url, json={"name": taken}), 409, f"a pattern set named {taken!r} exists")
    assert_error(client.put(url, json={"name": taken, "patterns": ["x"]}), 409, "exists")
    assert_error(client.patch(url, json={"patterns": ["ok", "(?=x)"]}), 422, "patterns[1]: '(?=x)' does not compile")
    assert_error(client.patch(url, json={}), 422, "give at least one of name, description, patterns")
    assert_error(client.patch(url, json={"name": None}), 422, "name may not be null")
    assert_error(client.put(url, json={"name": unique_name()}), 422, "patterns: Field required")
    assert client.get(url).json()["patterns"] == ["a"]  # nothing refused was stored


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "", None),
        ("put", "", {"name": "whatever", "patterns": ["a"]}),
        ("patch", "", {"description": "d"}),
        ("delete", "", None),
        ("post", "/test", {"texts": ["a"]}),
    ],
)
def test_unknown_id_is_404(client: TestClient, method: str, path: str, body: dict | None) -> None:
    kwargs = {"json": body} if body is not None else {}
    r = client.request(method.upper(), f"{URL}/987654321{path}", **kwargs)
    assert_error(r, 404, "pattern set 987654321 does not exist")
    assert_error(client.request(method.upper(), f"{URL}/abc{path}", **kwargs), 422, "set_id")
    assert_error(client.request(method.upper(), f"{URL}/0{path}", **kwargs), 422, "set_id")


def test_delete_is_refused_while_an_unfinished_task_uses_the_set(
    client: TestClient, services: Settings, source_posts: str, keyword_model: str
) -> None:
    created = create(client, ["股市"])
    url = f"{URL}/{created['pattern_set_id']}"
    r = client.post("/predicting/tasks", json=task_body(source_posts, pattern_set=created["name"]))
    assert r.status_code == 200, r.text
    task_id = r.json()["task_id"]
    assert client.get(url).json()["unfinished_tasks"] == 1
    listed = {s["pattern_set_id"]: s for s in client.get(f"{URL}?limit=500").json()["pattern_sets"]}
    assert listed[created["pattern_set_id"]]["unfinished_tasks"] == 1
    assert_error(client.delete(url), 409, f"pattern set {created['name']!r} is used by unfinished task(s) {task_id}")
    with output_engine(services).begin() as conn:
        ts.mark_started(conn, task_id, 0)
    assert_error(client.delete(url), 409, task_id)  # STARTED is unfinished too
    with output_engine(services).begin() as conn:
        assert ts.finish_task(conn, task_id, ts.SUCCESS, {}, None)
    assert client.get(url).json()["unfinished_tasks"] == 0
    r = client.delete(url)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "error_code": 200,
        "error_message": "pattern set deleted",
        "pattern_set_id": created["pattern_set_id"],
        "name": created["name"],
    }
    assert_error(client.get(url), 404, "does not exist")
    assert_error(client.delete(url), 404, "does not exist")
    # the finished task keeps its own copy of the patterns
    assert client.get(f"/predicting/tasks/{task_id}").json()["config"]["pattern_set"]["patterns"] == ["股市"]


def test_a_task_keeps_a_snapshot_of_its_pattern_set(client: TestClient, source_posts: str, keyword_model: str) -> None:
    created = create(client, ["股市", "^湖人"])
    r = client.post("/predicting/tasks", json=task_body(source_posts, pattern_set=created["name"]))
    assert r.status_code == 200, r.text
    snapshot = {"id": created["pattern_set_id"], "name": created["name"], "patterns": ["股市", "^湖人"]}
    assert r.json()["config"]["pattern_set"] == snapshot
    task_id = r.json()["task_id"]
    edited = client.put(f"{URL}/{created['pattern_set_id']}", json={"name": unique_name(), "patterns": ["别的"]})
    assert edited.status_code == 200, edited.text
    assert client.get(f"/predicting/tasks/{task_id}").json()["config"]["pattern_set"] == snapshot
    without = client.post("/predicting/tasks", json=task_body(source_posts)).json()
    assert without["config"]["pattern_set"] is None


def test_an_unknown_pattern_set_is_400_naming_it(client: TestClient, source_posts: str, keyword_model: str) -> None:
    body = task_body(source_posts, pattern_set="no_such_set")
    assert_error(
        client.post("/predicting/tasks", json=body), 400, "pattern_set: pattern set 'no_such_set' does not exist"
    )
    assert_error(client.post("/predicting/tasks", json=task_body("posts", pattern_set=" x")), 422, "pattern_set")


def test_a_stored_set_that_no_longer_compiles_is_a_clear_500(client: TestClient, services: Settings) -> None:
    with output_engine(services).begin() as conn:  # as if stored under laxer rules than today's
        set_id = ps.create_pattern_set(conn, unique_name(), "", [r"(a)\1"])
    assert_error(client.post(f"{URL}/{set_id}/test", json={"texts": ["aa"]}), 500, "no longer compiles")


def test_unreachable_output_schema_is_503(client: TestClient, broken_output: None) -> None:
    for method, path, body in [
        ("POST", "", {"name": "x", "patterns": ["a"]}),
        ("GET", "", None),
        ("GET", "/1", None),
        ("PUT", "/1", {"name": "x", "patterns": ["a"]}),
        ("PATCH", "/1", {"description": "d"}),
        ("DELETE", "/1", None),
        ("POST", "/1/test", {"texts": ["a"]}),
    ]:
        r = client.request(method, URL + path, **({"json": body} if body is not None else {}))
        assert_error(r, 503, "cannot connect to output schema")
