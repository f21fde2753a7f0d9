"""Which of a set of words occur in a text, as the keyword and rule models match them.

Words are matched on `normalize(text)`. Normalizing costs more than the search itself on Chinese posts,
and it rarely matters: most posts only hold characters it keeps, or changes into ASCII the words do not
use (full-width punctuation). So the search runs on the text as it is, with one automaton that also looks
for the characters that could matter (`unsafe_characters`); only a text holding one of them is
normalized and searched again. Either way the result is that of searching `normalize(text)`.
"""

from collections.abc import Sequence

from ahocorasick_rs import AhoCorasick

from utils.text import normalize, unsafe_characters


class LiteralMatcher:
    def __init__(self, words: Sequence[str]) -> None:
        """`words`: distinct, non-empty and already normalized."""
        self.size = len(words)
        self._words = AhoCorasick(list(words))
        unsafe = unsafe_characters(set("".join(words)))
        distinct = set(words)
        # A word that is itself one unsafe character is reported under the word's own number.
        self._unsafe_words = frozenset(i for i, word in enumerate(words) if len(word) == 1 and word in unsafe)
        self._guarded = AhoCorasick([*words, *(ch for ch in unsafe if ch not in distinct)])

    def found(self, text: str) -> set[int]:
        """The numbers of the words that occur in `normalize(text)`."""
        found = {number for number, _start, _end in self._guarded.find_matches_as_indexes(text, overlapping=True)}
        if found and (max(found) >= self.size or not self._unsafe_words.isdisjoint(found)):
            return self.found_normalized(normalize(text))
        return found

    def found_normalized(self, folded: str) -> set[int]:
        """The numbers of the words that occur in `folded`, a text normalized already."""
        return {number for number, _start, _end in self._words.find_matches_as_indexes(folded, overlapping=True)}
