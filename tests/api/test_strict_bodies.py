"""Request bodies are parsed strictly: times are ISO 8601 strings (never Unix seconds, as a number or
as digits), sizes and ids are integers (never `true`, "1" or 1.5), flags are booleans, names and
patterns are strings; each refusal is a 422 naming the field. Training parameters likewise."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from settings import Settings
from tests.api.conftest import assert_error
from tests.conftest import MODEL, task_body

Path = tuple[str | int, ...]


def predicting() -> dict[str, Any]:
    body = task_body("posts", model_versions={MODEL: 1}, batch_size=1000, pattern_set="ads")
    body["source"].update(id_column="id", text_columns=["title", "content"], time_column="post_time")
    return body


def training() -> dict[str, Any]:
    return {"dataset_id": 1, "model_type": "keyword", "model_name": "m", "rule_set_id": 1, "force": False}


def evaluation() -> dict[str, Any]:
    return {"dataset_id": 1, "split": "test", "version": 1}


def pattern_set() -> dict[str, Any]:
    return {"name": "ads", "description": "", "patterns": ["a+"]}


# Every JSON request body: the operation, a valid body for it, and its fields by kind.
BODIES = {
    ("POST", "/predicting/tasks"): predicting,
    ("POST", "/modeling/tasks"): training,
    ("POST", "/modeling/models/m/evaluate"): evaluation,
    ("POST", "/preprocessing/patterns"): pattern_set,
    ("PUT", "/preprocessing/patterns/1"): pattern_set,
    ("PATCH", "/preprocessing/patterns/1"): pattern_set,
    ("POST", "/preprocessing/patterns/1/test"): lambda: {"texts": ["a"]},
}
NUMERIC: list[tuple[str, str, Path]] = [
    ("POST", "/predicting/tasks", ("batch_size",)),
    ("POST", "/predicting/tasks", ("model_versions", MODEL)),
    ("POST", "/modeling/tasks", ("dataset_id",)),
    ("POST", "/modeling/tasks", ("rule_set_id",)),
    ("POST", "/modeling/models/m/evaluate", ("dataset_id",)),
    ("POST", "/modeling/models/m/evaluate", ("version",)),
]
TIMES: list[tuple[str, str, Path]] = [
    ("POST", "/predicting/tasks", ("start_time",)),
    ("POST", "/predicting/tasks", ("end_time",)),
]
FLAGS: list[tuple[str, str, Path]] = [("POST", "/modeling/tasks", ("force",))]
TEXTS: list[tuple[str, str, Path]] = [
    ("POST", "/predicting/tasks", ("model_names", 0)),
    ("POST", "/predicting/tasks", ("source", "tables", 0)),
    ("POST", "/predicting/tasks", ("source", "id_column")),
    ("POST", "/predicting/tasks", ("source", "text_columns", 0)),
    ("POST", "/predicting/tasks", ("source", "time_column")),
    ("POST", "/predicting/tasks", ("pattern_set",)),
    ("POST", "/modeling/tasks", ("model_type",)),
    ("POST", "/modeling/tasks", ("model_name",)),
    ("POST", "/modeling/models/m/evaluate", ("split",)),
    *[(m, p, (field,)) for m, p in BODIES if p.startswith("/preprocessing/patterns") for field in ("name",)],
    *[(m, p, ("patterns", 0)) for m, p in BODIES if p.startswith("/preprocessing/patterns") and "test" not in p],
    ("PATCH", "/preprocessing/patterns/1", ("description",)),
    ("POST", "/preprocessing/patterns/1/test", ("texts", 0)),
]


def shown(path: Path) -> str:
    """A field as the error names it: source.tables[0]."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def with_value(body: dict[str, Any], path: Path, value: object) -> dict[str, Any]:
    node: Any = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return body


def cases(fields: list[tuple[str, str, Path]], values: list[object]) -> list[Any]:
    return [
        pytest.param(method, url, path, value, id=f"{method} {url} {shown(path)}={value!r}")
        for method, url, path in fields
        for value in values
    ]


@pytest.mark.parametrize(
    ("method", "url", "path", "value"),
    cases(NUMERIC, [True, False, "1", 1.5, 1.0])
    + cases(TIMES, [0, -1, "-1", "1700000000", "1700000000.5", True, 1.7e9])
    + cases(FLAGS, [1, 0, "true", "yes"])
    + cases(TEXTS, [1, 1.5, True]),
)
def test_a_value_of_the_wrong_kind_is_422_naming_the_field(
    client: TestClient, method: str, url: str, path: Path, value: object
) -> None:
    body = with_value(BODIES[(method, url)](), path, value)
    assert_error(client.request(method, url, json=body), 422, f"{shown(path)}: ")


@pytest.mark.parametrize(
    ("model_type", "param", "values"),
    [
        ("term_weight", "C", [True, "1", None]),
        ("term_weight", "min_df", [True, "1", 1.5, 1.0]),
        ("term_weight", "max_features", [True, "1", 1.5]),
        ("term_weight", "ngram_range", [[True, 2], ["1", "2"], [1.0, 2]]),
        ("term_weight", "sublinear_tf", [1, 0, "true"]),
        ("sgd", "alpha", [True, "0.1"]),
        ("keyword", "min_score", [True, "1"]),
    ],
)
def test_training_parameters_of_the_wrong_kind_are_422_naming_them(
    client: TestClient, model_type: str, param: str, values: list[object]
) -> None:
    for value in values:
        body = {**training(), "model_type": model_type, "params": {param: value}}
        assert_error(client.post("/modeling/tasks", json=body), 422, f"params.{param}: ")


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01",  # a date: midnight, as the README's examples write it
        "2026-03-01T00:00:00+08:00",
        "2026-03-01T00:00:00Z",
        "2026-03-01T00:00",  # what a browser's datetime-local input gives
        "2026-03-01 00:00:00.250",
    ],
)
def test_iso_8601_times_are_accepted(
    client: TestClient, services: Settings, source_posts: str, keyword_model: str, value: str
) -> None:
    r = client.post("/predicting/tasks", json=task_body(source_posts, start_time=value, batch_size=1000))
    assert r.status_code == 200, r.text
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(services.input_timezone)).replace(tzinfo=None)
    assert r.json()["config"]["start_time"] == moment.isoformat()
    assert r.json()["config"]["batch_size"] == 1000
