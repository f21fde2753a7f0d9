"""TextClassifier's own transform (Tokenizer.bag, Segmenter.words, counting with numpy) gives exactly
the matrix scikit-learn's TfidfVectorizer.transform gives, and predict exactly what it predicted with it."""

import pickle
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import rjieba

from models.base import RowLabels
from models.segmenting import Segmenter
from models.text_classifier import TextClassifier
from models.tokenizing import Tokenizer
from models.training import Example, train
from tests.benchmarks.corpus import posts, vocabulary
from utils.text import join_columns, normalize

# ASCII runs that cut splits (t.cn, wi-fi, a_b), keeps whole (3.5%, c++ as a user word) or drops (...).
ASCII = ["t.cn", "3.5%", "c++", "wi-fi", "a_b", "node.js", "v2.0", "50%", "#tag#", "x&y", "https://t.cn/a1", "..."]
PIECES = [*"abcXYZ019.-+#&_%/:@'\" \n\t,!?", "中", "国", "的", "了", "é", "😂", "臺灣", *ASCII]
PARAMS: list[dict[str, Any]] = [
    {},
    {"stop_words": ["的", "了", "t", "cn"], "user_dict": ["打工人", "c++", "t.cn", "wi-fi"]},
    {"ngram_range": [1, 2]},
    {"tokenizer": "char"},
    {"to_simplified": True},
    {"min_df": 2, "sublinear_tf": False},
]


def mixtures(count: int, seed: int) -> list[str]:
    """Random texts of dictionary words and ASCII, punctuation, emoji and Traditional pieces."""
    rng = random.Random(seed)
    words = vocabulary().words
    return [
        "".join(rng.choice(words) if rng.random() < 0.4 else rng.choice(PIECES) for _ in range(rng.randint(0, 15)))
        for _ in range(count)
    ]


@pytest.fixture(scope="module")
def train_rows(sample: dict[str, list[Example]]) -> list[Example]:
    # The sample has little ASCII: these rows bring ASCII words and pieces (t, cn, node, js...) into the vocabulary.
    labels = sorted({label for _, row in sample["train"] for label in row})
    extra = [(text, [labels[i % len(labels)]]) for i, text in enumerate(mixtures(300, seed=1))]
    return [*sample["train"], *extra]


@pytest.fixture(scope="module")
def texts(sample: dict[str, list[Example]]) -> list[str]:
    found = [text for text, _ in sample["test"]]
    found += [join_columns(row[1:3]) for row in posts(300)]
    found += ["", "   ", "！！！……", *ASCII, " ".join(ASCII), "ＮＢＡ直播t.cn/Ab3", "臺灣的颱風wi-fi 3.5%"]
    found += ["版本1.2.3发布", "比分3-1，", "1+1=2", "涨了2.5.1%"]  # split runs of digits, no letter
    return found + mixtures(400, seed=2)


@pytest.fixture(scope="module", params=PARAMS, ids=lambda p: ",".join(p) or "default")
def model(
    request: pytest.FixtureRequest, train_rows: list[Example], sample: dict[str, list[Example]]
) -> TextClassifier:
    labeler = train("term_weight", request.param, train_rows, sample["dev"]).labeler
    assert isinstance(labeler, TextClassifier)
    return labeler


def assert_same_matrix(fast: Any, reference: Any) -> None:
    assert type(fast) is type(reference) and fast.shape == reference.shape
    for part in ("data", "indices", "indptr"):
        assert getattr(fast, part).dtype == getattr(reference, part).dtype, part
        assert np.array_equal(getattr(fast, part), getattr(reference, part)), part


def reference_predict(model: TextClassifier, texts: list[str]) -> list[RowLabels]:
    """TextClassifier.predict as it was: scikit-learn's transform, then row by row."""
    features = model.vectorizer.transform(texts)
    scores = model.classifier.predict_proba(features) if model.uses_probability else None
    if scores is None:
        scores = model.classifier.decision_function(features)
    scores = np.asarray(scores, dtype=np.float64).reshape(len(texts), len(model.labels_))
    out: list[RowLabels] = []
    for row, has_features in zip(scores, features.getnnz(axis=1) > 0, strict=True):
        chosen = np.flatnonzero(row >= model.thresholds)
        if has_features and chosen.size == 0 and model.always_label:
            chosen = np.array([int(np.argmax(row))])
        out.append([(model.labels_[j], float(row[j])) for j in chosen] if has_features else [])
    return out


def test_same_matrix_as_scikit_learn(model: TextClassifier, texts: list[str]) -> None:
    vocabulary_ = model.vectorizer.vocabulary_
    if model.tokenizer.tokenizer == "jieba":
        # ASCII words and pieces are learnt, so the ASCII rule of the fast path is exercised.
        assert {"js", "3.5%"} <= set(vocabulary_) and "node.js" not in vocabulary_
    assert_same_matrix(model.features(texts), model.vectorizer.transform(texts))
    for start in range(0, 60, 7):  # small batches, texts without features among them
        batch = texts[start : start + 7]
        assert_same_matrix(model.features(batch), model.vectorizer.transform(batch))


def test_binary_counts(model: TextClassifier, texts: list[str]) -> None:
    texts = texts[:300]
    copy = pickle.loads(pickle.dumps(model))
    copy.vectorizer.binary = True
    binary = copy.features(texts)
    assert_same_matrix(binary, copy.vectorizer.transform(texts))
    assert not np.array_equal(binary.data, model.features(texts).data)


def test_same_predictions(model: TextClassifier, texts: list[str]) -> None:
    predicted = model.predict(texts)
    assert predicted == reference_predict(model, texts)
    assert any(predicted) and [] in predicted
    assert model.always_label and any(len(row) == 1 for row in predicted)


def test_other_model_types_and_no_always_label(train_rows: list[Example], sample, texts: list[str]) -> None:
    for model_type in ("linear_svc", "complement_nb"):
        model = train(model_type, {}, train_rows, sample["dev"]).labeler
        assert isinstance(model, TextClassifier)
        assert_same_matrix(model.features(texts), model.vectorizer.transform(texts))
        model.always_label = False
        assert model.predict(texts) == reference_predict(model, texts)


def test_pickles_old_and_new(model: TextClassifier, texts: list[str]) -> None:
    texts = texts[:300]
    model.features(texts[:5])  # builds the column map
    blob = pickle.dumps(model)
    restored = pickle.loads(blob)
    assert "_columns" not in restored.__dict__  # rebuilt on first use, never pickled
    assert_same_matrix(restored.features(texts), model.vectorizer.transform(texts))
    # A model pickled before the column map existed has no such state at all.
    old = TextClassifier.__new__(TextClassifier)
    old.__dict__.update({k: v for k, v in pickle.loads(blob).__dict__.items() if k != "_columns"})
    assert old.predict(texts) == model.predict(texts)


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: ",".join(p) or "default")
def test_bag_counts_like_features_against_any_vocabulary_of_features(params: dict[str, Any], texts: list[str]) -> None:
    """Tokenizer.bag, filtered by the largest vocabulary `features` could have given (every feature it gave
    on these texts), counts what `features` gives, text by text."""
    tokenizer = Tokenizer.from_params(params)
    features = [tokenizer.features(text) for text in texts]
    seen = {feature for found in features for feature in found}
    split = 0
    for text, found in zip(texts, features, strict=True):
        assert Counter(w for w in tokenizer.bag(text) if w in seen) == Counter(found), repr(text)
        split += tokenizer.tokenizer == "jieba" and not set(found) <= set(rjieba.cut(tokenizer.normalize(text)))
    if params.get("tokenizer", "jieba") == "jieba":
        assert split > 50  # ASCII runs were split into pieces: the rule is exercised


@pytest.mark.parametrize("keep", [bool, lambda w: w not in {"t", "...", "中"}], ids=["everything", "not_some"])
def test_segmenter_words_count_like_cut_whatever_it_keeps(keep: Callable[[str], bool], texts: list[str]) -> None:
    for user_words in ((), ("t.cn", "c++", "-.-")):
        segmenter = Segmenter(user_words, keep=keep)
        normalized = [normalize(text) for text in [*texts, "a-.b -.- ...", "...", "中-.国"]]
        cuts = [segmenter.cut(text) for text in normalized]
        seen = {word for words in cuts for word in words}
        for text, cut in zip(normalized, cuts, strict=True):
            assert Counter(w for w in segmenter.words(text) if w in seen) == Counter(cut), repr(text)


def test_jieba_words_are_pieces_of_the_text(texts: list[str]) -> None:
    # Segmenter.words looks for ASCII letters and digits in the text rather than in its words.
    for text in map(normalize, texts):
        assert "".join(rjieba.cut(text)) == text
