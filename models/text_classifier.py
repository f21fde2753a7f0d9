"""A fitted scikit-learn text classifier: Tokenizer → TF-IDF → one-vs-rest linear classifier,
with a decision threshold per label.

A text gets every label whose score reaches its threshold. A score is the label's probability
where the classifier gives one (logistic regression, naive Bayes, SGD with log or modified Huber
loss), else its decision margin (linear SVM, SGD with hinge loss).

When no label reaches its threshold and the training data gave every text at least one label
(`always_label`), the single best-scoring label is given anyway: such data says "no label" is
never the answer. A text with no feature the model knows (empty, only punctuation or only unseen
words) gets no label: its scores would be the classifier's priors, not evidence about the text.
"""

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multiclass import OneVsRestClassifier

from models.base import RowLabels
from models.loading import dump_pickled
from models.tokenizing import Tokenizer
from models.versions import installed_versions


class TextClassifier:
    def __init__(
        self,
        kind: str,
        vectorizer: TfidfVectorizer,
        classifier: OneVsRestClassifier,
        labels: list[str],
        thresholds: np.ndarray,
        always_label: bool,
    ) -> None:
        self.kind = kind
        self.vectorizer = vectorizer
        self.classifier = classifier
        self._labels = list(labels)
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self.always_label = always_label
        # Asked of the base estimator: OneVsRestClassifier answers from its first label's classifier,
        # which is a constant stand-in (with predict_proba) when that label is on every train text.
        base = getattr(classifier, "estimator", classifier)
        self.uses_probability = hasattr(base, "predict_proba")

    @property
    def labels_(self) -> list[str]:
        return list(self._labels)

    @property
    def tokenizer(self) -> Tokenizer:
        return self.vectorizer.analyzer  # type: ignore[no-any-return]

    def scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(scores: texts × labels, known: whether each text has any known feature)."""
        features = self.vectorizer.transform(texts)
        if self.uses_probability:
            scores = self.classifier.predict_proba(features)
        else:
            scores = self.classifier.decision_function(features)
        scores = np.asarray(scores, dtype=np.float64).reshape(len(texts), len(self._labels))
        return scores, np.asarray(features.getnnz(axis=1) > 0)

    def predict(self, texts: list[str]) -> list[RowLabels]:
        if not texts:
            return []
        scores, known = self.scores(texts)
        over = scores >= self.thresholds
        out: list[RowLabels] = []
        for row, over_row, has_features in zip(scores, over, known, strict=True):
            if not has_features:
                out.append([])
                continue
            chosen = np.flatnonzero(over_row)
            if chosen.size == 0 and self.always_label:
                chosen = np.array([int(np.argmax(row))])
            out.append([(self._labels[j], float(row[j])) for j in chosen])
        return out

    def library_versions(self) -> dict[str, str]:
        """The libraries whose version must match for the pickle to load and predict the same."""
        needed = ["scikit-learn", "numpy", "scipy"]
        if self.tokenizer.tokenizer == "jieba":
            # Another dictionary, or another cut, would give words the vectorizer never saw.
            needed += ["jieba", "rjieba"]
        if self.tokenizer.to_simplified:
            needed.append("opencc-python-reimplemented")
        return installed_versions(needed)

    def to_bytes(self) -> bytes:
        return dump_pickled(self.kind, self, self.library_versions())

    def thresholds_by_label(self) -> dict[str, float]:
        return {label: float(t) for label, t in zip(self._labels, self.thresholds, strict=True)}

    def __repr__(self) -> str:
        return f"<TextClassifier {self.kind} labels={self._labels}>"
