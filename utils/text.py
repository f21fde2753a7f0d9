"""Text normalisation shared by training and labeling, so both see the same characters."""

import re
import sys
import unicodedata
from collections.abc import Iterable
from functools import cache

# Zero-width characters split words invisibly; drop them before matching. (A regex substitution
# is about twice as fast as str.translate with a table here, and this runs on every row.)
_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_WIDTH = re.compile(f"[{_ZERO_WIDTH_CHARS}]")


@cache
def _nfkc_table() -> list[int | str]:
    """What NFKC makes of each character of the Basic Multilingual Plane taken alone, by code point
    (a character it keeps maps to itself). A list, not a dict: str.translate raises and clears a
    KeyError for every character a dict lacks, which is most of a Chinese post. Past the list (beyond
    the BMP) its IndexError leaves a character as it is."""
    table: list[int | str] = list(range(0x10000))
    for point in range(0x10000):
        if 0xD800 <= point <= 0xDFFF:
            continue
        alone = unicodedata.normalize("NFKC", chr(point))
        if alone != chr(point):
            table[point] = alone
    return table


def nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`, about three times as fast on Chinese posts.

    Nearly every post has full-width punctuation, so the quick check alone never saves the work.
    Mapping character by character gives the NFKC form whenever the result is itself normalized (the
    decomposition is per character); otherwise (combining marks, characters beyond the table) the
    full algorithm runs."""
    mapped = text.translate(_nfkc_table())
    return mapped if unicodedata.is_normalized("NFKC", mapped) else unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), zero-width removal, case folding."""
    return _ZERO_WIDTH.sub("", nfkc(text)).casefold()


def utf8_of(text: str | bytes) -> bytes:
    """`text` in UTF-8 (bytes are taken as UTF-8 already); a lone surrogate (a JSON upload may hold
    one) as three bytes of its own."""
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


def text_of(text: str | bytes) -> str:
    """`text` as str: bytes are decoded as `utf8_of` encoded them."""
    return text if isinstance(text, str) else text.decode("utf-8", "surrogatepass")


# C0 and C1 control characters (tabs and line breaks among them): never in a name or a label.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def has_control_character(value: str) -> bool:
    return _CONTROL.search(value) is not None


def join_columns(values: Iterable[object]) -> str:
    """The text of a row: its non-empty text columns, one per line."""
    return "\n".join(str(v) for v in values if v is not None and v != "")


# Conjoining Hangul vowels and trailing consonants compose with the jamo before them, algorithmically
# (they are in no decomposition table).
_HANGUL_JOINERS = frozenset(map(chr, [*range(0x1161, 0x1176), *range(0x11A8, 0x11C3)]))


@cache
def _altered() -> dict[str, str | None]:
    """Every character normalize() may change, or join with a neighbour: its normalized form when that
    is ASCII, the character has no canonical combining class and joins nothing (full-width ASCII, for
    instance), else None.

    Every other character is left as it is by normalize(), alone or in any text: it has no decomposition,
    no case folding, combining class 0, and is never the second character of a composition."""
    candidates: list[str] = []
    joiners = set(_HANGUL_JOINERS)
    block = 1024
    for start in range(0, sys.maxunicode + 1, block):
        chars = "".join(chr(p) for p in range(start, start + block) if not 0xD800 <= p <= 0xDFFF)
        if (
            unicodedata.is_normalized("NFKD", chars)
            and chars.casefold() == chars
            and not any(map(unicodedata.combining, chars))
        ):
            continue
        for ch in chars:
            decomposition = unicodedata.decomposition(ch)
            if decomposition and not decomposition.startswith("<") and len(parts := decomposition.split()) == 2:
                joiners.add(chr(int(parts[1], 16)))
            if not unicodedata.is_normalized("NFKD", ch) or ch.casefold() != ch or unicodedata.combining(ch):
                candidates.append(ch)
    altered: dict[str, str | None] = {ch: None for ch in joiners}
    for ch in [*candidates, *_ZERO_WIDTH_CHARS]:
        folded = normalize(ch)
        compatible = unicodedata.normalize("NFKC", ch)
        plain = not unicodedata.combining(ch) and ch not in joiners and folded
        ascii_form = plain and compatible.isascii() and unicodedata.normalize("NFKD", ch) == compatible
        altered[ch] = folded if ascii_form else None
    return altered


def warm_text_tables() -> None:
    """Build the tables normalize() and unsafe_characters() consult, ahead of their first use."""
    _nfkc_table()
    _altered()


def unsafe_characters(alphabet: set[str]) -> list[str]:
    """The characters whose presence in a text can make `normalize(text)` hold other occurrences of words
    written in `alphabet` (normalized) than the text itself.

    A text with none of them normalizes character by character, and only characters outside `alphabet`
    change, into ASCII outside it too (full-width punctuation, or capitals when the words have no Latin
    letters): every run of `alphabet` characters is the same before and after, so the same words occur.
    Such a text can be searched as it is, without normalizing it."""
    return [
        ch
        for ch, ascii_form in _altered().items()
        if ascii_form is None or ch in alphabet or not alphabet.isdisjoint(ascii_form)
    ]
