"""Hostile pattern sets and regex rules are refused over HTTP with the reason, before any
is stored; on MariaDB and Redis (no worker needed)."""

import json
import uuid

import pytest
from fastapi.testclient import TestClient

import utils.patterns
from tests.api.conftest import assert_error
from tests.model.hostile_patterns import BANG, BANG_ESCAPED

pytestmark = pytest.mark.skipif(utils.patterns.ENGINE != "hyperscan", reason="Hyperscan is not installed")
URL = "/preprocessing/patterns"


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize(
    ("patterns", "needle"),
    [
        (BANG, "patterns[100]: '![!?]{101}%' repeats 101 times; at most 100 in a counted repetition"),
        (BANG_ESCAPED, r"patterns[100]: '\x21[\x21\x3f]{101}\x25' repeats 101 times; at most 100"),
    ],
    ids=["literal", "escaped"],
)
def test_the_issues_pattern_set_is_422_naming_the_pattern_and_why(
    client: TestClient, patterns: list[str], needle: str
) -> None:
    """Regression: the old probe admitted this set in 0.05 s; it then matched 290–700 characters a second."""
    name = unique("hostile")
    assert_error(client.post(URL, json={"name": name, "patterns": patterns}), 422, needle)
    assert name not in [s["name"] for s in client.get(f"{URL}?limit=500").json()["pattern_sets"]]
    created = client.post(URL, json={"name": unique("ok"), "patterns": ["a"]})
    url = f"{URL}/{created.json()['pattern_set_id']}"
    assert_error(client.put(url, json={"name": unique("x"), "patterns": patterns}), 422, needle)
    assert_error(client.patch(url, json={"patterns": patterns}), 422, needle)
    assert client.get(url).json()["patterns"] == ["a"]


def test_the_issues_set_cut_to_the_bound_is_accepted_and_answers_a_hostile_text(client: TestClient) -> None:
    patterns = BANG[:100]  # ![!?]{1}% … ![!?]{100}%
    created = client.post(URL, json={"name": unique("bounded"), "patterns": patterns})
    assert created.status_code == 200, created.text
    hostile = "!" + "?!" * 1_500  # 3,001 characters of the class, no %: nothing matches
    texts = [hostile, hostile[:40] + "%", "!" + "?" * 60 + "%", "%"]
    r = client.post(f"{URL}/{created.json()['pattern_set_id']}/test", json={"texts": texts})
    assert r.status_code == 200, r.text
    assert [v["pattern_index"] for v in r.json()["results"]] == [None, 0, 59, None]


def upload_rules(client: TestClient, rules: list[dict]) -> object:
    content = json.dumps(rules, ensure_ascii=False).encode()
    return client.post(
        "/documenting/rule-sets", files={"file": ("rules.json", content)}, data={"name": unique("rules")}
    )


@pytest.mark.parametrize("patterns", [BANG, BANG_ESCAPED], ids=["literal", "escaped"])
def test_a_rule_set_with_the_issues_regexes_is_422_naming_the_line(client: TestClient, patterns: list[str]) -> None:
    rules = [{"label": "spam", "keyword": "广告"}] + [
        {"label": "spam", "pattern": p, "kind": "regex"} for p in patterns
    ]
    assert_error(upload_rules(client, rules), 422, "line 102: regex", "repeats 101 times; at most 100")


def test_a_rule_set_with_a_regex_hyperscan_refuses_is_422_with_its_reason(client: TestClient) -> None:
    rules = [{"label": "spam", "pattern": r"a.{99}b", "kind": "regex"}]
    assert_error(upload_rules(client, rules), 422, "line 1: regex 'a.{99}b' is refused by Hyperscan", "too large")
