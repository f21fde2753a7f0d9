"""Split a task's id ranges into chunks: about `chunk_rows` rows each, and at least a minimum over the task."""

import heapq
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class IdRange:
    """A table's rows in range and the ids they lie between, both inclusive."""

    rows: int
    min_id: int
    max_id: int

    @property
    def most_chunks(self) -> int:
        """No chunk may be empty of ids, and none need be smaller than a row."""
        return max(0, min(self.rows, self.max_id - self.min_id + 1))


def chunk_counts(tables: Sequence[IdRange], chunk_rows: int, max_chunks: int, min_chunks: int = 1) -> list[int]:
    """Chunks per table: about `chunk_rows` rows each and at most `max_chunks`; then, while the task has
    fewer than `min_chunks`, one more for the table whose chunks are the largest, so every pool process
    gets a share of similar size. A table cannot be split into more chunks than it has ids or rows."""
    caps = [min(max_chunks, t.most_chunks) for t in tables]
    counts = [min(cap, math.ceil(t.rows / chunk_rows)) for t, cap in zip(tables, caps, strict=True)]
    short = min(min_chunks, sum(caps)) - sum(counts)
    # Largest rows per chunk first (heapq is a min-heap, hence the negation).
    heap = [(-t.rows / n, i) for i, (t, n, cap) in enumerate(zip(tables, counts, caps, strict=True)) if n < cap]
    heapq.heapify(heap)
    while short > 0 and heap:
        _, i = heapq.heappop(heap)
        counts[i] += 1
        short -= 1
        if counts[i] < caps[i]:
            heapq.heappush(heap, (-tables[i].rows / counts[i], i))
    return counts


def split_id_range(min_id: int, max_id: int, chunks: int) -> list[tuple[int, int]]:
    """`chunks` half-open (lo, hi] id ranges covering [min_id, max_id] exactly, as even in ids as can be
    (fewer when the span has fewer ids). Even in ids, not rows: sparse stretches give small chunks,
    which cost little."""
    span = max_id - min_id + 1
    n = min(chunks, span)
    if n <= 0:
        return []
    bounds = [min_id - 1 + span * k // n for k in range(n + 1)]
    return list(itertools.pairwise(bounds))
