"""Exclusion sets compiled once per process, keyed on their patterns (a task's snapshot of a set).

A set is checked as the API checks it (utils.patterns.check_patterns: compiled in a child process
within COMPILE_SECONDS) and then loaded from that compilation: a set stored before the bounds of
today, or by hand, is refused (PatternError, PatternSetTooLarge) instead of holding a worker.
"""

from collections.abc import Sequence
from functools import lru_cache

from utils.patterns import ExclusionSet, check_patterns

# A set may compile to tens of MiB; keep only the few a process is working with.
CACHED_SETS = 8


@lru_cache(maxsize=CACHED_SETS)
def _compiled(patterns: tuple[str, ...]) -> ExclusionSet:
    check_patterns(patterns)
    return ExclusionSet(patterns)


def get_exclusion_set(patterns: Sequence[str]) -> ExclusionSet:
    return _compiled(tuple(patterns))
