"""models.training.train on the sample: every model type, quality against a baseline, bad input."""

from collections import Counter

import pytest

from models.evaluation import predicted_labels, report
from models.params import ParamError
from models.training import MODEL_TYPES, TrainedModel, train
from utils.rule_files import Rule

SKLEARN_TYPES = [t for t in MODEL_TYPES if t not in ("keyword", "regex")]


def micro_f1(model: TrainedModel, rows: list) -> float:
    gold = [labels for _, labels in rows]
    predicted = predicted_labels(model.predict([text for text, _ in rows]))
    return report(gold, predicted, sorted({label for row in gold for label in row}))["micro avg"]["f1-score"]


def test_term_weight_beats_the_majority_baseline_by_a_clear_margin(sample, term_weight: TrainedModel) -> None:
    majority = Counter(label for _, labels in sample["train"] for label in labels).most_common(1)[0][0]
    gold = [labels for _, labels in sample["test"]]
    labels = sorted({label for row in gold for label in row})
    baseline = report(gold, [[majority]] * len(gold), labels)["micro avg"]["f1-score"]
    # Measured on this sample: baseline 0.15, term_weight 0.89; the margin leaves room for noise.
    assert micro_f1(term_weight, sample["test"]) >= baseline + 0.5


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_every_model_type_trains_and_predicts(model_type: str, sample, sample_rules: list[Rule]) -> None:
    model = train(model_type, {}, sample["train"], sample["dev"], sample_rules)
    assert model.kind == model_type and model.labeler.kind == model_type
    assert model.labels_ == ["体育", "娱乐", "旅游", "科技", "美食", "财经"]
    texts = [text for text, _ in sample["test"]]
    predictions = model.predict(texts)
    assert len(predictions) == len(texts)
    for row in predictions:
        names = [label for label, _ in row]
        assert len(names) == len(set(names)) and set(names) <= set(model.labels_)
        assert all(isinstance(score, float) for _, score in row)
    # Rule models find what their rules name; learnt models must do well on held-out texts.
    assert micro_f1(model, sample["test"]) >= (0.5 if model_type in ("keyword", "regex") else 0.75)
    versions = model.library_versions()
    assert all(isinstance(v, str) and v[0].isdigit() for v in versions.values())
    if model_type in SKLEARN_TYPES:
        assert {"scikit-learn", "numpy", "scipy", "jieba"} <= set(versions)
        assert model.thresholds is not None and set(model.thresholds) == set(model.labels_)


def test_a_text_gets_several_labels_when_it_has_several_topics(sample, term_weight: TrainedModel) -> None:
    two_topics = [text for text, labels in sample["test"] if len(labels) == 2]
    assert sum(len(row) >= 2 for row in term_weight.predict(two_topics)) >= len(two_topics) // 2


def test_texts_without_known_features_get_no_label(term_weight: TrainedModel) -> None:
    assert term_weight.predict(["", "！！！……", "zzqxj", "   "]) == [[], [], [], []]
    assert term_weight.predict([]) == []


def test_every_text_with_evidence_gets_at_least_its_best_label(sample, term_weight: TrainedModel) -> None:
    # The sample has no empty label set, so "no label" is never the answer for a text the model can read.
    assert all(term_weight.predict([text for text, _ in sample["test"]]))


def test_without_tuning_thresholds_are_half_a_probability_or_zero_margin(sample) -> None:
    logistic = train("term_weight", {"tune_thresholds": False, "tokenizer": "char"}, sample["train"], sample["dev"])
    assert set(logistic.thresholds.values()) == {0.5}  # type: ignore[union-attr]
    svm = train("linear_svc", {"tune_thresholds": False, "tokenizer": "char"}, sample["train"], sample["dev"])
    assert set(svm.thresholds.values()) == {0.0}  # type: ignore[union-attr]
    tuned = train("linear_svc", {"tokenizer": "char"}, sample["train"], sample["dev"])
    assert set(tuned.thresholds.values()) != {0.0}  # type: ignore[union-attr]


def test_a_label_missing_from_dev_keeps_the_default_threshold(sample) -> None:
    dev = [(text, labels) for text, labels in sample["dev"] if "娱乐" not in labels]
    model = train("term_weight", {"tokenizer": "char"}, sample["train"], [*dev, ("新剧", ["没见过的标签"])])
    assert model.thresholds["娱乐"] == 0.5  # type: ignore[index]
    assert "没见过的标签" not in model.labels_


def test_data_with_empty_label_sets_may_give_no_label() -> None:
    rows = [("足球比赛", ["体育"]), ("篮球比赛", ["体育"]), ("股票大涨", ["财经"]), ("基金亏了", ["财经"])]
    rows += [("今天天气不错", []), ("晚安", []), ("天气好冷", [])]
    model = train("term_weight", {"tokenizer": "char", "tune_thresholds": False}, rows, [])
    assert model.labeler.always_label is False  # type: ignore[union-attr]
    assert model.predict(["天气不错"]) == [[]]
    # Without empty label sets in training, a readable text below every threshold gets its best label.
    forced = train("term_weight", {"tokenizer": "char", "tune_thresholds": False}, rows[:4], [])
    forced.labeler.thresholds[:] = 0.99  # type: ignore[union-attr]
    assert [label for label, _ in forced.predict(["足球"])[0]] == ["体育"]


def test_training_is_deterministic(sample) -> None:
    texts = [text for text, _ in sample["test"]]
    for model_type in ("sgd", "linear_svc"):
        first = train(model_type, {"tokenizer": "char"}, sample["train"], sample["dev"])
        second = train(model_type, {"tokenizer": "char"}, sample["train"], sample["dev"])
        assert first.predict(texts) == second.predict(texts)


def test_params_are_returned_with_defaults(term_weight: TrainedModel) -> None:
    assert term_weight.params["C"] == 10.0 and term_weight.params["tokenizer"] == "jieba"


def test_one_label_dataset_is_refused() -> None:
    rows = [("足球比赛", ["体育"]), ("篮球比赛", ["体育"])]
    with pytest.raises(ValueError, match="needs at least two labels; the train split has only '体育'"):
        train("term_weight", {}, rows, rows)


def test_empty_train_split_is_refused(sample) -> None:
    with pytest.raises(ValueError, match="the train split is empty"):
        train("linear_svc", {}, [], sample["dev"])


def test_bad_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="train row 1: labels must be a list"):
        train("sgd", {}, [("a", ["x"]), ("b", "y")], [])  # type: ignore[list-item]


def test_bad_params_are_refused_before_training(sample) -> None:
    with pytest.raises(ParamError, match=r"params\.C: must be a number"):
        train("term_weight", {"C": "strong"}, sample["train"], sample["dev"])


def test_rule_models_need_rules() -> None:
    with pytest.raises(ValueError, match="built from a rule set"):
        train("keyword", {}, [], [], None)
    with pytest.raises(ValueError, match="built from a rule set"):
        train("regex", {}, [], [], [])
    with pytest.raises(ValueError, match="no keyword rules"):
        train("keyword", {}, [], [], [Rule("a", r"\d+", "regex", 1.0)])


def test_keyword_model_uses_only_keyword_rules_and_min_score(sample_rules: list[Rule]) -> None:
    model = train("keyword", {"min_score": 1.5}, [], [], sample_rules)
    assert len(model.labeler.rules) == sum(rule.kind == "keyword" for rule in sample_rules)  # type: ignore[union-attr]
    assert model.predict(["基金", "A股和基金", "跑了5公里"]) == [[], [("财经", 2.5)], []]


@pytest.mark.parametrize("model_type", ["linear_svc", "sgd", "term_weight"])
def test_a_label_on_every_train_text_sorting_first_does_not_break_prediction(model_type: str) -> None:
    """OneVsRestClassifier reports predict_proba from its first label's classifier, a constant stand-in
    when that label is on every text; margin models must still be asked for margins."""
    rows = [(f"文本{i} {'足球比赛' if i % 2 else '股票基金'}", ["ALL", "体育" if i % 2 else "财经"]) for i in range(40)]
    model = train(model_type, {"tune_thresholds": False}, rows, [])
    predicted = model.predict(["足球比赛 精彩", "股票基金 大涨"])
    assert [sorted(label for label, _ in row) for row in predicted] == [["ALL", "体育"], ["ALL", "财经"]]
