"""Stratified train/dev/test assignment, reproducible from a seed."""

import random
from collections import defaultdict
from collections.abc import Sequence


def stratified_split(strata: Sequence[str], ratios: tuple[float, float, float], seed: int) -> list[str]:
    """A split name ("train", "dev", "test") for each item, given the stratum of each item.

    Each stratum (a label combination) is shuffled with `seed` and cut by `ratios`, so every split
    keeps the label mix of the whole; the same input and seed always give the same assignment.
    """
    train, dev, _test = ratios
    by_stratum: dict[str, list[int]] = defaultdict(list)
    for index, stratum in enumerate(strata):
        by_stratum[stratum].append(index)
    rng = random.Random(seed)
    result = ["train"] * len(strata)
    for stratum in sorted(by_stratum):
        members = by_stratum[stratum]
        rng.shuffle(members)
        n = len(members)
        n_train = round(n * train)
        n_dev = round(n * (train + dev)) - n_train
        for index in members[n_train : n_train + n_dev]:
            result[index] = "dev"
        for index in members[n_train + n_dev :]:
            result[index] = "test"
    return result


def parse_ratios(value: str) -> tuple[float, float, float]:
    """ "0.8,0.1,0.1" → (0.8, 0.1, 0.1); ValueError naming what is wrong."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 3:
        raise ValueError("give three ratios train,dev,test such as 0.8,0.1,0.1")
    try:
        numbers = tuple(float(p) for p in parts)
    except ValueError as exc:
        raise ValueError(f"{value!r} holds something that is not a number") from exc
    if any(n < 0 for n in numbers) or abs(sum(numbers) - 1.0) > 1e-6 or numbers[0] == 0:
        raise ValueError("ratios must be non-negative, sum to 1, and give train a share")
    return numbers[0], numbers[1], numbers[2]
