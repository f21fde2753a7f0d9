"""jieba's word cuts, computed by rjieba (jieba's algorithm and dictionary in Rust) about 15 times faster.

jieba stays the reference: `tests/model/test_segmenting.py` compares the two on the sample data, the
bench's posts and random mixtures, with and without user words. The one difference found is applied
here: jieba cuts a run of ASCII that is no dictionary word at every character other than a letter or
a digit (its HMM step's rule: `t.cn` is `t`, `.`, `cn`), where rjieba keeps the run whole.
"""

import re
import threading
from collections.abc import Callable, Sequence
from itertools import filterfalse

import rjieba

# jieba.finalseg's re_skip: the pieces it keeps whole inside a run it does not know.
_ASCII_PIECES = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
# What splits a run into more than itself (str.isalnum is exactly [A-Za-z0-9] on ASCII): see Segmenter.words.
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
# rjieba's default dictionary, loaded once per process and shared by every model without user words.
_base: rjieba.Jieba | None = None
_base_lock = threading.Lock()


class Segmenter:
    def __init__(self, words: Sequence[str] = (), keep: Callable[[str], bool] = bool) -> None:
        """jieba's dictionary, plus `words` (each with a frequency high enough to be cut whole, as
        jieba's add_word gives it); `cut` returns only the words `keep` accepts."""
        global _base
        if words:
            jieba = rjieba.Jieba()
            for word in words:
                jieba.add_word(word, None, None)
        else:
            with _base_lock:
                if _base is None:
                    _base = rjieba.Jieba()
            jieba = _base
        self._jieba = jieba
        self._keep = keep

    def cut(self, text: str) -> list[str]:
        """The words jieba.cut(text) gives (HMM on for unknown words) that `keep` accepts."""
        keep = self._keep
        out: list[str] = []
        for word in self._jieba.cut(text):
            if len(word) > 1 and word.isascii() and not word.isalnum() and not self._whole(word):
                out.extend(piece for piece in _ASCII_PIECES.split(word) if piece and keep(piece))
            elif keep(word):
                out.append(word)
        return out

    def words(self, text: str) -> list[str]:
        """Every word cut(text) gives, in another order, among others it does not give: for counting
        against a vocabulary of cut's words, faster than cut (no Python step for most words).

        `keep` is not asked: a word it refuses is in no such vocabulary. An ASCII run that cut splits
        into pieces (one with a letter or digit, at least) stays, its pieces added at the end: cut never
        gives such a run, so no vocabulary has it. A run without a letter or digit is its only piece,
        given by both as it is. The words are pieces of the text, so a text without an ASCII letter or
        digit (most Chinese posts) needs no look at its words."""
        words = self._jieba.cut(text)
        if _ASCII_ALNUM.search(text) is None:
            return words
        for word in [*filterfalse(str.isalnum, filter(str.isascii, words))]:
            if len(word) > 1 and not self._whole(word):
                pieces = _ASCII_PIECES.split(word)
                if len(pieces) > 1:
                    words.extend(filter(None, pieces))
        return words

    def _whole(self, word: str) -> bool:
        return _ASCII_PIECES.fullmatch(word) is not None or self._jieba.has_word(word)
