"""RE2 exclusion patterns (utils.patterns): pure, no database."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from utils.demo import generate_posts
from utils.patterns import (
    MAX_PATTERN_CHARS,
    ExclusionSet,
    PatternError,
    PatternSetTooLarge,
    check_patterns,
    compile_pattern,
)
from utils.text import join_columns

# Generous: RE2 answers in milliseconds; a backtracking engine would not answer in hours.
HANG_GUARD_S = 60


def within_guard(call, *args):
    """The call's result, or a failure if it runs past HANG_GUARD_S (instead of hanging the suite)."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(call, *args).result(timeout=HANG_GUARD_S)
    finally:
        pool.shutdown(wait=False)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "does not compile with RE2"),  # back-reference
        (r"(?<=a)b", "does not compile with RE2"),  # look-behind
        (r"a(?=b)", "does not compile with RE2"),  # look-ahead
        ("(unclosed", "missing )"),
        ("a{1001}", "invalid repetition size"),
        ("", "empty pattern"),
        ("x" * (MAX_PATTERN_CHARS + 1), f"longer than {MAX_PATTERN_CHARS} characters"),
        ("a\ud800", "lone surrogate"),
    ],
)
def test_refused_patterns_say_why(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern, 3)
    assert caught.value.index == 3
    assert reason in caught.value.reason
    with pytest.raises(PatternError) as in_a_set:
        ExclusionSet(["ok", pattern])
    assert in_a_set.value.index == 1 and reason in in_a_set.value.reason


def test_check_patterns_names_the_first_refused_one() -> None:
    check_patterns(["广告", r"(?i)promo\s*code", "^$"])  # all fine: no exception
    with pytest.raises(PatternError) as caught:
        check_patterns(["a", "b", r"(a)\1", "(?<=x)y"])
    assert (caught.value.index, caught.value.pattern) == (2, r"(a)\1")


def test_a_set_too_large_to_compile_together_is_refused() -> None:
    # Each parses; compiled they exceed RE2's memory budget.
    with pytest.raises(PatternSetTooLarge, match="more than RE2's"):
        check_patterns([r"[\p{L}]{1000}"] * 3)


def test_catastrophic_backtracking_pattern_runs_in_linear_time_on_a_long_text() -> None:
    exclusion = ExclusionSet([r"(a+)+$"])
    near_miss = "a" * 99_999 + "b"  # what makes a backtracking engine explore 2^n paths
    assert within_guard(exclusion.first_match, near_miss) is None
    assert within_guard(exclusion.first_match, "a" * 100_000) == 0
    assert within_guard(exclusion.excluded, [near_miss, "b" + "a" * 100_000]) == [False, True]


def test_first_match_is_the_lowest_matching_index() -> None:
    exclusion = ExclusionSet(["股票", "(?i)promo", "股"])
    assert exclusion.first_match("买股票的PROMO") == 0
    assert exclusion.first_match("股市") == 2
    assert exclusion.first_match("Promo 来了") == 1
    assert exclusion.first_match("今天天气很好") is None
    assert exclusion.excluded(["股市", "天气", None]) == [True, False, False]


def test_empty_text_is_matched_like_any_text() -> None:
    exclusion = ExclusionSet([r"^\s*$"])
    assert exclusion.first_match("") == 0
    assert exclusion.first_match(" \n ") == 0
    assert exclusion.first_match("x") is None
    assert exclusion.first_match(None) is None  # no text at all is not a text to exclude


def test_an_empty_set_excludes_nothing() -> None:
    assert ExclusionSet([]).excluded(["", "anything"]) == [False, False]


def test_patterns_match_the_stored_text_not_a_normalised_one() -> None:
    exclusion = ExclusionSet(["nba"])
    assert exclusion.first_match("ｎｂａ") is None  # full-width letters are other characters
    assert exclusion.first_match("看nba") == 0
    assert ExclusionSet(["(?i)nba"]).first_match("NBA") == 0


# Patterns on which RE2 and Python's `re` agree (no \d, \w, \b or $ before a final newline).
AGREEING = [
    r"股市",
    r"^湖人",
    r"睡觉$",
    r"(哈哈哈)+(今天|周末)",
    r"[😂👍]{1}(新款|新电影)",
    r"^$",
    r"基金.{0,8}谨慎",
    r"(?i)ｈｅｌｌｏ",
]


def test_set_agrees_with_pythons_re_on_demo_posts() -> None:
    exclusion = ExclusionSet(AGREEING)
    compiled = [re.compile(p) for p in AGREEING]
    texts = [join_columns([row["title"], row["content"]]) for row in generate_posts(3_000)]
    expected = [next((i for i, c in enumerate(compiled) if c.search(t)), None) for t in texts]
    got = [exclusion.first_match(t) for t in texts]
    assert got == expected
    assert set(expected) == {None, *range(len(AGREEING))}  # every pattern is the first match of some text
