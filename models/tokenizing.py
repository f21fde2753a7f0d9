"""Text → features for the scikit-learn models: jieba words or characters, as n-grams.

Every text is first normalised as the rule models see it (utils.text.normalize: NFKC full-width →
half-width, case folding, zero-width removal), then optionally converted from Traditional to
Simplified script. User-dictionary words and stop words go through the same steps, so `ＮＢＡ`,
`nba` and `NBA` are one word.

`ngram_range` counts tokens: jieba words in `jieba` mode (cut by rjieba, `models.segmenting`),
characters in `char` mode (which needs no dictionary). Char n-grams never span whitespace, punctuation or a
removed stop word.
"""

import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import ahocorasick
from opencc import OpenCC

from models.segmenting import Segmenter
from utils.text import normalize

TOKENIZERS = ("jieba", "char")
DEFAULT_NGRAMS = {"jieba": (1, 1), "char": (1, 2)}
# The model parameters that configure a Tokenizer (see models.params).
PARAMS = ("tokenizer", "ngram_range", "user_dict", "stop_words", "to_simplified")


@lru_cache(maxsize=1 << 16)
def _meaningful(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LN" or category == "So"


@lru_cache(maxsize=1 << 14)  # the words `isalnum` does not settle: punctuation, emoji, mixtures
def _is_token(text: str) -> bool:
    """A token carries meaning if it has a letter, a digit or a symbol such as an emoji;
    whitespace, punctuation and lone combining marks (an emoji's U+FE0F) do not."""
    return any(map(_meaningful, text))


class Tokenizer:
    """Callable text → list of features, usable as a scikit-learn `analyzer`. Picklable: the jieba
    dictionary and the converters are rebuilt on first use after unpickling."""

    def __init__(
        self,
        tokenizer: str = "jieba",
        ngram_range: Sequence[int] | None = None,
        user_dict: Sequence[str] = (),
        stop_words: Sequence[str] = (),
        to_simplified: bool = False,
    ) -> None:
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, not {tokenizer!r}")
        low, high = ngram_range or DEFAULT_NGRAMS[tokenizer]
        if not 1 <= low <= high:
            raise ValueError(f"ngram_range must be [min, max] with 1 <= min <= max, not {[low, high]}")
        if user_dict and tokenizer != "jieba":
            raise ValueError("user_dict only applies to the jieba tokenizer")
        self.tokenizer = tokenizer
        self.ngram_range = (int(low), int(high))
        self.to_simplified = to_simplified
        self._opencc: OpenCC | None = None
        # Dictionary and stop words are normalised like the texts they will meet.
        self.user_dict = sorted({w for w in map(self.normalize, user_dict) if w.strip()})
        self.stop_words = frozenset(w for w in map(self.normalize, stop_words) if w.strip())
        self._jieba: Segmenter | None = None
        self._stop_automaton: ahocorasick.Automaton | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "Tokenizer":
        return cls(**{name: params[name] for name in PARAMS if name in params})

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_opencc=None, _jieba=None, _stop_automaton=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def normalize(self, text: str) -> str:
        text = normalize(text)
        if self.to_simplified:
            if self._opencc is None:
                self._opencc = OpenCC("t2s")
            text = self._opencc.convert(text)
        return text

    def tokens(self, text: str) -> list[str]:
        """Words (jieba) or characters (char) of the normalised text, without stop words,
        whitespace and punctuation."""
        if self.tokenizer == "char":
            return [ch for run in self._char_runs(self.normalize(text)) for ch in run]
        return self._segmenter().cut(self.normalize(text))

    def _segmenter(self) -> Segmenter:
        if self._jieba is None:
            stop_words = self.stop_words
            # isalnum (letters and digits only, so a token) settles most words without the cache.
            self._jieba = Segmenter(
                self.user_dict, keep=lambda w: (w.isalnum() or _is_token(w)) and w not in stop_words
            )
        return self._jieba

    def features(self, text: str) -> list[str]:
        """The n-grams the vectorizer counts: words joined by a space, characters joined as they are."""
        low, high = self.ngram_range
        if self.tokenizer == "char":
            runs = self._char_runs(self.normalize(text))
            return [run[i : i + n] for run in runs for n in range(low, high + 1) for i in range(len(run) - n + 1)]
        words = self.tokens(text)
        if (low, high) == (1, 1):
            return words
        return [" ".join(words[i : i + n]) for n in range(low, high + 1) for i in range(len(words) - n + 1)]

    __call__ = features

    def bag(self, text: str) -> list[str]:
        """Every feature of `features(text)`, in any order, among others it never gives: counted
        against a vocabulary learnt from `features`, the same counts, sooner.

        Jieba words one by one skip the filtering (Segmenter.words): a word it refuses, stop word or
        punctuation, is in no vocabulary learnt with this tokenizer. N-grams need it: a refused word
        between two words changes which n-grams there are."""
        if self.tokenizer == "jieba" and self.ngram_range == (1, 1):
            return self._segmenter().words(self.normalize(text))
        return self.features(text)

    def _char_runs(self, text: str) -> list[str]:
        """Stretches of meaningful characters, cut at whitespace, punctuation and stop words."""
        if self.stop_words:
            gaps = bytearray(len(text))
            for end, length in self._stops().iter_long(text):
                gaps[end - length + 1 : end + 1] = b"\x01" * length
            text = "".join(" " if gap else ch for ch, gap in zip(text, gaps, strict=True))
        runs: list[str] = []
        current: list[str] = []
        for ch in text:
            if _meaningful(ch):
                current.append(ch)
            elif current:
                runs.append("".join(current))
                current = []
        if current:
            runs.append("".join(current))
        return runs

    def _stops(self) -> ahocorasick.Automaton:
        if self._stop_automaton is None:
            automaton = ahocorasick.Automaton()
            for word in self.stop_words:
                automaton.add_word(word, len(word))
            automaton.make_automaton()
            self._stop_automaton = automaton
        return self._stop_automaton
