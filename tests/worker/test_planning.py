import itertools
import random

import pytest

from settings import Settings
from utils.planning import IdRange, chunk_counts, split_id_range
from workers import labeling
from workers.labeling import serving_processes


def assert_covers_exactly(ranges: list[tuple[int, int]], lo: int, hi: int) -> None:
    """Half-open (lo, hi] ranges, none empty, each starting where the last ended: every id once."""
    assert ranges[0][0] == lo - 1
    assert ranges[-1][1] == hi
    assert all(a < b for a, b in ranges)
    assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(ranges))


@pytest.mark.parametrize(
    ("lo", "hi", "chunks"),
    [(1, 10, 4), (1, 10, 3), (5, 5, 1), (1, 1_000_000, 7), (1, 100, 100), (-50, 50, 9), (1, 3, 3)],
)
def test_ranges_cover_every_id_once(lo: int, hi: int, chunks: int) -> None:
    ranges = split_id_range(lo, hi, chunks)
    assert len(ranges) == chunks
    assert_covers_exactly(ranges, lo, hi)


def test_ranges_are_even_in_ids() -> None:
    sizes = [b - a for a, b in split_id_range(1, 10, 4)]
    assert sorted(sizes) == [2, 2, 3, 3]


def test_a_span_with_fewer_ids_than_chunks_gives_one_chunk_per_id() -> None:
    assert split_id_range(7, 9, 5) == [(6, 7), (7, 8), (8, 9)]


def test_no_chunks_no_ranges() -> None:
    assert split_id_range(1, 10, 0) == []
    assert chunk_counts([], 100, 10, min_chunks=4) == []


def test_chunk_count_follows_rows() -> None:
    assert chunk_counts([IdRange(100_000, 1, 100_000)], 10_000, 1_000) == [10]
    assert chunk_counts([IdRange(5, 1, 100_000)], 10_000, 1_000) == [1]


def test_a_small_task_is_split_for_every_pool_process() -> None:
    assert chunk_counts([IdRange(35_000, 1, 35_000)], 100_000, 2_000, min_chunks=2) == [2]
    assert chunk_counts([IdRange(35_000, 1, 35_000)], 100_000, 2_000, min_chunks=16) == [16]


def test_the_minimum_does_not_lower_a_count_the_rows_ask_for() -> None:
    assert chunk_counts([IdRange(1_000_000, 1, 1_000_000)], 100_000, 2_000, min_chunks=2) == [10]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (IdRange(3, 1, 3), 3),  # three rows, three ids: a chunk each
        (IdRange(3, 1, 1_000), 3),  # three rows among many ids: no more chunks than rows
        (IdRange(10, 5, 6), 2),  # a view repeating ids: no more chunks than ids
        (IdRange(1, 42, 42), 1),
    ],
)
def test_a_table_gets_no_more_chunks_than_rows_or_ids(table: IdRange, expected: int) -> None:
    (count,) = chunk_counts([table], 100_000, 2_000, min_chunks=8)
    assert count == expected
    ranges = split_id_range(table.min_id, table.max_id, count)
    assert len(ranges) == expected
    assert_covers_exactly(ranges, table.min_id, table.max_id)


def test_max_chunks_per_table_bounds_the_minimum() -> None:
    assert chunk_counts([IdRange(50_000, 1, 50_000), IdRange(50_000, 1, 50_000)], 100_000, 3, min_chunks=10) == [3, 3]


def test_the_minimum_is_spread_over_tables_by_rows() -> None:
    tables = [IdRange(30_000, 1, 30_000), IdRange(10_000, 500, 20_000)]
    assert chunk_counts(tables, 100_000, 2_000, min_chunks=4) == [3, 1]
    # The large table takes the extra chunks until its chunks are no larger than the small table's rows.
    assert chunk_counts([IdRange(1_000, 1, 1_000), IdRange(3, 1, 3)], 100_000, 2_000, min_chunks=8) == [7, 1]


def test_a_table_split_to_its_rows_leaves_the_rest_of_the_minimum_to_the_others() -> None:
    tables = [IdRange(3, 1, 3), IdRange(5, 10, 14)]
    assert chunk_counts(tables, 100_000, 2_000, min_chunks=7) == [3, 4]
    assert chunk_counts(tables, 100_000, 2_000, min_chunks=8) == [3, 5]
    assert chunk_counts(tables, 100_000, 2_000, min_chunks=100) == [3, 5]


def test_random_tasks_are_covered_exactly_and_split_at_least_as_asked() -> None:
    rng = random.Random(11)
    for _ in range(500):
        tables = []
        for _ in range(rng.randint(1, 4)):
            lo = rng.randint(-1_000, 1_000_000)
            span = rng.choice([1, 2, 3, 17, 1_000, 250_000])
            tables.append(IdRange(rng.randint(1, span * 2), lo, lo + span - 1))
        chunk_rows, max_chunks, min_chunks = rng.choice([100, 5_000, 100_000]), rng.randint(1, 20), rng.randint(0, 40)
        counts = chunk_counts(tables, chunk_rows, max_chunks, min_chunks)
        for table, count in zip(tables, counts, strict=True):
            ranges = split_id_range(table.min_id, table.max_id, count)
            assert 1 <= len(ranges) == count <= min(max_chunks, table.rows, table.max_id - table.min_id + 1)
            assert_covers_exactly(ranges, table.min_id, table.max_id)
        reachable = sum(min(max_chunks, t.rows, t.max_id - t.min_id + 1) for t in tables)
        assert sum(counts) >= min(min_chunks, reachable)


def test_only_the_workers_consuming_the_queue_count() -> None:
    stats = {
        "predicting_1@a": {"pool": {"max-concurrency": 2}},
        "predicting_2@b": {"pool": {"max-concurrency": 4}},
        "modeling@a": {"pool": {"max-concurrency": 8}},
        "both@c": {"pool": {"max-concurrency": 3}},
    }
    queues = {
        "predicting_1@a": [{"name": "predicting"}],
        "predicting_2@b": [{"name": "predicting"}],
        "modeling@a": [{"name": "modeling"}],
        "both@c": [{"name": "modeling"}, {"name": "predicting"}],
        "late@d": [{"name": "predicting"}],  # answered the queues but not the stats: its size is unknown
    }
    assert serving_processes(stats, queues, "predicting") == 9
    assert serving_processes(stats, {}, "predicting") == 0


def test_a_census_that_fails_leaves_the_plan_this_workers_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(_: Settings) -> int:
        raise ConnectionError("broker refused the broadcast")

    monkeypatch.setattr(labeling, "_pool_size", None)
    monkeypatch.setattr(labeling, "_ask_pool_size", refused)
    assert labeling.predicting_pool_size(Settings(worker_concurrency=5)) == 5
    # Remembered for a while, so the next plan does not wait on the broadcast again.
    assert labeling.predicting_pool_size(Settings(worker_concurrency=7)) == 5
