"""How good a model is: classification report, accuracy, confusion, per-row details.

Every figure is scikit-learn's own (`classification_report` over the binarised label sets,
`accuracy_score`, `hamming_loss`, `confusion_matrix`), so the figures users read are the ones any
scikit-learn user would compute; only the number types are made plain (float, int) so the report
stores as JSON.
"""

from collections.abc import Sequence
from typing import Any

from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    hamming_loss,
    multilabel_confusion_matrix,
)
from sklearn.preprocessing import MultiLabelBinarizer

from models.base import RowLabels

AVERAGES = ("micro avg", "macro avg", "weighted avg", "samples avg")
# A single-label model's "label" for a text it leaves unlabeled (min_score), in accuracy and the matrix.
NO_LABEL = "(no label)"


def _binarize(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str]) -> tuple:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold rows but {len(predicted)} predicted rows")
    if not labels:
        raise ValueError("a report needs at least one label")
    known = set(labels)
    # Labels outside `labels` (a dev label the model never learnt) are not part of the report.
    binarizer = MultiLabelBinarizer(classes=list(labels))
    y_true = binarizer.fit_transform([[label for label in row if label in known] for row in gold])
    y_pred = binarizer.transform([[label for label in row if label in known] for row in predicted])
    return y_true, y_pred


def report(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str]
) -> dict[str, dict[str, float | int]]:
    """{label or average: {precision, recall, f1-score, support}}, as classification_report(output_dict=True,
    zero_division=0); the averages are "micro avg", "macro avg", "weighted avg" and "samples avg"."""
    y_true, y_pred = _binarize(gold, predicted, labels)
    raw: dict[str, Any] = classification_report(
        y_true, y_pred, labels=list(range(len(labels))), target_names=list(labels), output_dict=True, zero_division=0
    )
    return {
        name: {key: int(value) if key == "support" else float(value) for key, value in figures.items()}
        for name, figures in raw.items()
    }


def accuracy(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str], multi_label: bool
) -> dict[str, Any]:
    """Accuracy as scikit-learn computes it, and for single-label models the confusion matrix.

    Single-label (every gold text one label, every prediction at most one): `accuracy` is
    accuracy_score over the label of each text (NO_LABEL for none), and `confusion_matrix` is
    confusion_matrix over the same, gold in rows and predicted in columns, with a NO_LABEL column
    when the model left texts unlabeled. Otherwise `accuracy` is the subset accuracy (accuracy_score
    over the binarised label sets: the share of texts whose label set is exactly right) and
    `hamming_loss` the share of (text, label) pairs decided wrongly."""
    if not gold:
        return {}
    single = not multi_label and all(len(row) == 1 for row in gold) and all(len(row) <= 1 for row in predicted)
    if single:
        y_true = [row[0] for row in gold]
        y_pred = [row[0] if row else NO_LABEL for row in predicted]
        names = list(labels) + ([NO_LABEL] if NO_LABEL in y_pred and NO_LABEL not in labels else [])
        counts = confusion_matrix(y_true, y_pred, labels=names)
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "confusion_matrix": {"labels": names, "counts": counts.tolist()},
        }
    y_true_sets, y_pred_sets = _binarize(gold, predicted, labels)
    return {
        "accuracy": float(accuracy_score(y_true_sets, y_pred_sets)),
        "subset_accuracy": float(accuracy_score(y_true_sets, y_pred_sets)),
        "hamming_loss": float(hamming_loss(y_true_sets, y_pred_sets)),
    }


def confusion(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per label, the texts it was rightly given (tp), wrongly given (fp), wrongly not given (fn)
    and rightly not given (tn): multilabel_confusion_matrix, one 2×2 matrix per label."""
    y_true, y_pred = _binarize(gold, predicted, labels)
    matrices = multilabel_confusion_matrix(y_true, y_pred)
    return {
        label: {"tp": int(m[1, 1]), "fp": int(m[0, 1]), "fn": int(m[1, 0]), "tn": int(m[0, 0])}
        for label, m in zip(labels, matrices, strict=True)
    }


def matrix(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str]) -> dict[str, Any]:
    """Gold label (rows) against predicted label (columns): {"labels": [...], "counts": [[...]]}, with one
    more row and column than labels for "no label". A text adds one to each (gold, predicted) pair it
    has, so on single-label data this is the usual confusion matrix; the dashboard draws it as a heatmap."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold rows but {len(predicted)} predicted rows")
    index = {label: i for i, label in enumerate(labels)}
    none = len(labels)
    counts = [[0] * (none + 1) for _ in range(none + 1)]
    for gold_row, predicted_row in zip(gold, predicted, strict=True):
        # Labels outside `labels` count as no label, as in the report.
        gold_at = {index[label] for label in gold_row if label in index} or {none}
        predicted_at = {index[label] for label in predicted_row if label in index} or {none}
        for g in gold_at:
            for p in predicted_at:
                counts[g][p] += 1
    return {"labels": list(labels), "counts": counts}


def predicted_labels(predictions: Sequence[RowLabels]) -> list[list[str]]:
    """The label names of Labeler.predict's output, row by row."""
    return [[label for label, _ in row] for row in predictions]


def details(
    texts: Sequence[str], gold: Sequence[Sequence[str]], predicted_with_scores: Sequence[RowLabels]
) -> list[dict[str, Any]]:
    """One row per text for the validation-details download: text, gold labels, predicted labels
    and {label: score} of the predicted ones."""
    if not len(texts) == len(gold) == len(predicted_with_scores):
        raise ValueError("texts, gold and predictions must have one row per text")
    return [
        {
            "text": text,
            "gold": list(gold_row),
            "predicted": [label for label, _ in row],
            "scores": {label: float(score) for label, score in row},
        }
        for text, gold_row, row in zip(texts, gold, predicted_with_scores, strict=True)
    ]
