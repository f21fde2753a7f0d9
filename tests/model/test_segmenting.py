"""rjieba, as models.segmenting uses it, cuts exactly the words jieba cuts."""

import logging
import random

import jieba
import pytest
import rjieba

from models.segmenting import Segmenter
from models.training import Example
from tests.benchmarks.corpus import posts, vocabulary
from utils.rule_files import Rule
from utils.text import join_columns, normalize

PIECES = [*"abcXYZ019.-+#&_%/:@'\" \n\t,!?", "中", "国", "的", "é", "😂", "3.5%", "wi-fi", "c++", "t.cn/", "A.I."]


@pytest.fixture(scope="module")
def reference() -> jieba.Tokenizer:
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def texts(sample: dict[str, list[Example]]) -> list[str]:
    found = [text for split in sample.values() for text, _labels in split]
    found += [join_columns(row[1:3]) for row in posts(1_500, seed=4)]
    rng = random.Random(5)
    words = vocabulary().words
    for _ in range(5_000):
        size = rng.randint(1, 15)
        found.append("".join(rng.choice(words) if rng.random() < 0.4 else rng.choice(PIECES) for _ in range(size)))
    return [normalize(text) for text in found]


def test_same_words_as_jieba(reference: jieba.Tokenizer, sample: dict[str, list[Example]]) -> None:
    segmenter = Segmenter()
    all_texts = texts(sample)
    assert any(segmenter.cut(t) != rjieba.cut(t) for t in all_texts)  # the ASCII rule is exercised
    for text in all_texts:
        assert segmenter.cut(text) == list(reference.cut(text)), repr(text)


def test_same_words_as_jieba_with_user_words(
    reference: jieba.Tokenizer, sample: dict[str, list[Example]], sample_rules: list[Rule]
) -> None:
    words = sorted({normalize(rule.pattern) for rule in sample_rules if rule.kind == "keyword"})
    words += ["足球彩票", "nba直播", "t.cn"]
    own = jieba.Tokenizer()
    own.FREQ, own.total, own.initialized = dict(reference.FREQ), reference.total, True
    for word in words:
        own.add_word(word)
    segmenter = Segmenter(words)
    all_texts = texts(sample)
    assert sum(segmenter.cut(t) != Segmenter().cut(t) for t in all_texts) > 10  # the user words change cuts
    for text in all_texts:
        assert segmenter.cut(text) == list(own.cut(text)), repr(text)
