"""Text normalisation shared by training and labeling, so both see the same characters."""

import re
import unicodedata
from collections.abc import Iterable

# Zero-width characters split words invisibly; drop them before matching. (A regex substitution
# is about twice as fast as str.translate with a table here, and this runs on every row.)
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), zero-width removal, case folding."""
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).casefold()


def join_columns(values: Iterable[object]) -> str:
    """The text of a row: its non-empty text columns, one per line."""
    return "\n".join(str(v) for v in values if v is not None and v != "")
