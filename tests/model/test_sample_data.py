"""The sample is what the modeling tests stand on: check it is the sample they think it is."""

import json
import unicodedata
from collections import Counter

from opencc import OpenCC

from tests.model.conftest import SAMPLE, read_split
from utils.text import normalize


def test_splits_sizes_labels_and_no_duplicates() -> None:
    splits = {name: read_split(name) for name in ("train", "dev", "test")}
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 600, "dev": 150, "test": 150}
    declared = [item["name"] for item in json.loads((SAMPLE / "labels.json").read_text(encoding="utf-8"))]
    rows = [row for split in splits.values() for row in split]
    assert {label for _, labels in rows for label in labels} == set(declared)
    assert len({normalize(text) for text, _ in rows}) == len(rows)
    two = sum(len(labels) == 2 for _, labels in rows)
    assert 0.07 <= two / len(rows) <= 0.13
    for split in splits.values():  # every label in every split, so dev tunes and test measures each
        assert set(Counter(label for _, labels in split for label in labels)) == set(declared)


def test_texts_include_traditional_script_emoji_and_full_width() -> None:
    texts = [text for name in ("train", "dev", "test") for text, _ in read_split(name)]
    to_simplified = OpenCC("t2s")
    assert sum(to_simplified.convert(t) != t for t in texts) >= 10
    assert sum(any(unicodedata.category(c) == "So" for c in t) for t in texts) >= 100
    assert sum(any("\uff10" <= c <= "\uff5a" for c in t) for t in texts) >= 10


def test_rules_file_has_keyword_and_regex_rules(sample_rules) -> None:
    kinds = Counter(rule.kind for rule in sample_rules)
    assert kinds["keyword"] >= 30 and kinds["regex"] >= 10


def test_sample_is_small() -> None:
    assert sum(path.stat().st_size for path in SAMPLE.iterdir()) < 200_000
