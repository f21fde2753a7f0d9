"""Which of a set of words occur in each of many texts, as the keyword and rule models match them.

Words are matched on `normalize(text)`. Normalizing costs more than the search itself on Chinese posts,
and it rarely matters: most posts only hold characters it keeps, or changes into ASCII the words do not
use (full-width punctuation). So the search runs on the text as it is, with one pattern set that also
looks for the characters that could matter (`unsafe_characters`); only a text holding one of them is
normalized and searched again. Either way the result is that of searching `normalize(text)`.

The search runs on UTF-8 bytes. A word matches the same in bytes as in characters: UTF-8 can only match a
whole character at a character boundary. ("surrogatepass" lets a lone surrogate from a JSON upload
through, as three bytes of its own.) Where Hyperscan is installed (x86-64), a whole batch is searched
in one call: the texts are joined by the byte 0xFF, which UTF-8 never holds, so no match can span two
texts, and each match is given to its text by its end offset. Hyperscan's literal matcher (SIMD) scans
bench posts about 2.5 times as fast as the Aho-Corasick DFA of ahocorasick-rs, which is used elsewhere.

Compiling the guards takes Hyperscan about half a second (17,000 characters for 1,000 Chinese words),
in every process that labels with the model. With `keep_compiled_in(directory)`, as the API and the
worker do, a database is compiled once per host and version: the next process loads it in a millisecond.
"""

import contextlib
import hashlib
import os
import tempfile
import threading
from bisect import bisect_left
from collections.abc import Sequence, Set
from functools import cached_property
from itertools import accumulate
from pathlib import Path

from ahocorasick_rs import BytesAhoCorasick, Implementation

from utils.text import normalize, text_of, unsafe_characters, utf8_of

try:
    import hyperscan
except ImportError:  # no wheel for this platform: the Aho-Corasick search gives the same result
    hyperscan = None  # type: ignore[assignment]

SEPARATOR = b"\xff"


class HyperscanRefused(ValueError):
    """Hyperscan cannot compile these words; Aho-Corasick can."""


NOTHING: Set[int] = frozenset()
# While most texts need normalizing anyway, one search in this many still looks for the unsafe characters.
REPROBE_EVERY = 16

_compiled_dir: Path | None = None


def keep_compiled_in(directory: Path | None) -> None:
    """Keep the compiled Hyperscan databases of this process in `directory` and look there before
    compiling one (None: compile each in memory only)."""
    global _compiled_dir
    _compiled_dir = directory


class LiteralMatcher:
    def __init__(self, words: Sequence[str], engine: str | None = None, raw_texts: bool = True) -> None:
        """`words`: distinct, non-empty and already normalized. `engine`: "hyperscan" or "aho-corasick",
        by default Hyperscan where it is installed and can hold the words (it refuses a NUL byte and
        words of thousands of bytes), else Aho-Corasick. `raw_texts`: whether texts not normalized
        yet will be searched (`found_in`), or only normalized ones (`found_in_normalized`)."""
        unsafe = set(unsafe_characters(set("".join(words))))
        guards = sorted(unsafe.difference(words))
        self._patterns = [utf8_of(text) for text in [*words, *guards]]
        self._size = len(words)
        # The numbers whose match sends a text to be normalized: the guards, and any word that is itself
        # one unsafe character (reported under the word's own number).
        self._triggers = frozenset(i for i, text in enumerate([*words, *guards]) if text in unsafe)
        self.engine = engine or ("hyperscan" if hyperscan is not None else "aho-corasick")
        self._normalize_all = False
        self._searches = 0
        # Compiled now, so that a model that cannot be built fails where it is made.
        compile_now = (lambda: self._guarded) if raw_texts else (lambda: self._words)
        try:
            compile_now()
        except HyperscanRefused:
            if engine:
                raise
            self.engine = "aho-corasick"
            compile_now()

    @cached_property
    def _guarded(self) -> "AhoCorasickSet | HyperscanSet":
        """The words and the guards: a raw text's search. (Each set is compiled when first needed: the
        words alone serve texts with an unsafe character, and rule models with regexes.)"""
        if len(self._patterns) == self._size:
            return self._words
        return self._make(self._patterns)

    @cached_property
    def _words(self) -> "AhoCorasickSet | HyperscanSet":
        return self._make(self._patterns[: self._size])

    def _make(self, patterns: Sequence[bytes]) -> "AhoCorasickSet | HyperscanSet":
        return HyperscanSet(patterns) if self.engine == "hyperscan" else AhoCorasickSet(patterns)

    def found(self, text: str) -> Set[int]:
        """The numbers of the words that occur in `normalize(text)`."""
        return self.found_in([text])[0]

    def found_in(self, texts: Sequence[str] | Sequence[bytes]) -> list[Set[int]]:
        """For each text, the numbers of the words that occur in `normalize(text)` (not to be changed:
        texts with no word share one empty set). Texts may come as UTF-8 bytes (`utils.text.utf8_of`),
        as the search wants them."""
        self._searches += 1
        if self._normalize_all and self._searches % REPROBE_EVERY:
            return self.found_in_normalized([normalize(text_of(text)) for text in texts])
        found = self._guarded.search([utf8_of(text) for text in texts])
        triggers = self._triggers
        if triggers:
            again = [i for i, numbers in enumerate(found) if numbers and not triggers.isdisjoint(numbers)]
            # When most texts hold an unsafe character (words with Latin letters or punctuation meet
            # full-width text, say), normalizing every text at once costs less than finding those
            # characters and searching again: the next batches do that, and look again now and then.
            self._normalize_all = len(again) > len(texts) // 2
            if again:
                redone = self.found_in_normalized([normalize(text_of(texts[i])) for i in again])
                for i, numbers in zip(again, redone, strict=True):
                    found[i] = numbers
        return found

    def found_in_normalized(self, folded: Sequence[str]) -> list[Set[int]]:
        """For each text, normalized already, the numbers of the words that occur in it."""
        return self._words.search([utf8_of(text) for text in folded])


class AhoCorasickSet:
    """Literal search with ahocorasick-rs: a DFA over bytes (about 10 MB for 1,000 words), text by text."""

    def __init__(self, patterns: Sequence[bytes]) -> None:
        self._automaton = BytesAhoCorasick(list(patterns), implementation=Implementation.DFA)

    def search(self, texts: Sequence[bytes]) -> list[Set[int]]:
        find = self._automaton.find_matches_as_indexes
        return [{number for number, _start, _end in find(text, overlapping=True)} or NOTHING for text in texts]


class HyperscanSet:
    """Literal search with Hyperscan, all texts in one scan."""

    def __init__(self, patterns: Sequence[bytes]) -> None:
        # The binding measures literals with strlen: a NUL byte would cut a pattern short.
        if any(b"\0" in pattern for pattern in patterns):
            raise HyperscanRefused("a word holds a NUL character")
        self._database = _load_or_compile(patterns)
        # A scan needs scratch space of its own: one per thread (greenlet, under gevent) that scans.
        self._local = threading.local()

    def search(self, texts: Sequence[bytes]) -> list[Set[int]]:
        found: list[Set[int]] = [NOTHING] * len(texts)
        if not texts:
            return found
        # Text i spans [ends[i - 1], ends[i] - 1) of the joined bytes; the separator sits at ends[i] - 1.
        ends = list(accumulate(len(text) + 1 for text in texts))
        hits: list[tuple[int, int]] = []

        def on_match(number: int, _start: int, end: int, _flags: int, _context: object) -> None:
            hits.append((end, number))

        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        self._database.scan(SEPARATOR.join(texts), match_event_handler=on_match, scratch=scratch)
        by_row: dict[int, set[int]] = {}
        for end, number in hits:
            row = bisect_left(ends, end)
            if (numbers := by_row.get(row)) is None:
                numbers = by_row[row] = set()
            numbers.add(number)
        for row, numbers in by_row.items():
            found[row] = numbers
        return found


def _load_or_compile(patterns: Sequence[bytes]) -> "hyperscan.Database":
    """The block-mode literal database of `patterns`, numbered in order: loaded from the compiled
    directory when it holds it intact, else compiled (and stored there)."""
    directory = _compiled_dir
    path = None
    if directory is not None:
        key = hashlib.sha256(str(getattr(hyperscan, "__version__", "")).encode())
        for pattern in patterns:  # length-prefixed: no two lists of patterns hash alike
            key.update(len(pattern).to_bytes(4, "little") + pattern)
        path = directory / f"{key.hexdigest()}.hsdb"
        if (database := _load(path)) is not None:
            return database
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(expressions=list(patterns), ids=list(range(len(patterns))), literal=True)
    except hyperscan.error as exc:  # a word too long for it, say
        raise HyperscanRefused(str(exc)) from exc
    if path is not None:
        _store(path, hyperscan.dumpb(database))
    return database


def _load(path: Path) -> "hyperscan.Database | None":
    """The database stored at `path`, or None when it is missing, damaged (its digest guards it: a
    flipped byte Hyperscan's own check misses could make a scan read out of bounds) or built for
    another CPU."""
    try:
        stored = path.read_bytes()
    except OSError:
        return None
    digest, blob = stored[:32], stored[32:]
    if hashlib.sha256(blob).digest() != digest:
        return None
    try:
        return hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
    except hyperscan.error:
        return None


def _store(path: Path, blob: bytes) -> None:
    """Write `blob` under its digest, whole or not at all (processes compiling the same words at once
    each rename a complete file into place). A directory that cannot be written only costs the cache."""
    part = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as file:
            part = file.name
            file.write(hashlib.sha256(blob).digest() + blob)
        os.replace(part, path)
    except OSError:
        if part:
            with contextlib.suppress(OSError):
                os.unlink(part)
