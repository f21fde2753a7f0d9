"""workers.exclusion_cache: a task's set is checked as the API checks it before a worker uses it."""

import pytest

import utils.patterns
from utils.patterns import PatternError, PatternSetTooLarge
from workers.exclusion_cache import get_exclusion_set

pytestmark = pytest.mark.skipif(utils.patterns.ENGINE != "hyperscan", reason="Hyperscan is not installed")


def test_a_set_stored_before_the_bounds_is_refused_not_compiled() -> None:
    with pytest.raises(PatternError, match="repeats 400 times"):
        get_exclusion_set(["ok", "![!?]{400}%"])


def test_a_set_that_compiles_too_long_is_refused_in_a_worker_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(utils.patterns, "COMPILE_SECONDS", 0.01)
    with pytest.raises(PatternSetTooLarge, match="longer than"):
        get_exclusion_set([f"一[一二]{{{n}}}三" for n in range(1, 40)])
    monkeypatch.undo()
    assert get_exclusion_set(["^x", "y"]).first_match("xy") == 0
