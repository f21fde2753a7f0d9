"""Split a table's id range into chunks of roughly equal row counts."""

import math


def split_id_range(min_id: int, max_id: int, rows: int, chunk_rows: int, max_chunks: int) -> list[tuple[int, int]]:
    """Half-open (lo, hi] id ranges covering [min_id, max_id], about `chunk_rows` rows each.

    Ranges are even in ids, not rows: sparse stretches give small chunks, which cost little.
    """
    if rows <= 0 or max_id < min_id:
        return []
    span = max_id - min_id + 1
    n = max(1, min(max_chunks, math.ceil(rows / chunk_rows), span))
    step = math.ceil(span / n)
    bounds = []
    lo = min_id - 1
    while lo < max_id:
        hi = min(lo + step, max_id)
        bounds.append((lo, hi))
        lo = hi
    return bounds
