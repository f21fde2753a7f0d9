"""The fast NFKC gives exactly what unicodedata gives, on every kind of text."""

import random
import sys
import unicodedata

import pytest

from tests.benchmarks.corpus import posts
from utils.text import nfkc

TRICKY = [
    "",
    "ＮＢＡ全明星赛，精彩！！…",  # full-width letters and punctuation
    "ﬁle ﬂow ㍿ ① ⅻ ㈱",  # ligatures, squared and circled forms
    "e\u0301 A\u030a \u1100\u1161\u11a8",  # combining marks, conjoining Hangul jamo
    "𝐀𝐁𝐂 🅰 丽 \U0002f800",  # beyond the Basic Multilingual Plane
    "👨\u200d👩\u200d👧 ❤️ 🇨🇳",  # emoji sequences
    "Å\u0323\u0307 ḍ̇ \u0344 \u0f73",  # canonical reordering, singletons, decomposing marks
    "\u00a0\u3000\u2028 tab\there",  # spaces
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_texts(text: str) -> None:
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


def test_every_character_and_random_mixtures() -> None:
    points = [p for p in range(sys.maxunicode + 1) if not 0xD800 <= p <= 0xDFFF]
    for start in range(0, len(points), 4096):
        text = "".join(map(chr, points[start : start + 4096]))
        assert nfkc(text) == unicodedata.normalize("NFKC", text)
    for point in points[:0x10000]:  # alone, so that the table (not the full algorithm) gives the answer
        assert nfkc(chr(point)) == unicodedata.normalize("NFKC", chr(point)), hex(point)
    rng = random.Random(1)
    for _ in range(2_000):
        text = "".join(chr(rng.choice(points)) for _ in range(rng.randint(1, 12)))
        assert nfkc(text) == unicodedata.normalize("NFKC", text)


def test_generated_posts() -> None:
    for row in posts(2_000):
        text = row[2] or ""
        assert nfkc(text) == unicodedata.normalize("NFKC", text)
