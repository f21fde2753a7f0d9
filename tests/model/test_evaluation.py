"""models.evaluation: the figures are scikit-learn's own."""

import pytest
from sklearn.metrics import classification_report, confusion_matrix, multilabel_confusion_matrix
from sklearn.preprocessing import MultiLabelBinarizer

from models.evaluation import AVERAGES, confusion, details, matrix, predicted_labels, report
from models.training import TrainedModel


def sklearn_report(gold: list[list[str]], predicted: list[list[str]], labels: list[str]) -> dict:
    binarizer = MultiLabelBinarizer(classes=labels)
    y_true, y_pred = binarizer.fit_transform(gold), binarizer.transform(predicted)
    return classification_report(y_true, y_pred, target_names=labels, output_dict=True, zero_division=0)


def test_report_equals_sklearn_on_a_trained_models_test_predictions(sample, term_weight: TrainedModel) -> None:
    texts, gold = [t for t, _ in sample["test"]], [labels for _, labels in sample["test"]]
    predicted = predicted_labels(term_weight.predict(texts))
    labels = term_weight.labels_
    ours = report(gold, predicted, labels)
    assert ours == sklearn_report(gold, predicted, labels)
    assert set(ours) == {*labels, *AVERAGES}
    assert all(type(v) is (int if k == "support" else float) for row in ours.values() for k, v in row.items())


def test_report_with_empty_predictions_labels_never_predicted_and_unknown_labels() -> None:
    labels = ["a", "b", "c"]
    gold = [["a"], ["a", "b"], ["b"], ["a"]]
    predicted = [["a"], [], ["a", "x"], ["a", "b"]]  # "x" is outside the label set: left out
    ours = report(gold, predicted, labels)
    assert ours == sklearn_report(gold, [["a"], [], ["a"], ["a", "b"]], labels)
    assert ours["c"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    assert ours["micro avg"]["support"] == 5  # gold label instances


def test_confusion_counts_per_label() -> None:
    labels = ["a", "b"]
    gold = [["a"], ["a", "b"], ["b"], []]
    predicted = [["a"], ["a"], ["a", "b"], ["b"]]
    counts = confusion(gold, predicted, labels)
    assert counts == {"a": {"tp": 2, "fp": 1, "fn": 0, "tn": 1}, "b": {"tp": 1, "fp": 1, "fn": 1, "tn": 1}}
    matrices = multilabel_confusion_matrix(
        MultiLabelBinarizer(classes=labels).fit_transform(gold),
        MultiLabelBinarizer(classes=labels).fit_transform(predicted),
    )
    assert [
        [counts[label]["tn"], counts[label]["fp"], counts[label]["fn"], counts[label]["tp"]] for label in labels
    ] == [m.ravel().tolist() for m in matrices]


def test_matrix_on_single_labels_is_sklearns_confusion_matrix() -> None:
    labels = ["a", "b", "c"]
    gold = [["a"], ["b"], ["c"], ["a"], ["b"], []]
    predicted = [["a"], ["a"], ["c"], ["b"], [], ["c"]]
    ours = matrix(gold, predicted, labels)
    names = [*labels, "-"]
    flat = lambda rows: [row[0] if row else "-" for row in rows]  # noqa: E731
    assert ours == {"labels": labels, "counts": confusion_matrix(flat(gold), flat(predicted), labels=names).tolist()}


def test_matrix_counts_each_gold_predicted_pair_of_a_multi_label_text() -> None:
    ours = matrix([["a", "b"], ["x"]], [["b"], ["a", "x"]], ["a", "b"])  # "x" is outside the label set
    assert ours["counts"] == [[0, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_details_rows() -> None:
    rows = details(["t1", "t2"], [["a"], ["a", "b"]], [[("a", 0.9)], []])
    assert rows == [
        {"text": "t1", "gold": ["a"], "predicted": ["a"], "scores": {"a": 0.9}},
        {"text": "t2", "gold": ["a", "b"], "predicted": [], "scores": {}},
    ]


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="rows"):
        report([["a"]], [], ["a"])
    with pytest.raises(ValueError, match="one row per text"):
        details(["t"], [], [])
