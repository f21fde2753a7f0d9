"""Realistic posts for the bench: Chinese text drawn from jieba's dictionary by word frequency.

Each post has a title (sometimes NULL) and a content of 50–400 characters (1 % NULL, 1 % empty),
with punctuation between phrases, emoji in a fifth of the posts, a short URL in a tenth, and a
twentieth written partly in Traditional characters; times are spread over a year. Deterministic
for a seed, so a table generated once can be reused and checked against.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import jieba
import numpy as np

YEAR_START = datetime(2026, 1, 1)
PUNCTUATION = "，，，。。！？、；：…"
EMOJI = ["😂", "👍", "🔥", "😭", "🙏", "❤️", "🤔", "😅", "🎉", "💪", "🇨🇳", "👀"]
# Common characters whose Traditional form differs: enough for matching to meet both scripts.
TRADITIONAL = str.maketrans(
    "这个们说会国时对发来为经过还后没里开么问见学现实东车长门马鸟鱼书买卖头语话让认识觉点热钱银"
    "网络电视话题产业务动员岁数据体育华乐欢观觉亲爱团队",
    "這個們說會國時對發來為經過還後沒裡開麼問見學現實東車長門馬鳥魚書買賣頭語話讓認識覺點熱錢銀"
    "網絡電視話題產業務動員歲數據體育華樂歡觀覺親愛團隊",
)


@dataclass(frozen=True)
class Vocabulary:
    words: list[str]
    probabilities: np.ndarray


@cache
def vocabulary() -> Vocabulary:
    """jieba's dictionary: words of CJK characters, weighted by their frequency."""
    words: list[str] = []
    counts: list[int] = []
    path = Path(jieba.__file__).parent / "dict.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        word, count, *_ = line.split(" ")
        if all("\u4e00" <= ch <= "\u9fff" for ch in word):
            words.append(word)
            counts.append(int(count))
    weights = np.asarray(counts, dtype=np.float64)
    return Vocabulary(words, weights / weights.sum())


def keywords(n: int, labels: int = 20, seed: int = 11) -> list[tuple[str, str]]:
    """`n` (label, keyword) rules over `labels` labels: words of two or three characters from the middle
    of the frequency range, so that most posts match a few and some match none."""
    vocab = vocabulary()
    order = np.argsort(-vocab.probabilities)
    middle = [vocab.words[i] for i in order[2_000:60_000] if 2 <= len(vocab.words[i]) <= 3]
    chosen = random.Random(seed).sample(middle, n)
    return [(f"label_{i % labels:02d}", word) for i, word in enumerate(chosen)]


def posts(n: int, seed: int = 5, first_id: int = 1, batch: int = 20_000) -> Iterator[tuple]:
    """(id, title, content, post_time) for `n` posts in id order, times over the year 2026."""
    vocab = vocabulary()
    rng = np.random.default_rng(seed)
    words = np.asarray(vocab.words, dtype=object)
    seconds = 365 * 86_400
    for start in range(0, n, batch):
        size = min(batch, n - start)
        lengths = rng.integers(50, 401, size)
        # About 2.3 characters a word: draw enough words for the longest text of the batch.
        drawn = words[rng.choice(len(words), size=(size, 230), p=vocab.probabilities)]
        kinds = rng.random(size)
        extras = rng.random((size, 4))
        times = np.sort(rng.integers(0, seconds, size))
        for i in range(size):
            post_id = first_id + start + i
            title = None if extras[i, 0] < 0.3 else "".join(drawn[i, 224:228])
            when = YEAR_START + timedelta(seconds=int(times[i]))
            if kinds[i] < 0.01:
                yield post_id, title, None, when
                continue
            if kinds[i] < 0.02:
                yield post_id, title, "", when
                continue
            content = _content(drawn[i], int(lengths[i]), extras[i], post_id)
            yield post_id, title, content, when


def _content(drawn: np.ndarray, length: int, extra: np.ndarray, post_id: int) -> str:
    parts: list[str] = []
    size = 0
    for k, word in enumerate(drawn[:220]):
        parts.append(word)
        size += len(word)
        if k % 7 == 6:
            parts.append(PUNCTUATION[(post_id + k) % len(PUNCTUATION)])
            size += 1
        if size >= length:
            break
    text = "".join(parts)[:length]
    if extra[1] < 0.2:
        text += EMOJI[post_id % len(EMOJI)] * (1 + post_id % 3)
    if extra[2] < 0.1:
        text += f" https://t.cn/A{post_id:07d}"
    if extra[3] < 0.05:
        text = text.translate(TRADITIONAL)
    return text
