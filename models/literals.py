"""Which of a set of words occur in a text, as the keyword and rule models match them.

Words are matched on `normalize(text)`. Normalizing costs more than the search itself on Chinese posts,
and it rarely matters: most posts only hold characters it keeps, or changes into ASCII the words do not
use (full-width punctuation). So the search runs on the text as it is, with one automaton that also looks
for the characters that could matter (`unsafe_characters`); only a text holding one of them is
normalized and searched again. Either way the result is that of searching `normalize(text)`.

The search runs on UTF-8 bytes, a little faster than on str (no character offsets to work out). A word
matches the same in bytes as in characters: UTF-8 can only match a whole character at a character
boundary. ("surrogatepass" lets a lone surrogate from a JSON upload through, as three bytes of its own.)
"""

from collections.abc import Sequence

from ahocorasick_rs import BytesAhoCorasick, Implementation

from utils.text import normalize, unsafe_characters

# A DFA searches about half again as fast as the default NFA here, for about 10 MB per model.
DFA = Implementation.DFA


class LiteralMatcher:
    def __init__(self, words: Sequence[str]) -> None:
        """`words`: distinct, non-empty and already normalized."""
        self._words = BytesAhoCorasick([_utf8(word) for word in words], implementation=DFA)
        unsafe = set(unsafe_characters(set("".join(words))))
        guards = sorted(unsafe.difference(words))
        self._guarded = BytesAhoCorasick([_utf8(text) for text in [*words, *guards]], implementation=DFA)
        # The numbers whose match sends a text to be normalized: the guards, and any word that is itself
        # one unsafe character (reported under the word's own number).
        self._triggers = frozenset(i for i, text in enumerate([*words, *guards]) if text in unsafe)

    def found(self, text: str) -> set[int]:
        """The numbers of the words that occur in `normalize(text)`."""
        matches = self._guarded.find_matches_as_indexes(_utf8(text), overlapping=True)
        found = {number for number, _start, _end in matches}
        if not self._triggers.isdisjoint(found):
            return self.found_normalized(normalize(text))
        return found

    def found_normalized(self, folded: str) -> set[int]:
        """The numbers of the words that occur in `folded`, a text normalized already."""
        matches = self._words.find_matches_as_indexes(_utf8(folded), overlapping=True)
        return {number for number, _start, _end in matches}


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
