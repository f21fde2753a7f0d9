"""The bench's generated posts look like the posts users label."""

import re

from tests.benchmarks.corpus import YEAR_START, keywords, posts
from utils.text import normalize


def test_posts_are_realistic_and_reproducible() -> None:
    rows = list(posts(5_000, seed=3))
    assert rows == list(posts(5_000, seed=3))
    assert [r[0] for r in rows] == list(range(1, 5_001))
    contents = [r[2] for r in rows]
    texts = [c for c in contents if c]
    assert 0 < contents.count(None) < 150 and 0 < contents.count("") < 150
    extras = re.compile(r"[\U0001F000-\U0001FFFF\u2764\ufe0f]| https://t\.cn/\w+")
    assert all(50 <= len(extras.sub("", t)) <= 400 for t in texts)
    assert 500 < sum(bool(re.search("[\U0001f000-\U0001ffff]", t)) for t in texts) < 1_500
    assert 250 < sum("https://t.cn/" in t for t in texts) < 750
    assert 100 < sum(bool(re.search("[這個們說會國時對]", t)) for t in texts) < 500
    assert sum(bool(re.search("[，。！？]", t)) for t in texts) > 0.95 * len(texts)
    assert sum(r[1] is None for r in rows) > 1_000
    times = [r[3] for r in rows]
    assert times == sorted(times) and times[0] >= YEAR_START and times[-1].year == YEAR_START.year


def test_keywords_spread_over_labels_and_most_posts_match_some() -> None:
    rules = keywords(1_000)
    assert len(rules) == len({word for _, word in rules}) == 1_000
    assert len({label for label, _ in rules}) == 20
    words = [normalize(word) for _, word in rules]
    matched = sum(any(w in normalize(r[2] or "") for w in words) for r in posts(500))
    assert 0.3 * 500 < matched < 0.98 * 500
