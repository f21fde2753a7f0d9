"""jieba's word cuts, computed by rjieba (jieba's algorithm and dictionary in Rust) about 15 times faster.

jieba stays the reference: `tests/model/test_segmenting.py` compares the two on the sample data, the
bench's posts and random mixtures, with and without user words. The one difference found is applied
here: jieba cuts a run of ASCII that is no dictionary word at every character other than a letter or
a digit (its HMM step's rule: `t.cn` is `t`, `.`, `cn`), where rjieba keeps the run whole.
"""

import re
import threading
from collections.abc import Callable, Sequence

import rjieba

# jieba.finalseg's re_skip: the pieces it keeps whole inside a run it does not know.
_ASCII_PIECES = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
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

    def _whole(self, word: str) -> bool:
        return _ASCII_PIECES.fullmatch(word) is not None or self._jieba.has_word(word)
