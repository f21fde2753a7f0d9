"""User-supplied regular expressions, compiled with RE2.

RE2 matches in time linear in the text whatever the pattern, so a catastrophic-backtracking pattern
such as `(a+)+$` cannot hang a worker or the API. What RE2 cannot compile (back-references,
look-arounds) is refused with its reason. Patterns match the text as stored, not normalised;
`(?i)` makes one case-insensitive.

Compiling one pattern alone can take most of a second (`[\\p{L}]{1000}` builds a large program),
so a set is checked by parsing each pattern (cheap) and compiling them together once, under one
memory budget: checking a thousand patterns costs about one compilation, not a thousand.
"""

import random
import re
import time
from collections.abc import Sequence

import re2

# Memory RE2 may use for one compiled pattern or set; larger ones are refused, not swapped in.
MAX_PATTERN_MEM = 32 << 20
MAX_PATTERN_CHARS = 2_000


class PatternError(ValueError):
    """A pattern RE2 refuses; `index` is its position in the list it came from."""

    def __init__(self, index: int, pattern: str, reason: str) -> None:
        super().__init__(f"pattern {index} {pattern!r}: {reason}")
        self.index = index
        self.pattern = pattern
        self.reason = reason


class PatternSetTooLarge(ValueError):
    """Patterns RE2 parses one by one but cannot compile together within MAX_PATTERN_MEM, or that
    match too slowly (see ExclusionSet.probe_cost)."""


# Linear time can still be slow: `a[ab]{400}c` in a set of hundreds defeats RE2's DFA cache on a
# run of a/b, and matching falls back to milliseconds per character. A set is probed on texts
# made of the characters its patterns name and refused above this cost.
MAX_SECONDS_PER_CHAR = 20e-6
PROBE_CHARS = 256
MAX_PROBES = 64
_CLASS = re.compile(r"\[(\^?)((?:\\.|[^\]\\])+)\]")


def _options(case_sensitive: bool = True) -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PATTERN_MEM
    options.case_sensitive = case_sensitive
    return options


def _reason(error: Exception) -> str:
    message = error.args[0] if error.args else str(error)
    return message.decode(errors="replace") if isinstance(message, bytes) else str(message)


def _precheck(pattern: str, index: int) -> None:
    if not pattern:
        raise PatternError(index, pattern, "empty pattern")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(index, pattern[:40] + "…", f"longer than {MAX_PATTERN_CHARS} characters")
    # RE2 reads UTF-8; a lone surrogate (possible from a JSON "\ud800" escape) has no encoding.
    if not pattern.isascii():
        try:
            pattern.encode()
        except UnicodeEncodeError:
            raise PatternError(index, pattern, "not valid Unicode (lone surrogate)") from None


def compile_pattern(pattern: str, index: int = 0) -> re2._Regexp:
    """One compiled pattern, or PatternError saying why RE2 refused it."""
    _precheck(pattern, index)
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        raise PatternError(index, pattern, f"does not compile with RE2 (linear-time engine): {_reason(exc)}") from exc


def check_patterns(patterns: Sequence[str]) -> None:
    """Raise PatternError for the first pattern RE2 refuses, PatternSetTooLarge if together they
    are too large or too slow."""
    ExclusionSet(patterns).probe_cost()


def _probe_alphabets(patterns: Sequence[str]) -> list[list[str]]:
    """Distinct character sets to build probe texts from: all literal characters of the set, then
    those of each pattern and of each bracketed class (ranges and escapes are left out)."""

    def letters(text: str) -> tuple[str, ...]:
        return tuple(sorted({ch for ch in text if ch.isalnum() or ch in " -_@#.,:/"}))

    candidates = [letters("".join(patterns))]
    for pattern in patterns:
        candidates.append(letters(re.sub(r"\{[0-9,]*\}|\\.", "", pattern)))
        candidates += [letters(body) for negated, body in _CLASS.findall(pattern) if not negated]
    unique = dict.fromkeys(c for c in candidates if c)
    return [list(c) for c in unique] or [["a", "b"]]


class ExclusionSet:
    """Many patterns matched in one pass; which (if any) a text matches first, or all it matches.

    `case_sensitive=False` is for rule models, which match case-folded text: a pattern written
    `iPhone` must still find `iphone`."""

    def __init__(self, patterns: Sequence[str], case_sensitive: bool = True) -> None:
        self.patterns = list(patterns)
        self._set = re2.Set.SearchSet(_options(case_sensitive))
        for index, pattern in enumerate(self.patterns):
            _precheck(pattern, index)
            try:
                self._set.Add(pattern)  # parses only
            except re2.error:
                # Add does not say why; compiling alone fails at the same parse step, fast, with RE2's reason.
                compile_pattern(pattern, index)
                raise PatternError(index, pattern, "does not compile with RE2 (linear-time engine)") from None
        if self.patterns:
            try:
                self._set.Compile()
            except re2.error as exc:
                raise PatternSetTooLarge(
                    f"together the patterns need more than RE2's {MAX_PATTERN_MEM >> 20} MiB: use fewer patterns "
                    "or smaller counted repetitions (such as {1000}) of large classes (such as \\p{L})"
                ) from exc

    def probe_cost(self) -> None:
        """Raise PatternSetTooLarge if the set matches adversarial texts too slowly.

        The probes are random texts over the characters of each pattern and of each bracketed
        class in it: long runs of exactly the characters a pattern's counted classes accept are
        what make RE2 fall off its fast path. Each probe is short, so the check itself stays short.
        """
        rng = random.Random(0)
        for alphabet in _probe_alphabets(self.patterns)[:MAX_PROBES]:
            text = "".join(rng.choice(alphabet) for _ in range(PROBE_CHARS))
            began = time.perf_counter()
            self._set.Match(text)
            spent = time.perf_counter() - began
            if spent > MAX_SECONDS_PER_CHAR * PROBE_CHARS:
                rate = PROBE_CHARS / spent
                raise PatternSetTooLarge(
                    f"together the patterns match too slowly: about {rate:,.0f} characters per second on text "
                    f"made of {''.join(alphabet[:10])!r}; long counted repetitions (such as [ab]{{400}}) "
                    "in many patterns cause this"
                )

    def first_match(self, text: str | None) -> int | None:
        """The index of the first pattern `text` matches, or None. An empty text can match (`^$`)."""
        if text is None or not self.patterns:
            return None
        hits = self._set.Match(text)
        return min(hits) if hits else None

    def matches(self, text: str) -> list[int]:
        """The indices of every pattern `text` matches, ascending."""
        return sorted(self._set.Match(text) or ()) if self.patterns else []

    def excluded(self, texts: Sequence[str | None]) -> list[bool]:
        return [self.first_match(text) is not None for text in texts]
