"""Exclusion sets compiled once per process, keyed on their patterns (a task's snapshot of a set)."""

from collections.abc import Sequence
from functools import lru_cache

from utils.patterns import ExclusionSet

# A set may compile to tens of MiB; keep only the few a process is working with.
CACHED_SETS = 8


@lru_cache(maxsize=CACHED_SETS)
def _compiled(patterns: tuple[str, ...]) -> ExclusionSet:
    return ExclusionSet(patterns)


def get_exclusion_set(patterns: Sequence[str]) -> ExclusionSet:
    return _compiled(tuple(patterns))
