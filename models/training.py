"""Training: a model type, its parameters and labeled texts (or a rule set) → a TrainedModel.

Texts may carry several labels. scikit-learn types binarise the label sets (MultiLabelBinarizer)
and fit one binary classifier per label (OneVsRestClassifier) on TF-IDF features of the
Tokenizer's n-grams. A multi-label model then tunes each label's threshold on dev to maximise its F1;
a single-label model (trained on data whose every text has one label) gives each text its
best-scoring label instead (see models.text_classifier). Rule types need no texts and are
multi-label: every label whose rules match is given.
"""

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC

from models.base import RowLabels
from models.keyword import KeywordModel, KeywordRule
from models.loading import load_model
from models.params import MODEL_TYPES, RULE_TYPES, ParamError, validate_params
from models.rules import RuleModel
from models.text_classifier import TextClassifier
from models.thresholds import tune_thresholds
from models.tokenizing import Tokenizer
from models.versions import ModelVersionError
from utils.rule_files import Rule

# A labeled text: (text, its labels).
Example = tuple[str, list[str]]

__all__ = [
    "MODEL_TYPES",
    "Example",
    "ModelVersionError",
    "ParamError",
    "TrainedModel",
    "load_model",
    "train",
    "validate_params",
]


@dataclass
class TrainedModel:
    """A model ready to predict and be stored; `labeler` is what `load_model` gives back."""

    kind: str
    params: dict[str, Any]
    labeler: KeywordModel | RuleModel | TextClassifier
    # Per-label decision thresholds of multi-label scikit-learn models (None for the others).
    thresholds: dict[str, float] | None = field(default=None)
    # How the thresholds were chosen, in words.
    threshold_method: str | None = field(default=None)

    @property
    def multi_label(self) -> bool:
        return self.labeler.multi_label

    def decision(self) -> dict[str, Any]:
        """How the model decides, as stored with it: single- or multi-label, thresholds and how they
        were chosen, the minimum score."""
        if isinstance(self.labeler, TextClassifier):
            return {**self.labeler.decision(), "threshold_method": self.threshold_method}
        return {
            "multi_label": True,
            "score": "sum of the matching rules' weights",
            "thresholds": None,
            "min_score": self.params.get("min_score"),
            "threshold_method": "rules: every label whose matching rules reach min_score (any match without one)",
        }

    @property
    def labels_(self) -> list[str]:
        return self.labeler.labels_

    @property
    def takes_utf8(self) -> bool:
        return self.labeler.takes_utf8

    def predict(self, texts: list[str]) -> list[RowLabels]:
        return self.labeler.predict(texts)

    def to_bytes(self) -> bytes:
        return self.labeler.to_bytes()

    def library_versions(self) -> dict[str, str]:
        return self.labeler.library_versions()


def train(
    model_type: str,
    params: dict[str, Any] | None,
    train: Sequence[Example],
    dev: Sequence[Example],
    rules: Sequence[Rule] | None = None,
    multi_label: bool = True,
) -> TrainedModel:
    """Train (or, for rule types, build) a model: single-label (one label per text) or multi-label.
    Raises ParamError for bad parameters and ValueError for data that cannot train it: an empty train
    split, fewer than two labels, no usable rules, a text with several labels for a single-label model."""
    checked = validate_params(model_type, params)
    if model_type in RULE_TYPES:
        return _rule_model(model_type, checked, rules)
    return _fit(model_type, checked, train, dev, multi_label)


def _rule_model(model_type: str, params: dict[str, Any], rules: Sequence[Rule] | None) -> TrainedModel:
    if not rules:
        raise ValueError(f"a {model_type} model is built from a rule set; none was given or it is empty")
    if model_type == "keyword":
        keywords = [KeywordRule(r.label, r.pattern, r.weight) for r in rules if r.kind == "keyword"]
        if not keywords:
            raise ValueError("the rule set has no keyword rules; a model of type 'regex' uses regex rules")
        keyword_model = KeywordModel(keywords, params["min_score"])
        keyword_model.matcher  # noqa: B018  (built now, so a bad keyword fails here, not in a worker)
        return TrainedModel(model_type, params, keyword_model)
    return TrainedModel(model_type, params, RuleModel(rules, params["min_score"]))


def _check_examples(split: str, examples: Sequence[Example]) -> None:
    for index, (text, labels) in enumerate(examples):
        if not isinstance(text, str):
            raise ValueError(f"{split} row {index}: the text is {type(text).__name__}, not text")
        if not isinstance(labels, list | tuple) or not all(isinstance(label, str) for label in labels):
            raise ValueError(f"{split} row {index}: labels must be a list of label names")


def _estimator(model_type: str, params: dict[str, Any]) -> Any:
    if model_type == "term_weight":
        return LogisticRegression(C=params["C"], class_weight=params["class_weight"], max_iter=1000)
    if model_type == "linear_svc":
        return LinearSVC(C=params["C"], class_weight=params["class_weight"], random_state=0)
    if model_type == "complement_nb":
        return ComplementNB(alpha=params["alpha"])
    if model_type == "sgd":
        return SGDClassifier(
            loss=params["loss"], alpha=params["alpha"], class_weight=params["class_weight"], random_state=0
        )
    raise ParamError("model_type", f"{model_type!r} is not a scikit-learn model type")


def _fit(
    model_type: str, params: dict[str, Any], train: Sequence[Example], dev: Sequence[Example], multi_label: bool
) -> TrainedModel:
    if not train:
        raise ValueError("the train split is empty: training needs labeled texts in it")
    _check_examples("train", train)
    _check_examples("dev", dev)
    if not multi_label:
        several = next((i for i, (_, row) in enumerate(train) if len(row) != 1), None)
        if several is not None:
            count = len(train[several][1])
            raise ValueError(f"train row {several} has {count} labels; a single-label model needs one per text")
    elif params["min_score"] is not None:
        raise ParamError("params.min_score", "only for single-label data; a multi-label model has per-label thresholds")
    labels = sorted({label for _, row_labels in train for label in row_labels})
    if len(labels) < 2:
        found = f"only {labels[0]!r}" if labels else "none"
        raise ValueError(f"training needs at least two labels; the train split has {found}")

    binarizer = MultiLabelBinarizer(classes=labels)
    gold_train = binarizer.fit_transform([row_labels for _, row_labels in train])
    vectorizer = TfidfVectorizer(
        analyzer=Tokenizer.from_params(params),
        sublinear_tf=params["sublinear_tf"],
        min_df=params["min_df"],
        max_features=params["max_features"],
        dtype=np.float32,
    )
    try:
        features = vectorizer.fit_transform([text for text, _ in train])
    except ValueError as exc:
        # scikit-learn's words ("max_df corresponds to < documents than min_df", "empty vocabulary")
        # name settings the user never saw: say what to change instead.
        raise ValueError(
            f"the {len(train)} train texts leave no terms to learn from with min_df={params['min_df']} and the "
            f"stop words given: lower params.min_df or check that the texts are not empty ({exc})"
        ) from exc
    if features.shape[1] == 0:
        raise ValueError("the train texts yield no features (with min_df and stop words as given)")
    classifier = OneVsRestClassifier(_estimator(model_type, params))
    with warnings.catch_warnings():
        # A label present in every train text is predicted as constant: expected, not worth a warning.
        warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
        classifier.fit(features, gold_train)

    fallback = 0.5 if hasattr(classifier.estimator, "predict_proba") else 0.0
    thresholds = np.full(len(labels), fallback)
    model = TextClassifier(
        model_type,
        vectorizer,
        classifier,
        labels,
        thresholds,
        always_label=all(row for _, row in train),
        multi_label=multi_label,
        min_score=params["min_score"],
    )
    if not multi_label:
        method = "no thresholds: each text gets its best-scoring label" + (
            f", if its score reaches min_score {params['min_score']:g}" if params["min_score"] is not None else ""
        )
        return TrainedModel(model_type, params, model, None, method)
    # Dev labels the train split never had cannot be predicted; they are left out of tuning.
    known = set(labels)
    known_dev = [(text, [label for label in row if label in known]) for text, row in dev]
    method = f"default {fallback:g} for every label" + (
        " (tune_thresholds is off)" if not params["tune_thresholds"] else " (no dev rows to tune on)"
    )
    if params["tune_thresholds"] and known_dev:
        scores, _ = model.scores([text for text, _ in known_dev])
        gold_dev = binarizer.transform([row for _, row in known_dev])
        model.thresholds = tune_thresholds(scores, gold_dev, fallback)
        method = f"tuned on the {len(known_dev):,} dev rows: each label's threshold maximises its F1"
    return TrainedModel(model_type, params, model, model.thresholds_by_label(), method)
