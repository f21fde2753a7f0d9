"""models.thresholds: F1-maximising cut points."""

import numpy as np

from models.thresholds import best_threshold, tune_thresholds


def test_threshold_between_the_classes_when_they_separate() -> None:
    scores = np.array([0.9, 0.2, 0.7, 0.1, 0.4])
    positive = np.array([True, False, True, False, False])
    assert best_threshold(scores, positive, 0.5) == 0.55


def test_threshold_maximises_f1_when_they_overlap() -> None:
    scores = np.array([0.9, 0.8, 0.6, 0.5, 0.3, 0.2])
    positive = np.array([True, False, True, True, False, False])
    # Taking the top 4 gives P=3/4, R=1, F1=6/7: the best; cut between 0.5 and 0.3.
    assert best_threshold(scores, positive, 0.5) == 0.4


def test_equal_scores_are_cut_together_and_fallback_without_positives() -> None:
    assert best_threshold(np.array([0.5, 0.5, 0.1]), np.array([True, False, False]), 0.0) == 0.3
    assert best_threshold(np.array([0.3, 0.2]), np.array([False, False]), 0.5) == 0.5
    assert best_threshold(np.array([0.3, 0.2]), np.array([True, True]), 0.5) == 0.2


def test_one_threshold_per_column() -> None:
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.3]])
    gold = np.array([[1, 0], [0, 1], [1, 0]])
    assert tune_thresholds(scores, gold, 0.5).tolist() == [0.4, 0.55]
