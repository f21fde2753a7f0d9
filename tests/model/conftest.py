"""The labeled sample in tests/sample_data, read once, and one term_weight model trained on it."""

import json
from pathlib import Path

import pytest

from models.training import Example, TrainedModel, train
from utils.rule_files import Rule, read_rules

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def read_split(name: str) -> list[Example]:
    with open(SAMPLE / f"{name}.jsonl", encoding="utf-8") as lines:
        return [(row["text"], row["label"]) for row in map(json.loads, lines)]


@pytest.fixture(scope="session")
def sample() -> dict[str, list[Example]]:
    return {name: read_split(name) for name in ("train", "dev", "test")}


@pytest.fixture(scope="session")
def sample_rules() -> list[Rule]:
    with open(SAMPLE / "rules.csv", "rb") as stream:
        return read_rules(stream, "rules.csv")


@pytest.fixture(scope="session")
def term_weight(sample: dict[str, list[Example]]) -> TrainedModel:
    return train("term_weight", {}, sample["train"], sample["dev"])
