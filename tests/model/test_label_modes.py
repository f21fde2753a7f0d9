"""Single-label and multi-label models: one label per text, margins, min_score, and the report's figures
equal scikit-learn's on the predictions served."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, hamming_loss
from sklearn.preprocessing import MultiLabelBinarizer

from models.evaluation import NO_LABEL, accuracy, predicted_labels
from models.params import ParamError
from models.text_classifier import TextClassifier
from models.training import Example, TrainedModel, train

SKLEARN_TYPES = ["term_weight", "linear_svc", "complement_nb", "sgd"]


def single(rows: list[Example]) -> list[Example]:
    """The sample's rows with exactly one label: single-label data in the sample's own words."""
    return [(text, labels) for text, labels in rows if len(labels) == 1]


@pytest.fixture(scope="module")
def single_sample(sample: dict[str, list[Example]]) -> dict[str, list[Example]]:
    return {name: single(rows) for name, rows in sample.items()}


@pytest.mark.parametrize("model_type", SKLEARN_TYPES)
def test_single_label_models_give_the_best_label_and_its_margin(
    model_type: str, single_sample: dict[str, list[Example]]
) -> None:
    model = train(model_type, {}, single_sample["train"], single_sample["dev"], multi_label=False)
    labeler = model.labeler
    assert isinstance(labeler, TextClassifier) and model.multi_label is False
    texts = [text for text, _ in single_sample["test"]]
    decided = labeler.decide(texts)
    scores, known = labeler.scores(texts)
    if labeler.uses_probability:
        # Shared out to sum to 1; a text every label gives 0 (SGD's modified Huber can) is a tie of all.
        totals = scores.sum(axis=1, keepdims=True)
        scores = np.where(totals > 0, scores / np.where(totals > 0, totals, 1), 1 / scores.shape[1])
    for row, text_scores, has_features in zip(decided, scores, known, strict=True):
        if not has_features:
            assert row == []
            continue
        assert len(row) == 1  # exactly one label, never two
        label, score, margin = row[0]
        ranked = np.sort(text_scores)[::-1]
        assert label == labeler.labels_[int(np.argmax(text_scores))]
        assert score == pytest.approx(ranked[0]) and margin == pytest.approx(ranked[0] - ranked[1])
        assert margin >= 0
    # predict is decide without the margins.
    assert labeler.predict(texts) == [[(label, score) for label, score, _ in row] for row in decided]
    decision = model.decision()
    assert decision["multi_label"] is False and decision["thresholds"] is None
    assert decision["threshold_method"].startswith("no thresholds: each text gets its best-scoring label")


def test_min_score_leaves_unsure_texts_unlabeled(single_sample: dict[str, list[Example]]) -> None:
    texts = [text for text, _ in single_sample["test"]]
    every = train("term_weight", {}, single_sample["train"], single_sample["dev"], multi_label=False)
    best = [row[0][1] for row in every.predict(texts)]
    cut = float(np.median(best))
    picky = train("term_weight", {"min_score": cut}, single_sample["train"], single_sample["dev"], multi_label=False)
    kept = picky.predict(texts)
    assert [bool(row) for row in kept] == [score >= cut for score in best]
    assert 0 < sum(map(bool, kept)) < len(texts)
    assert all(row == every_row for row, every_row in zip(kept, every.predict(texts), strict=True) if row)
    assert picky.decision()["min_score"] == cut and f"min_score {cut:g}" in picky.decision()["threshold_method"]


def test_single_label_figures_equal_scikit_learns(single_sample: dict[str, list[Example]]) -> None:
    model = train("term_weight", {"min_score": 0.7}, single_sample["train"], single_sample["dev"], multi_label=False)
    gold = [labels for _, labels in single_sample["test"]]
    served = predicted_labels(model.predict([text for text, _ in single_sample["test"]]))
    assert NO_LABEL in [row[0] if row else NO_LABEL for row in served]  # min_score left some unlabeled
    figures = accuracy(gold, served, model.labels_, multi_label=False)
    y_true = [row[0] for row in gold]
    y_pred = [row[0] if row else NO_LABEL for row in served]
    assert figures["accuracy"] == accuracy_score(y_true, y_pred)
    matrix = figures["confusion_matrix"]
    assert matrix["labels"] == [*model.labels_, NO_LABEL]
    assert matrix["counts"] == confusion_matrix(y_true, y_pred, labels=matrix["labels"]).tolist()
    assert sum(map(sum, matrix["counts"])) == len(gold)


def test_multi_label_models_keep_their_thresholds(sample: dict[str, list[Example]], term_weight: TrainedModel) -> None:
    labeler = term_weight.labeler
    assert isinstance(labeler, TextClassifier) and term_weight.multi_label is True
    texts = [text for text, _ in sample["test"]]
    scores, known = labeler.scores(texts)
    for i, row in enumerate(labeler.decide(texts)):
        for label, score, margin in row:
            j = labeler.labels_.index(label)
            assert score == scores[i, j] and margin == pytest.approx(score - labeler.thresholds[j])
        over = {labeler.labels_[j] for j in np.flatnonzero(scores[i] >= labeler.thresholds)} if known[i] else set()
        given = {label for label, _, _ in row}
        # Every label over its threshold, or the best one alone for a text that reached none.
        assert given == over or (not over and len(given) == 1)
    decision = term_weight.decision()
    assert decision["multi_label"] is True and decision["thresholds"] == term_weight.thresholds
    assert decision["threshold_method"].startswith("tuned on the")
    gold = [labels for _, labels in sample["test"]]
    served = predicted_labels(term_weight.predict(texts))
    figures = accuracy(gold, served, labeler.labels_, multi_label=True)
    binarizer = MultiLabelBinarizer(classes=labeler.labels_)
    y_true, y_pred = binarizer.fit_transform(gold), binarizer.transform(served)
    assert figures["subset_accuracy"] == figures["accuracy"] == accuracy_score(y_true, y_pred)
    assert figures["hamming_loss"] == hamming_loss(y_true, y_pred)
    assert "confusion_matrix" not in figures


def test_a_model_pickled_before_label_modes_is_multi_label(term_weight: TrainedModel) -> None:
    labeler = term_weight.labeler
    assert isinstance(labeler, TextClassifier)
    state = labeler.__getstate__()
    del state["multi_label"], state["min_score"]
    old = TextClassifier.__new__(TextClassifier)
    old.__dict__.update(state)
    assert old.multi_label is True and old.min_score is None
    assert old.predict(["今天 NBA 季后赛"]) == labeler.predict(["今天 NBA 季后赛"])


def test_what_a_single_label_model_refuses(sample: dict[str, list[Example]]) -> None:
    with pytest.raises(ValueError, match="has 2 labels; a single-label model needs one per text"):
        train("term_weight", {}, sample["train"], sample["dev"], multi_label=False)
    with pytest.raises(ParamError, match=r"params\.min_score: only for single-label data"):
        train("term_weight", {"min_score": 0.5}, sample["train"], sample["dev"], multi_label=True)


def test_a_rule_model_needs_no_texts(sample_rules) -> None:
    model = train("keyword", {}, [], [], sample_rules)
    assert model.multi_label is True and model.decision()["multi_label"] is True
    assert model.predict(["今天 NBA 季后赛"]) != [[]]
