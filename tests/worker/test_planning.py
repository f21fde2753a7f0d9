import itertools

import pytest

from utils.planning import split_id_range


@pytest.mark.parametrize(
    ("lo", "hi", "rows", "chunk_rows", "max_chunks"),
    [
        (1, 10, 10, 3, 100),
        (5, 5, 1, 10, 10),
        (1, 1_000_000, 20_000, 100_000, 10),
        (1, 100, 100, 1, 7),
        (-50, 50, 80, 9, 100),
    ],
)
def test_ranges_cover_every_id_once(lo: int, hi: int, rows: int, chunk_rows: int, max_chunks: int) -> None:
    ranges = split_id_range(lo, hi, rows, chunk_rows, max_chunks)
    assert ranges[0][0] == lo - 1
    assert ranges[-1][1] == hi
    assert all(a < b for a, b in ranges)
    assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(ranges))
    assert len(ranges) <= max_chunks


def test_chunk_count_follows_rows() -> None:
    assert len(split_id_range(1, 100_000, 100_000, 10_000, 1_000)) == 10
    assert len(split_id_range(1, 100_000, 5, 10_000, 1_000)) == 1


def test_no_rows_no_chunks() -> None:
    assert split_id_range(1, 10, 0, 5, 5) == []
