"""Stratified train/dev/test assignment, reproducible from a seed."""

import math
import random
from collections import defaultdict
from collections.abc import Sequence


def _allocate(sizes: list[int], share: float, room: list[int]) -> list[int]:
    """Per-stratum counts for one split: `share` of each stratum, rounded by largest remainder so
    the total is `share` of everything, never more than a stratum's `room` left."""
    ideal = [size * share for size in sizes]
    counts = [min(math.floor(x), r) for x, r in zip(ideal, room, strict=True)]
    missing = math.floor(sum(sizes) * share + 0.5) - sum(counts)
    # Largest remainder first; among equals the larger stratum, then the earlier one.
    order = sorted(range(len(sizes)), key=lambda i: (-(ideal[i] - math.floor(ideal[i])), -sizes[i], i))
    for i in order:
        if missing <= 0:
            break
        if counts[i] < room[i]:
            counts[i] += 1
            missing -= 1
    return counts


def stratified_split(strata: Sequence[str], ratios: tuple[float, float, float], seed: int) -> list[str]:
    """A split name ("train", "dev", "test") for each item, given the stratum of each item.

    Each stratum (a label combination) is shuffled with `seed` and shared out by `ratios`, so the
    splits keep the label mix of the whole and their sizes add up to the ratios of the total; the
    same input and seed always give the same assignment.
    """
    by_stratum: dict[str, list[int]] = defaultdict(list)
    for index, stratum in enumerate(strata):
        by_stratum[stratum].append(index)
    rng = random.Random(seed)
    groups = [by_stratum[key] for key in sorted(by_stratum)]
    for members in groups:
        rng.shuffle(members)
    sizes = [len(members) for members in groups]
    dev = _allocate(sizes, ratios[1], sizes)
    test = _allocate(sizes, ratios[2], [size - d for size, d in zip(sizes, dev, strict=True)])
    result = ["train"] * len(strata)
    for members, n_dev, n_test in zip(groups, dev, test, strict=True):
        for index in members[:n_dev]:
            result[index] = "dev"
        for index in members[n_dev : n_dev + n_test]:
            result[index] = "test"
    return result


def parse_ratios(value: str) -> tuple[float, float, float]:
    """ "0.8,0.1,0.1" → (0.8, 0.1, 0.1); ValueError naming what is wrong."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 3:
        raise ValueError("give three ratios train,dev,test such as 0.8,0.1,0.1")
    try:
        numbers = tuple(float(p) for p in parts)
    except ValueError:
        raise ValueError("the ratios must be numbers") from None
    if not all(math.isfinite(n) and n >= 0 for n in numbers) or abs(sum(numbers) - 1.0) > 1e-6 or numbers[0] == 0:
        raise ValueError("ratios must be non-negative, sum to 1, and give train a share")
    return numbers[0], numbers[1], numbers[2]


def dev_from_train(strata: Sequence[str], splits: Sequence[str], share: float, seed: int) -> list[str]:
    """`splits` with a stratified, seeded `share` of the train items moved to dev; dev and test items
    stay where they are, so a test split a file gives is kept exactly.

    The train items are shared out as stratified_split does (by stratum, largest remainder), so dev
    takes round(share × train items) of them with the label mix of train.
    """
    if not 0 < share < 1:
        raise ValueError("the share of train to move to dev must be between 0 and 1")
    train = [index for index, split in enumerate(splits) if split == "train"]
    moved = stratified_split([strata[index] for index in train], (1 - share, share, 0.0), seed)
    result = list(splits)
    for index, split in zip(train, moved, strict=True):
        if split == "dev":
            result[index] = "dev"
    return result
