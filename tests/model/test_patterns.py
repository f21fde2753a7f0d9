"""Exclusion patterns (utils.patterns): RE2's syntax, Hyperscan's matching; pure, no database."""

import random
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

import utils.patterns
from tests.model.hostile_patterns import BACKTRACKING, BANG, BANG_ESCAPED, HOSTILE_SETS
from utils.demo import generate_posts
from utils.patterns import (
    MAX_PATTERN_CHARS,
    MAX_REPEAT,
    ExclusionSet,
    PatternError,
    PatternSetTooLarge,
    check_patterns,
    compile_hyperscan,
    compile_pattern,
    for_hyperscan,
)
from utils.text import join_columns

pytestmark = pytest.mark.skipif(utils.patterns.ENGINE != "hyperscan", reason="Hyperscan is not installed")

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


def test_a_set_too_large_for_re2_is_refused_where_re2_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each parses; compiled they exceed RE2's memory budget.
    monkeypatch.setattr(utils.patterns, "ENGINE", "re2")
    with pytest.raises(PatternSetTooLarge, match="more than RE2's"):
        check_patterns([r"[\p{L}]{1000}"] * 3)


def test_without_hyperscan_the_probe_still_refuses_a_slow_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(utils.patterns, "ENGINE", "re2")
    with pytest.raises(PatternSetTooLarge, match="match too slowly"):
        check_patterns([f"{'ab'[i % 2]}[ab]{{{50 + i % 400}}}c" for i in range(400)])


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"[\p{L}]{1000}", "repeats 1,000 times; at most 100 in a counted repetition"),
        (r"(ab{20}){6}", "repeats 120 times (6 times a group repeated 20 times)"),
        (r"x{101,}", "repeats 101 times"),
        (r"a.{99}b", "is refused by Hyperscan (the bounded engine): Pattern is too large"),
        (r"(?U)a+", "is refused by Hyperscan (the bounded engine): Unrecognised character after (?"),
        (r"(?i:\p{Lu})", "\\p{Lu} under (?i) is not supported"),
        (r"\C", "is refused by Hyperscan (the bounded engine): \\C is unsupported in UTF8"),
    ],
)
def test_what_hyperscan_cannot_bound_is_refused_naming_the_pattern(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        check_patterns(["ok", "广告", pattern])
    assert (caught.value.index, caught.value.pattern) == (2, pattern)
    assert reason in caught.value.reason


def test_repetitions_up_to_the_bound_are_accepted() -> None:
    check_patterns([f"[0-9]{{{MAX_REPEAT}}}", r"(?i)广告\s*[0-9A-Za-z_-]{5,20}", r"(a{10}){10}", r"\x{100}{3}"])


@pytest.mark.parametrize("patterns", [BANG, BANG_ESCAPED], ids=["literal", "escaped"])
def test_the_issues_set_is_refused(patterns: list[str]) -> None:
    """Regression: admitted by the old probe, then matched a few hundred characters a
    second; now refused, fast, before compiling, for its longest counted repetition."""
    with pytest.raises(PatternError) as caught:
        check_patterns(patterns)
    assert caught.value.index == MAX_REPEAT  # the first over the bound: {101}
    assert "repeats 101 times; at most 100" in caught.value.reason


@pytest.mark.parametrize("name", sorted(HOSTILE_SETS))
def test_every_hostile_set_is_refused_or_agrees_with_re2(name: str) -> None:
    patterns = HOSTILE_SETS[name]
    try:
        check_patterns(patterns)
    except (PatternError, PatternSetTooLarge):
        return
    # Admitted: it matches what RE2 matches, on the texts that are its worst case.
    rng = random.Random(name)
    alphabet = "".join(sorted({ch for p in patterns for ch in p if ch.isalnum() or ch in "!?%一二三"})) or "ab"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 400))) for _ in range(50)]
    assert_same_as_re2(patterns, texts)


def test_a_set_that_compiles_too_long_is_refused_and_the_compiler_recovers(monkeypatch: pytest.MonkeyPatch) -> None:
    slow = [f"一[一二]{{{n}}}三" for n in range(1, 40)]  # about a second of compiling
    monkeypatch.setattr(utils.patterns, "COMPILE_SECONDS", 0.01)
    with pytest.raises(PatternSetTooLarge, match=r"the patterns take longer than 0\.01 s to compile"):
        check_patterns(slow)
    monkeypatch.undo()
    check_patterns(["after", "a kill"])  # a new compiler process answers
    assert ExclusionSet(["after", "a kill"]).first_match("once after a kill") == 0


def test_a_checked_set_is_loaded_not_compiled_again() -> None:
    patterns = [f"(?i)广告{i}\\s*[0-9A-Za-z_-]{{5,20}}" for i in range(300)]
    check_patterns(patterns)
    key = (tuple(patterns), True)
    assert key in utils.patterns._checked
    assert ExclusionSet(patterns).first_match("这是广告7 ab12345") == 7


@pytest.mark.parametrize("pattern", BACKTRACKING)
def test_backtracking_traps_are_admitted(pattern: str) -> None:
    check_patterns([pattern])


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


# --- Hyperscan matches what RE2 matches ----------------------------------------------------------


def assert_same_as_re2(patterns: list[str], texts: list[str], case_sensitive: bool = True) -> None:
    fast = ExclusionSet(patterns, case_sensitive, engine="hyperscan")
    reference = ExclusionSet(patterns, case_sensitive, engine="re2")
    for text in texts:
        assert fast.first_match(text) == reference.first_match(text), (patterns, text)
        assert fast.matches(text) == reference.matches(text), (patterns, text)


# Constructs whose meaning differs between the engines unless rewritten, and the README's examples.
SEMANTICS = [
    r"c$",
    r"(?m)c$",
    r"(?m:c$)|d$",
    r"^a",
    r"(?m)^a",
    r"a.b",
    r"(?s)a.b",
    r"\s",
    r"x\Sy",
    r"[\s\d]+z",
    r"[^\s]q",
    r"\bpromo\b",
    r"(?i)\bpromo code\b",
    r"\B中",
    r"\w+中",
    r"\d",
    r"[[:alpha:]]{2}",
    r"[[:^alpha:]]k",
    r"[\W\d]x",
    r"[^\w]",
    r"[[:upper:]][[:word:]]",
    r"[[:punct:][:space:]]",
    r"\p{Lu}\p{Ll}",
    r"(?i)k",
    r"(?i)s",
    r"(?i)é",
    r"(?i)σ",
    r"(?i)[a-zа-я]ж",
    r"\p{Han}{2}",
    r"\pL\pN",
    r"\p{Greek}",
    r"\x{4e2d}",
    r"\Q$x.\E$",
    r"[]a]b",
    r"a{,3}",
    r"^$",
    r"^\s*$",
    r"😂+",
    r"\x00",
    "\0z",
    r"加微信\s*[0-9A-Za-z_-]{5,20}",
    r"基金.{0,8}谨慎",
]
ALPHABET = (
    "abcdekqsxyzAKSZ中国基金谨慎加微信广告σΣςéÉжЖKſ"
    + "0123456789３٣_-.$!?，。！：“”（）%"
    + " \t\n\v\f\r\u3000\x00"
    + "😂👍🇨🇳"
)


def random_texts(rng: random.Random, count: int, alphabet: str = ALPHABET) -> list[str]:
    texts = ["", "\n", "c\n", "abc\n", "a\nb", "x\ny"]
    for _ in range(count):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        if rng.random() < 0.2:
            text += "\n"
        texts.append(text)
    return texts


@pytest.mark.parametrize("case_sensitive", [True, False])
def test_semantics_agree_with_re2_on_random_texts(case_sensitive: bool) -> None:
    rng = random.Random(17)
    texts = [
        *random_texts(rng, 3_000),
        "促销promo code 到了",
        "PROMO CODE",
        "加微信 abc12345 领红包",
        "基金一二三四谨慎",
        "$x.",
        "$x.\n",
        "]b",
        "a{,3}",
    ]
    # Case classes are refused under (?i) (test_what_hyperscan_cannot_bound_is_refused_naming_the_pattern).
    semantics = [p for p in SEMANTICS if case_sensitive or r"\p{L" not in p]
    for pattern in semantics:  # alone: each pattern is then the first match whenever it matches
        assert_same_as_re2([pattern], texts, case_sensitive)
    assert_same_as_re2(semantics, texts, case_sensitive)


def random_pattern(rng: random.Random) -> str:
    atoms = [
        "a", "b", "中", "国", "😂", r"\d", r"\w", r"\s", r"\S", r"\W", ".", "[ab]", "[^a]", r"[\s中]",
        r"\p{Han}", "[[:alpha:]]", r"\x{4e2d}", r"\b", r"\B", "^", "$", "k", "ſ", "σ", "\n", r"\n",
    ]  # fmt: skip
    parts = []
    for _ in range(rng.randrange(1, 6)):
        atom = rng.choice(atoms)
        if rng.random() < 0.2:
            atom = f"(?:{atom}|{rng.choice(atoms)})"
        atom += rng.choice(["", "", "*", "+", "?", "{1,3}", "{2}"])
        parts.append(atom)
    flags = rng.choice(["", "", "(?i)", "(?m)", "(?s)", "(?im)"])
    return flags + "".join(parts)


def accepted(pattern: str) -> bool:
    try:
        compile_hyperscan([pattern], seconds=None)
    except (PatternError, PatternSetTooLarge):  # an anchor repeated (^*), or inside (a\zb), say
        return False
    return True


def test_random_patterns_agree_with_re2() -> None:
    rng = random.Random(6)
    texts = random_texts(rng, 400)
    for _ in range(40):
        patterns = [p for p in dict.fromkeys(random_pattern(rng) for _ in range(12)) if accepted(p)]
        assert_same_as_re2(patterns, texts)


def test_the_rewrite_keeps_what_needs_no_change() -> None:
    assert for_hyperscan(r"(?i)\bpromo code\b") == r"(?i)\bpromo code\b"
    assert for_hyperscan(r"\p{Han}{3}\x{100}{2}") == r"\p{Han}{3}\x{100}{2}"
    assert for_hyperscan(r"^\s*$") == r"^[\x{9}-\x{a}\x{c}-\x{d}\x{20}]*\z"
    assert for_hyperscan(r"[^\W\d]") == r"[^\x{0}-\x{2f}\x{3a}-\x{40}\x{5b}-\x{5e}\x{60}\x{7b}-\x{10ffff}\x{30}-\x{39}]"


def test_first_match_from_many_threads_at_once() -> None:
    patterns = [f"关键词{i}号" for i in range(200)] + [r"(?i)\bpromo code \d+\b"]
    exclusion = ExclusionSet(patterns)
    texts = [f"今天的关键词{i % 250}号 promo code {i}" for i in range(2_000)]
    expected = [exclusion.first_match(text) for text in texts]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(exclusion.first_match, texts)) == expected
    assert expected[7] == 7 and expected[230] == 200
