import pytest

from models.codec import load_labeler
from models.keyword import KeywordModel, KeywordRule
from tests.oracle import keyword_oracle
from utils.demo import generate_posts
from utils.text import join_columns, normalize, utf8_of
from workers.cli import DEMO_RULES, read_keyword_rules


def model(*rules: tuple) -> KeywordModel:
    return KeywordModel(KeywordRule(*r) for r in rules)


def test_one_text_may_get_several_labels() -> None:
    m = model(("体育", "足球"), ("财经", "股票"), ("财经", "足球彩票"))
    assert m.predict(["足球彩票和股票都涨了"]) == [[("体育", 1.0), ("财经", 2.0)]]


def test_score_sums_distinct_keywords_with_their_weights() -> None:
    m = model(("体育", "足球", 1.0), ("体育", "篮球", 2.5))
    assert m.predict(["足球足球篮球"]) == [[("体育", 3.5)]]


def test_full_width_case_and_zero_width_are_normalised() -> None:
    m = model(("体育", "NBA"), ("科技", "5G"))
    assert m.predict(["看ｎｂａ直播", "５Ｇ手机", "N\u200bBA"]) == [[("体育", 1.0)], [("科技", 1.0)], [("体育", 1.0)]]


def test_empty_and_unmatched_texts_get_no_labels() -> None:
    m = model(("体育", "足球"))
    assert m.predict(["", "今天天气很好", "😂👍"]) == [[], [], []]


def test_same_keyword_for_two_labels() -> None:
    m = model(("体育", "冠军"), ("娱乐", "冠军"))
    assert m.predict(["冠军"]) == [[("体育", 1.0), ("娱乐", 1.0)]]


def test_labels_are_sorted_and_unique() -> None:
    assert model(("b", "x"), ("a", "y"), ("b", "z")).labels_ == ["a", "b"]


def test_roundtrip_through_bytes() -> None:
    m = model(("体育", "足球", 2.0), ("财经", "股票"))
    loaded = load_labeler(m.to_bytes())
    texts = ["足球", "股票足球", "无"]
    assert loaded.predict(texts) == m.predict(texts)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model kind"):
        load_labeler(b'{"kind": "nope"}')


def test_no_rules_or_blank_keyword_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one rule"):
        KeywordModel([]).predict(["x"])
    with pytest.raises(ValueError, match="empty keyword"):
        model(("a", "  ")).predict(["x"])


def test_agrees_with_plain_substring_search_on_generated_posts() -> None:
    rules = read_keyword_rules(DEMO_RULES)
    rows = list(generate_posts(3_000, seed=11))
    m = KeywordModel(rules)
    texts = [join_columns([r["title"], r["content"]]) for r in rows]
    predictions = m.predict(texts)
    assert m.takes_utf8 and m.predict([utf8_of(text) for text in texts]) == predictions
    counts: dict[str, int] = {}
    for labels in predictions:
        for label, _ in labels:
            counts[label] = counts.get(label, 0) + 1
    expected = keyword_oracle(rows, rules)
    assert counts == expected["counts"]
    assert {r["id"] for r, p in zip(rows, predictions, strict=True) if p} == expected["labeled"]


@pytest.mark.parametrize("min_score", [None, 2.0])
def test_scores_and_floor_agree_with_a_direct_sum(min_score: float | None) -> None:
    """Texts with one keyword (answered from a table built with the matcher) and with several (summed
    per text) give what summing the weights of the distinct keywords found gives."""
    words = ["足球", "篮球", "股票", "基金", "手机", "电影", "nba", "5g"]
    rules = [KeywordRule(f"label_{i % 3}", word, 0.5 + i % 4) for i, word in enumerate(words)]
    rules.append(KeywordRule("label_2", "足球", 4.0))  # one keyword, two labels
    m = KeywordModel(rules, min_score)
    texts = [join_columns([r["title"], r["content"]]) + words[i % len(words)] * (i % 3) for i, r in
             enumerate(generate_posts(600, seed=5))]  # fmt: skip
    texts += [*words, "ＮＢＡ和足球", "", "无关"]

    def direct(text: str) -> list[tuple[str, float]]:
        folded = normalize(text)
        scores: dict[str, float] = {}
        for word in {r.keyword for r in rules if r.keyword in folded}:
            for label in sorted({r.label for r in rules if r.keyword == word}):
                weight = max(r.weight for r in rules if r.keyword == word and r.label == label)
                scores[label] = scores.get(label, 0.0) + weight
        return [(label, s) for label, s in sorted(scores.items()) if min_score is None or s >= min_score]

    predicted = m.predict(texts)
    assert sum(len(p) == 1 for p in predicted) > 50 and sum(len(p) > 1 for p in predicted) > 50
    assert predicted == [direct(text) for text in texts]
