"""Searching a text as it is finds exactly the words that occur in its normalized form."""

import random
import sys

import pytest

from models.literals import LiteralMatcher
from tests.benchmarks.corpus import keywords, posts
from utils.text import join_columns, normalize, unsafe_characters

POINTS = [p for p in range(sys.maxunicode + 1) if not 0xD800 <= p <= 0xDFFF]
WORDS = ["足球", "股票", "nba", "5g", "가", "ガ", "é", "c++", "ss", "。", "中国队"]


def oracle(words: list[str], text: str) -> set[int]:
    folded = normalize(text)
    return {i for i, word in enumerate(words) if word in folded}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "看ＮＢＡ直播，５Ｇ手机！！",  # full-width letters and punctuation
        "N\u200bBA 足\u200d球",  # zero-width characters inside words
        # Composed only by normalizing: 가, ガ, é.
        "\u1100\u1161",
        "ｶﾞ",
        "e\u0301",
        "STRASSE ẞ Straße",  # capitals, and a capital that folds into two letters
        "Ｃ＋＋ 和 c++",
        "中国队。中国队｡",  # a full-width and a half-width ideographic full stop
        "足球👨\u200d👩\u200d👧股票 🇨🇳",
        "\ud800足球\udfff",  # lone surrogates, as a JSON upload may hold
    ],
)
def test_tricky_texts(text: str) -> None:
    assert LiteralMatcher(WORDS).found(text) == oracle(WORDS, text)


def test_generated_posts_and_bench_keywords() -> None:
    words = sorted({normalize(word) for _label, word in keywords(1_000)})
    matcher = LiteralMatcher(words)
    texts = [join_columns(row[1:3]) for row in posts(3_000, seed=3)]
    assert sum(bool(matcher.found(text)) for text in texts) > 1_000  # the check below is not vacuous
    for text in texts:
        assert matcher.found(text) == oracle(words, text)


def test_random_mixtures_of_every_kind_of_character() -> None:
    matcher = LiteralMatcher(WORDS)
    rng = random.Random(2)
    pieces = [*WORDS, "ＮＢＡ", "Ｇ", "ｶ", "ﾞ", "\u1100", "\u1161", "\u0301", "\u200b", "S"]
    for _ in range(20_000):
        text = "".join(
            rng.choice(pieces) if rng.random() < 0.4 else chr(rng.choice(POINTS)) for _ in range(rng.randint(1, 8))
        )
        assert matcher.found(text) == oracle(WORDS, text), repr(text)


@pytest.mark.parametrize("alphabet", [set("足球股票中国队"), set("".join(WORDS))])
def test_safe_characters_normalize_alone_and_outside_the_alphabet(alphabet: set[str]) -> None:
    """What the shortcut rests on: a character left out of `unsafe_characters` normalizes to itself, or
    to ASCII outside the alphabet, and a text of such characters normalizes character by character."""
    unsafe = set(unsafe_characters(alphabet))
    safe = [chr(p) for p in POINTS if chr(p) not in unsafe]
    for ch in safe:
        folded = normalize(ch)
        assert folded == ch or (folded.isascii() and folded and ch not in alphabet and alphabet.isdisjoint(folded))
    rng = random.Random(3)
    changed = [ch for ch in safe if normalize(ch) != ch]
    assert len(changed) > 100  # full-width forms at least
    for _ in range(5_000):
        text = "".join(rng.choice(changed if rng.random() < 0.3 else safe) for _ in range(rng.randint(1, 16)))
        assert normalize(text) == "".join(map(normalize, text)), repr(text)
