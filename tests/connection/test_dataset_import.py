"""The choices of an upload beside its file, and the policies for conflicting copies: pure code, no database."""

import pytest

from utils.dataset_files import Conflict, Rejection
from utils.dataset_import import AcceptedRows, FieldError, ImportPlan, plan_import, settle_conflict


def test_plan_defaults_and_the_ratios_dev_from_train_implies() -> None:
    assert plan_import() == ImportPlan(ratios=(0.8, 0.1, 0.1))
    assert plan_import(dev_from_train=0.2).ratios == (0.9, 0.0, 0.1)
    assert plan_import(split_ratios="0.7,0,0.3", dev_from_train=0.2).ratios == (0.7, 0.0, 0.3)
    with_column = plan_import(split_field="split", dev_from_train=0.2, seed=7)
    assert (with_column.dev_from_train, with_column.seed) == (0.2, 7)
    assert plan_import(on_conflict="merge", multi_label=True).on_conflict == "merge"


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"split_field": "split", "split_ratios": "0.8,0.1,0.1"}, "split_ratios: the column 'split' (split_field)"),
        ({"split_ratios": "0.5,0.5"}, "split_ratios: give three ratios"),
        ({"dev_from_train": 0.1, "split_ratios": "0.8,0.1,0.1"}, "dev_from_train: split_ratios gives dev a share"),
        ({"dev_from_train": 1.0}, "dev_from_train: the share of train to move to dev, between 0 and 1"),
        ({"dev_from_train": float("nan")}, "dev_from_train: the share"),
        ({"on_conflict": "keep"}, "on_conflict: 'keep' is not one of first, reject, merge"),
        ({"on_conflict": "merge", "multi_label": False}, "on_conflict: merge gives a text the labels of all"),
    ],
)
def test_choices_that_make_no_sense_together_name_their_field(choices: dict, message: str) -> None:
    with pytest.raises(FieldError) as raised:
        plan_import(**choices)
    assert str(raised.value).startswith(message), str(raised.value)
    assert raised.value.field == message.split(":")[0]


def accepted_rows() -> AcceptedRows:
    rows = AcceptedRows()
    rows.add(1, ("体育",), None)
    rows.add(2, ("财经",), "test")
    rows.add(5, ("体育",), "dev")
    return rows


def test_first_keeps_the_first_copy_and_rejects_the_later_one() -> None:
    rows = accepted_rows()
    report, rejected = settle_conflict(Conflict(7, 2, ("美食",), ("财经",), True), "first", rows)
    assert report.action == "kept_first" and (report.line, report.first_line) == (7, 2)
    assert rejected == [
        Rejection(7, "conflict", "conflicts with line 2 (['财经'] there, ['美食'] here): the first copy kept")
    ]
    assert list(rows) == list(accepted_rows())


def test_reject_withdraws_the_first_copy_once_and_rejects_every_disagreeing_copy() -> None:
    rows = accepted_rows()
    report, rejected = settle_conflict(Conflict(7, 2, ("美食",), ("财经",), True), "reject", rows)
    assert report.action == "rejected_all"
    assert [(r.line, r.kind) for r in rejected] == [(7, "conflict"), (2, "conflict")]
    assert rejected[1].reason == "conflicts with line 7 (['美食'] there, ['财经'] here): no copy stored"
    _, again = settle_conflict(Conflict(9, 2, ("体育",), ("财经",), False), "reject", rows)
    assert [(r.line, r.kind) for r in again] == [(9, "conflict")]
    assert list(rows) == [(1, ("体育",), None), (5, ("体育",), "dev")]
    assert len(rows) == 2 and rows.withdrawn_lines() == [2] and rows.strata() == ["体育", "体育"]


def test_merge_adds_the_later_copys_labels_in_first_seen_order() -> None:
    rows = accepted_rows()
    report, rejected = settle_conflict(Conflict(8, 5, ("美食", "体育"), ("体育",), True), "merge", rows)
    assert report.action == "merged" and rejected == []
    settle_conflict(Conflict(9, 5, ("财经", "美食"), ("体育",), False), "merge", rows)
    settle_conflict(Conflict(10, 1, ("财经",), ("体育",), True), "merge", rows)
    assert list(rows) == [(1, ("体育", "财经"), None), (2, ("财经",), "test"), (5, ("体育", "美食", "财经"), "dev")]
    assert rows.relabelled_lines() == {("体育", "财经"): [1], ("体育", "美食", "财经"): [5]}
    assert rows.strata() == ["体育\x1f财经", "财经", "体育\x1f美食\x1f财经"]  # sorted within a combination


def test_merge_past_the_label_limit_keeps_the_first_copy() -> None:
    rows = AcceptedRows()
    many = tuple(f"l{i}" for i in range(60))
    rows.add(1, many, None)
    others = tuple(f"m{i}" for i in range(60))
    report, rejected = settle_conflict(Conflict(2, 1, others, many, True), "merge", rows)
    assert report.action == "kept_first" and rejected[0].kind == "conflict"
    assert "merged it would have 120 labels (the limit is 100)" in rejected[0].reason
    assert list(rows) == [(1, many, None)] and not rows.relabelled


def test_a_line_that_is_not_stored_is_not_found() -> None:
    with pytest.raises(KeyError):
        accepted_rows().index_of(3)
    assert accepted_rows().index_of(5) == 2
