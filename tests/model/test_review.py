"""Picking rows for review in one pass: each sampling gives what it promises, within `size`."""

import random
from collections import Counter

import pytest

from utils.review import LabeledRow, labeled_rows, pick


def rows_of(n: int) -> list[tuple[str, int, str, str, float, float | None]]:
    """Label rows in key order: rule model kw labels every row (label by id), classifier tw every other
    one, with a margin."""
    out: list[tuple[str, int, str, str, float, float | None]] = []
    for i in range(1, n + 1):
        out.append(("t", i, "kw", f"l{i % 4}", round(0.1 + (i * 37 % 100) / 100, 2), None))
        if i % 3 == 0:
            out.append(("t", i, "kw", "rare", 0.5, None))
        if i % 2 == 0:
            out.append(("t", i, "tw", f"l{i % 4}" if i % 4 else "other", 0.9, round((i * 53 % 97) / 97 - 0.3, 3)))
    return out


def rows(n: int = 200) -> list[LabeledRow]:
    return list(labeled_rows(rows_of(n)))


def test_label_rows_are_gathered_by_source_row() -> None:
    gathered = rows(6)
    assert [r.source_id for r in gathered] == [1, 2, 3, 4, 5, 6]
    assert gathered[2].labels == {"kw": [("l3", 0.21), ("rare", 0.5)]}
    assert gathered[3].labels["tw"] == [("other", 0.9)]


def test_uniform_is_uniform_and_the_seed_repeats_it() -> None:
    picked = pick(rows(), "uniform", 20, "kw", ["kw", "tw"], random.Random(1))
    assert len(picked) == 20 and [r.source_id for r in picked] == sorted({r.source_id for r in picked})
    assert picked == pick(rows(), "uniform", 20, "kw", ["kw", "tw"], random.Random(1))
    counts = Counter(
        r.source_id for seed in range(2_000) for r in pick(rows(), "uniform", 20, "kw", [], random.Random(seed))
    )
    # Each of the 200 rows is expected 200 times in 2,000 samples of 20; a biased sampler strays far.
    assert len(counts) == 200 and min(counts.values()) > 130 and max(counts.values()) < 270


def test_per_label_gives_every_label_its_share() -> None:
    picked = pick(rows(), "per_label", 25, "kw", ["kw"], random.Random(2))
    assert len(picked) <= 25
    shown = Counter(label for r in picked for label, _ in r.labels["kw"])
    assert set(shown) == {"l0", "l1", "l2", "l3", "rare"} and min(shown.values()) >= 5


def test_least_confident_takes_the_lowest_scores() -> None:
    everything = rows()
    picked = pick(everything, "least_confident", 10, "kw", ["kw"], random.Random(3))
    lowest = sorted(everything, key=lambda r: min(s for _, s in r.labels["kw"]))[:10]
    assert {min(s for _, s in r.labels["kw"]) for r in picked} == {min(s for _, s in r.labels["kw"]) for r in lowest}
    assert len(picked) == 10


def test_least_confident_takes_the_rows_nearest_a_classifiers_decision() -> None:
    """For a classifier the margin decides, not the score: every tw score is 0.9."""
    everything = [r for r in rows() if "tw" in r.labels]
    picked = pick(everything, "least_confident", 10, "tw", ["tw"], random.Random(3))
    distances = sorted(abs(r.margins["tw"][0]) for r in everything)  # type: ignore[arg-type]
    assert sorted(r.distance("tw") for r in picked) == distances[:10]
    assert distances[10] > distances[0]  # the margins differ: a pick by score alone would be arbitrary


def test_disagreement_finds_rows_the_models_label_differently() -> None:
    everything = rows()
    picked = pick(everything, "disagreement", 1_000, "kw", ["kw", "tw"], random.Random(4))
    differ = [
        r for r in everything if {lb for lb, _ in r.labels.get("kw", [])} != {lb for lb, _ in r.labels.get("tw", [])}
    ]
    assert picked == differ and len(differ) < len(everything)  # odd ids: tw gave nothing; l0 vs other; rare


@pytest.mark.parametrize("sampling", ["uniform", "per_label", "least_confident", "disagreement"])
def test_no_rows_no_sample(sampling: str) -> None:
    assert pick([], sampling, 10, "kw", ["kw", "tw"], random.Random(5)) == []  # type: ignore[arg-type]
