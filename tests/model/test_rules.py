"""models.rules.RuleModel: keyword and RE2 regex rules together, as model type regex."""

import pytest

from models.rules import RuleModel
from utils.patterns import PatternError
from utils.rule_files import Rule
from utils.text import utf8_of


def model(*rules: tuple) -> RuleModel:
    return RuleModel(Rule(*r) for r in rules)


def test_keywords_and_regexes_sum_weights_of_distinct_rules() -> None:
    m = model(
        ("财经", "基金", "keyword", 1.0), ("财经", r"(涨|跌)停", "regex", 2.0), ("体育", r"\d+公里", "regex", 1.5)
    )
    assert m.predict(["基金涨停了，基金又涨停", "跑了5公里", "天气不错", ""]) == [
        [("财经", 3.0)],
        [("体育", 1.5)],
        [],
        [],
    ]


def test_matching_is_on_normalised_text_and_regexes_ignore_case() -> None:
    m = model(
        ("科技", "iPhone", "keyword", 1.0), ("科技", r"(?i)pixel\s*\d+", "regex", 2.0), ("体育", "NBA\\d", "regex", 1)
    )
    assert m.predict(["新ｉＰｈｏｎｅ到了", "PIXEL 9 真香", "看ＮＢＡ２直播"]) == [
        [("科技", 1.0)],
        [("科技", 2.0)],
        [("体育", 1.0)],
    ]


@pytest.mark.parametrize("regex", [False, True])
def test_texts_in_utf8_get_the_labels_of_the_texts(regex: bool) -> None:
    rules = [("科技", "iPhone", "keyword", 1.0), ("体育", "足球", "keyword", 2.0)]
    if regex:
        rules.append(("体育", r"\d+公里", "regex", 1.5))
    m = model(*rules)
    texts = ["新ｉＰｈｏｎｅ到了", "足球跑了5公里", "", "iphone足球", *([] if regex else ["\ud800足球"])]
    assert m.takes_utf8 is not regex  # regexes want the normalized text: the reader decodes for them
    assert m.predict([utf8_of(text) for text in texts]) == m.predict(texts)
    assert m.predict(texts)[1] == ([("体育", 3.5)] if regex else [("体育", 2.0)])


def test_hostile_pattern_runs_in_linear_time() -> None:
    m = model(("x", r"(a+)+$", "regex", 1.0))
    assert m.predict(["a" * 50_000 + "!"]) == [[]]


def test_min_score_drops_weak_labels() -> None:
    rules = [Rule("a", "甲", "keyword", 1.0), Rule("a", "乙", "keyword", 1.0), Rule("b", "丙", "keyword", 1.0)]
    assert RuleModel(rules, min_score=2.0).predict(["甲乙丙"]) == [[("a", 2.0)]]


def test_json_roundtrip() -> None:
    m = RuleModel([Rule("a", "甲", "keyword", 1.5), Rule("b", r"\d{3}", "regex", 1.0)], min_score=1.0)
    again = RuleModel.from_dict(__import__("json").loads(m.to_bytes()))
    assert again.predict(["甲123", "12"]) == m.predict(["甲123", "12"]) == [[("a", 1.5), ("b", 1.0)], []]


def test_bad_rules_are_refused() -> None:
    with pytest.raises(PatternError, match="does not compile with RE2"):
        model(("a", r"(a)\1", "regex", 1.0))
    with pytest.raises(ValueError, match="at least one rule"):
        RuleModel([])
    with pytest.raises(ValueError, match="empty pattern"):
        model(("a", "  ", "keyword", 1.0))


def test_a_stored_model_with_a_regex_over_the_bounds_is_refused_when_loaded() -> None:
    """A model saved before the bounds fails where it is loaded, not while labeling."""
    data = {"kind": "regex", "rules": [["spam", "广告", "keyword", 1.0], ["spam", "![!?]{400}%", "regex", 1.0]]}
    with pytest.raises(PatternError, match="repeats 400 times; at most 100"):
        RuleModel.from_dict(data)


def test_regexes_match_case_insensitively_as_re2_did() -> None:
    m = model(("科技", r"\biphone\s*\d+\b", "regex", 1.0), ("科技", r"[[:upper:]]{3}", "regex", 2.0))
    assert m.predict(["新 IPHONE 16 到了", "abc", "ſ"]) == [[("科技", 3.0)], [("科技", 2.0)], []]
