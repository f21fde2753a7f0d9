from pathlib import Path

import pytest
from celery.canvas import _chord

from workers import graph
from workers.canvas import build_label_chord, build_predicting_workflow


def test_workflow_starts_with_the_planner() -> None:
    sig = build_predicting_workflow("a" * 32)
    assert sig.task == "predicting.plan"
    assert sig.args == ("a" * 32,)
    assert sig.immutable


def test_label_chord_has_one_header_task_per_chunk_and_finalize_as_body() -> None:
    sig = build_label_chord("b" * 32, [3, 4, 5])
    assert isinstance(sig, _chord)
    assert [t.task for t in sig.tasks] == ["predicting.label_chunk"] * 3
    assert [t.args for t in sig.tasks] == [("b" * 32, 3), ("b" * 32, 4), ("b" * 32, 5)]
    # the same message ids in every chord of the task, so a re-sent chunk completes a waiting chord
    again = build_label_chord("b" * 32, [3, 4, 5])
    assert [t.options["task_id"] for t in sig.tasks] == [t.options["task_id"] for t in again.tasks]
    assert len({t.options["task_id"] for t in sig.tasks}) == 3
    assert sig.body.task == "predicting.finalize"
    # finalize also runs when the chord fails, so the task always gets a final status
    assert [e["task"] for e in sig.body.options["link_error"]] == ["predicting.finalize"]


def test_no_chunks_goes_straight_to_finalize() -> None:
    sig = build_label_chord("c" * 32, [])
    assert sig.task == "predicting.finalize"


def test_the_committed_diagrams_are_what_the_canvas_code_builds() -> None:
    assert graph.stale() == [], "run make graph"


def test_a_change_of_the_canvas_shows_in_its_diagram(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for place in graph.PLACES:
        (tmp_path / place).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / place).write_text((graph.ROOT / place).read_text(encoding="utf-8"), encoding="utf-8")
    assert graph.stale(tmp_path) == []
    real = graph.build_label_chord
    monkeypatch.setattr(graph, "build_label_chord", lambda task_id, chunk_ids: real(task_id, [*chunk_ids, 4]))
    assert graph.stale(tmp_path) == ["graph/predicting.md", "README.md"]
    drawn = graph.predicting()
    assert "chord of 4 (N)" in drawn and "predicting.label_chunk(task_id, 4)" in drawn
    assert drawn.count("predicting.finalize(task_id)") == 2  # the body, and its errback
