"""A fitted scikit-learn text classifier: Tokenizer → TF-IDF → one-vs-rest linear classifier,
deciding single-label (one label per text) or multi-label (a threshold per label).

A score is the label's probability where the classifier gives one (logistic regression, naive Bayes,
SGD with log or modified Huber loss), else its decision value (linear SVM, SGD with hinge loss).

Multi-label: a text gets every label whose score reaches its threshold. When none does and the
training data gave every text at least one label (`always_label`), the single best-scoring label is
given anyway: such data says "no label" is never the answer.

Single-label: a text gets the one label with the highest score (probabilities are first shared out so
that a text's sum to 1, as scikit-learn does for one-vs-rest on single-label data), or none when a
`min_score` is set and the best score is below it.

Each label given carries a margin, its distance from the decision: the score minus the runner-up's
(single-label) or minus the label's threshold (multi-label). The review export picks the rows nearest
the decision by it. A text with no feature the model knows (empty, only punctuation or only unseen
words) gets no label: its scores would be the classifier's priors, not evidence about the text.
"""

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multiclass import OneVsRestClassifier

from models.base import RowDecisions, RowLabels
from models.loading import dump_pickled
from models.tokenizing import Tokenizer
from models.versions import installed_versions


class TextClassifier:
    # Each vocabulary word's column + 1 (so that a miss, None, is the only false value), built on first
    # use: not pickled, and absent from models pickled before it existed.
    _columns: dict[str, int] | None = None
    takes_utf8 = False  # jieba and scikit-learn take str
    # Models pickled before single-label models existed were all multi-label, without a minimum score.
    multi_label = True
    min_score: float | None = None

    def __init__(
        self,
        kind: str,
        vectorizer: TfidfVectorizer,
        classifier: OneVsRestClassifier,
        labels: list[str],
        thresholds: np.ndarray,
        always_label: bool,
        multi_label: bool = True,
        min_score: float | None = None,
    ) -> None:
        self.kind = kind
        self.vectorizer = vectorizer
        self.classifier = classifier
        self._labels = list(labels)
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self.always_label = always_label
        self.multi_label = multi_label
        self.min_score = min_score
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
        features = self.features(texts)
        if self.uses_probability:
            scores = self.classifier.predict_proba(features)
        else:
            scores = self.classifier.decision_function(features)
        scores = np.asarray(scores, dtype=np.float64).reshape(len(texts), len(self._labels))
        return scores, np.asarray(features.getnnz(axis=1) > 0)

    def features(self, texts: list[str]) -> Any:
        """`self.vectorizer.transform(texts)`: the same TF-IDF matrix, built about twice as fast.

        scikit-learn counts each text's features one by one in Python; here the tokenizer's `bag` (its
        features among others no vocabulary learnt from them holds) goes through a dict in C, and numpy
        counts and sorts what it found. What follows counting is scikit-learn's own (`binary`, then
        `_tfidf.transform`, as TfidfVectorizer.transform does)."""
        vectorizer = self.vectorizer
        tokenizer = vectorizer.analyzer
        if not isinstance(tokenizer, Tokenizer):
            return vectorizer.transform(texts)
        # `bag` holds only for a vocabulary learnt from the tokenizer's features, not one given.
        bag = tokenizer.features if getattr(vectorizer, "fixed_vocabulary_", False) else tokenizer.bag
        columns = self._columns
        if columns is None:
            columns = self._columns = {word: column + 1 for word, column in vectorizer.vocabulary_.items()}
        found: list[int] = []
        ends = [0]
        for text in texts:
            found.extend(filter(None, map(columns.get, bag(text))))
            ends.append(len(found))
        width = len(columns)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(ends))
        # Sorted by row, then column: the order scikit-learn's sort_indices gives.
        cells, counts = np.unique(rows * width + np.asarray(found, dtype=np.int64) - 1, return_counts=True)
        cell_rows, cell_columns = np.divmod(cells, width)
        index_type = np.int32 if cells.size <= np.iinfo(np.int32).max else np.int64
        indptr = np.zeros(len(texts) + 1, dtype=index_type)
        np.cumsum(np.bincount(cell_rows, minlength=len(texts)), out=indptr[1:])
        counted = sp.csr_array(
            (counts.astype(np.intc), cell_columns.astype(index_type), indptr),
            shape=(len(texts), width),
            dtype=vectorizer.dtype,
        )
        if vectorizer.binary:
            counted.data.fill(1)
        return vectorizer._tfidf.transform(counted, copy=False)

    def _decisions(self, texts: list[str]) -> tuple[list[int], list[int], list[float], list[float]]:
        """(rows, label columns, scores, margins) of the labels given, row by row, each row's in label order."""
        scores, known = self.scores(texts)
        # Whole-array steps: numpy calls row by row cost more than the rest of a prediction.
        if self.multi_label:
            chosen = (scores >= self.thresholds) & known[:, None]
            if self.always_label:
                bare = np.flatnonzero(known & ~chosen.any(axis=1))
                chosen[bare, scores[bare].argmax(axis=1)] = True
            rows, columns = np.nonzero(chosen)
            given = scores[rows, columns]
            margins = given - self.thresholds[columns]
        else:
            if self.uses_probability:
                totals = scores.sum(axis=1, keepdims=True)
                scores = np.divide(scores, totals, out=np.full_like(scores, 1 / scores.shape[1]), where=totals > 0)
            top = scores.argmax(axis=1)  # the first of equal scores: label order decides a tie
            every = np.arange(len(texts))
            best = scores[every, top]
            scores[every, top] = -np.inf
            runner_up = scores.max(axis=1)
            keep = known if self.min_score is None else known & (best >= self.min_score)
            rows = np.flatnonzero(keep)
            columns, given, margins = top[rows], best[rows], (best - runner_up)[rows]
        return rows.tolist(), columns.tolist(), given.tolist(), margins.tolist()

    def predict(self, texts: list[str]) -> list[RowLabels]:
        if not texts:
            return []
        rows, columns, given, _ = self._decisions(texts)
        found = list(zip(map(self._labels.__getitem__, columns), given, strict=True))
        return _by_row(found, rows, len(texts))

    def decide(self, texts: list[str]) -> list[RowDecisions]:
        """As `predict`, with each label's margin: [(label, score, margin)] per text."""
        if not texts:
            return []
        rows, columns, given, margins = self._decisions(texts)
        found = list(zip(map(self._labels.__getitem__, columns), given, margins, strict=True))
        return _by_row(found, rows, len(texts))

    def decision(self) -> dict[str, Any]:
        """How this model decides, as stored with it and shown by the API."""
        return {
            "multi_label": self.multi_label,
            "score": "probability" if self.uses_probability else "decision value",
            "thresholds": self.thresholds_by_label() if self.multi_label else None,
            "min_score": self.min_score,
        }

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

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_columns", None)
        return state

    def __repr__(self) -> str:
        return f"<TextClassifier {self.kind} labels={self._labels}>"


def _by_row(found: list[Any], rows: list[int], n: int) -> list[Any]:
    """`found` (one item per label given, row by row) cut into one list per text."""
    ends = np.cumsum(np.bincount(np.asarray(rows, dtype=np.int64), minlength=n)).tolist()
    return [found[start:end] for start, end in zip([0, *ends], ends, strict=False)]
