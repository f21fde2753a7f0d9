"""Searching a text as it is finds exactly the words that occur in its normalized form."""

import platform
import random
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import literals
from models.literals import LiteralMatcher, keep_compiled_in
from tests.benchmarks.corpus import keywords, posts
from utils.text import join_columns, normalize, unsafe_characters, utf8_of

POINTS = [p for p in range(sys.maxunicode + 1) if not 0xD800 <= p <= 0xDFFF]
WORDS = ["足球", "股票", "nba", "5g", "가", "ガ", "é", "c++", "ss", "。", "中国队"]
# Hyperscan's wheels are for x86-64: there it must be installed (and is the default), elsewhere the
# Aho-Corasick search stands in.
ENGINES = ["aho-corasick", *(["hyperscan"] if platform.machine() in ("x86_64", "AMD64") else [])]


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
@pytest.mark.parametrize("engine", ENGINES)
def test_tricky_texts(engine: str, text: str) -> None:
    assert LiteralMatcher(WORDS, engine).found(text) == oracle(WORDS, text)


def test_the_default_engine_is_hyperscan_where_it_is_installed() -> None:
    assert LiteralMatcher(WORDS).engine == ENGINES[-1]
    assert LiteralMatcher(["a\0b"]).engine == "aho-corasick"  # its binding would cut the word at NUL
    assert LiteralMatcher(["a\0b"]).found_in(["a", "xa\0by"]) == [set(), {0}]


def bench_case(engine: str, rows: int, seed: int) -> tuple[list[str], LiteralMatcher, list[str]]:
    """The bench's 1,000 keywords, their matcher and `rows` generated posts."""
    words = sorted({normalize(word) for _label, word in keywords(1_000)})
    return words, LiteralMatcher(words, engine), [join_columns(row[1:3]) for row in posts(rows, seed=seed)]


@pytest.mark.parametrize("engine", ENGINES)
def test_generated_posts_and_bench_keywords(engine: str) -> None:
    words, matcher, texts = bench_case(engine, 3_000, seed=3)
    found = matcher.found_in(texts)
    assert sum(map(bool, found)) > 1_000  # the check below is not vacuous
    assert found == [oracle(words, text) for text in texts]
    assert [matcher.found(text) for text in texts[:300]] == found[:300]
    assert matcher.found_in([utf8_of(text) for text in texts]) == found  # as read_batch_utf8 gives them


@pytest.mark.parametrize("engine", ENGINES)
def test_random_mixtures_of_every_kind_of_character(engine: str) -> None:
    matcher = LiteralMatcher(WORDS, engine)
    rng = random.Random(2)
    pieces = [*WORDS, "ＮＢＡ", "Ｇ", "ｶ", "ﾞ", "\u1100", "\u1161", "\u0301", "\u200b", "S", "\udc80", "\uffff"]
    texts = [
        "".join(rng.choice(pieces) if rng.random() < 0.4 else chr(rng.choice(POINTS)) for _ in range(rng.randint(0, 8)))
        for _ in range(20_000)
    ]
    # One search over all of them: a word split across two neighbouring texts is found in neither.
    for text, found in zip(texts, matcher.found_in(texts), strict=True):
        assert found == oracle(WORDS, text), repr(text)
    # The same in UTF-8 (lone surrogates as their three bytes), normalized whole or text by text.
    encoded = [utf8_of(text) for text in texts]
    for part in range(0, len(texts), 1_000):
        assert matcher.found_in(encoded[part : part + 1_000]) == [oracle(WORDS, t) for t in texts[part : part + 1_000]]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_batch_keeps_its_texts_apart(engine: str) -> None:
    words = [*WORDS, "a\nb", "x y"]  # whatever byte a separator would be, a word may hold it
    matcher = LiteralMatcher(words, engine)
    texts = ["足", "球", "", "足球", "c+", "+", "中国", "队。", "股票足球", "N", "BA", "a", "b", "x", "y", "a\nb"]
    assert matcher.found_in(texts) == [oracle(words, text) for text in texts]
    assert matcher.found_in([]) == []
    assert matcher.found_in_normalized(["足球", "nb", "a"]) == [{0}, set(), set()]


@pytest.mark.parametrize("engine", ENGINES)
def test_threads_search_at_once(engine: str) -> None:
    """Hyperscan needs scratch space per concurrent scan (the threads pool runs chunks side by side)."""
    _words, matcher, texts = bench_case(engine, 400, seed=4)
    expected = matcher.found_in(texts)
    results: list[bool] = []

    def search() -> None:
        results.extend(matcher.found_in(texts) == expected for _ in range(20))

    threads = [threading.Thread(target=search) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 80


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


@pytest.mark.parametrize("engine", ENGINES)
def test_a_matcher_of_normalized_texts_only_compiles_the_words_alone(engine: str) -> None:
    matcher = LiteralMatcher(WORDS, engine, raw_texts=False)
    assert "_guarded" not in vars(matcher)  # the guards (thousands of characters) are not compiled
    nba, team = WORDS.index("nba"), WORDS.index("中国队")
    assert matcher.found_in_normalized(["中国队和nba", "ｎｂａ"]) == [{team, nba}, set()]
    assert matcher.found_in(["ＮＢＡ"]) == [{nba}]  # still right if asked: compiled then


@pytest.mark.parametrize("engine", ENGINES)
def test_batches_that_mostly_need_normalizing_are_normalized_whole(engine: str) -> None:
    """Words with Latin letters make full-width text unsafe: after such a batch the matcher normalizes
    every text at once (and looks for unsafe characters again now and then), with the same result."""
    matcher = LiteralMatcher(WORDS, engine)
    rng = random.Random(5)
    pieces = ["ＮＢＡ", "看", "，", "足球", "Ｃ＋＋", "ss", "ß", "！", "5G", "。", "e\u0301"]
    for batch in range(40):
        share = 0.9 if batch < 20 else 0.1  # mostly unsafe texts, then mostly plain ones
        texts = [
            "".join(rng.choice(pieces) for _ in range(6)) if rng.random() < share else "足球股票" for _ in range(50)
        ]
        given = [utf8_of(text) for text in texts] if batch % 3 else texts
        assert matcher.found_in(given) == [oracle(WORDS, text) for text in texts]
        if batch == 10:
            assert matcher._normalize_all
    assert not matcher._normalize_all  # a look at plain texts went back to searching them as they are


@pytest.fixture
def compiled_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "compiled"
    keep_compiled_in(directory)
    yield directory
    keep_compiled_in(None)


@pytest.mark.skipif(literals.hyperscan is None, reason="Hyperscan has no wheel for this platform")
def test_a_compiled_database_is_stored_once_and_loaded_by_the_next_matcher(
    compiled_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["看ＮＢＡ直播", "足球股票", "e\u0301", "中国队。"]
    expected = [oracle(WORDS, text) for text in texts]
    assert LiteralMatcher(WORDS, "hyperscan").found_in(texts) == expected
    stored = sorted(compiled_dir.iterdir())
    # The words with their guards, and the words alone (for the texts with an unsafe character); no
    # part file left behind.
    assert len(stored) == 2 and {path.suffix for path in stored} == {".hsdb"}

    compiles: list[int] = []
    real = literals.hyperscan.Database

    def counted(**kwargs: object) -> object:
        compiles.append(1)
        return real(**kwargs)

    monkeypatch.setattr(literals.hyperscan, "Database", counted)
    assert LiteralMatcher(WORDS, "hyperscan").found_in(texts) == expected
    assert compiles == []  # loaded, not compiled
    assert LiteralMatcher([*WORDS, "新词"], "hyperscan").found_in(["新词"]) == [{len(WORDS)}]
    assert compiles == [1] and len(list(compiled_dir.iterdir())) == 3  # other words, another database


@pytest.mark.skipif(literals.hyperscan is None, reason="Hyperscan has no wheel for this platform")
@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_a_damaged_stored_database_is_compiled_again(compiled_dir: Path, damage: str) -> None:
    LiteralMatcher(WORDS, "hyperscan")  # the words with their guards
    (path,) = compiled_dir.iterdir()
    whole = path.read_bytes()
    stored = bytearray(whole)
    if damage == "flip":
        stored[-5] ^= 0xFF  # a byte Hyperscan's own check lets through
    elif damage == "truncate":
        del stored[len(stored) // 2 :]
    else:
        stored.clear()
    path.write_bytes(bytes(stored))
    texts = ["看ＮＢＡ直播", "足球股票"]
    assert LiteralMatcher(WORDS, "hyperscan").found_in(texts) == [oracle(WORDS, text) for text in texts]
    assert path.read_bytes() == whole  # not used as it was: compiled and stored again


@pytest.mark.skipif(literals.hyperscan is None, reason="Hyperscan has no wheel for this platform")
def test_a_directory_that_cannot_be_written_only_costs_the_cache(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    keep_compiled_in(blocked / "compiled")
    try:
        assert LiteralMatcher(WORDS, "hyperscan").found(WORDS[0]) == {0}
    finally:
        keep_compiled_in(None)
    assert blocked.read_text() == "not a directory"
