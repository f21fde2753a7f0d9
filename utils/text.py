"""Text normalisation shared by training and labeling, so both see the same characters."""

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

# Zero-width characters split words invisibly; drop them before matching. (A regex substitution
# is about twice as fast as str.translate with a table here, and this runs on every row.)
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


@cache
def _nfkc_table() -> dict[int, str]:
    """What NFKC makes of each character of the Basic Multilingual Plane it changes, taken alone."""
    table = {}
    for point in range(0x10000):
        if 0xD800 <= point <= 0xDFFF:
            continue
        alone = unicodedata.normalize("NFKC", chr(point))
        if alone != chr(point):
            table[point] = alone
    return table


def nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`, about twice as fast on Chinese posts.

    Nearly every post has full-width punctuation, so the quick check alone never saves the work.
    Mapping character by character gives the NFKC form whenever the result is itself normalized (the
    decomposition is per character); otherwise (combining marks, characters beyond the table) the
    full algorithm runs."""
    mapped = text.translate(_nfkc_table())
    return mapped if unicodedata.is_normalized("NFKC", mapped) else unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), zero-width removal, case folding."""
    return _ZERO_WIDTH.sub("", nfkc(text)).casefold()


def join_columns(values: Iterable[object]) -> str:
    """The text of a row: its non-empty text columns, one per line."""
    return "\n".join(str(v) for v in values if v is not None and v != "")
