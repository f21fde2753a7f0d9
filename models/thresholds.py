"""Per-label decision thresholds that maximise each label's F1 on the dev split."""

import numpy as np


def best_threshold(scores: np.ndarray, positive: np.ndarray, fallback: float) -> float:
    """The threshold t maximising F1 of `score >= t` against `positive` (booleans).

    It sits midway between the lowest score taken and the next lower one, so dev scores lying on
    it by chance do not decide. Ties in F1 go to the higher threshold (fewer, surer labels).
    Without a positive example there is nothing to tune, and `fallback` is returned.
    """
    total_positive = int(positive.sum())
    if total_positive == 0 or scores.size == 0:
        return fallback
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], positive[order].astype(np.int64)
    # Cut only between distinct values: equal scores are all in or all out.
    last_of_value = np.flatnonzero(np.r_[ranked[1:] != ranked[:-1], True])
    true_pos = np.cumsum(hits)[last_of_value]
    taken = last_of_value + 1
    f1 = 2 * true_pos / (taken + total_positive)
    best = int(np.argmax(f1))  # argmax takes the first maximum: the highest threshold
    cut = last_of_value[best]
    if cut + 1 < ranked.size:
        return float((ranked[cut] + ranked[cut + 1]) / 2)
    return float(ranked[cut])


def tune_thresholds(scores: np.ndarray, gold: np.ndarray, fallback: float) -> np.ndarray:
    """One threshold per column of `scores` (n texts × k labels) against binary `gold` (same shape)."""
    return np.array(
        [best_threshold(scores[:, j], gold[:, j].astype(bool), fallback) for j in range(scores.shape[1])],
        dtype=np.float64,
    )
