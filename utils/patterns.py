"""User-supplied regular expressions: RE2's syntax, matched by Hyperscan where it is installed.

A pattern must compile with RE2 (its documented syntax: no back-references, no look-arounds), so
what a user may write does not depend on the machine. Where Hyperscan is installed (x86-64), the
patterns of a set are then compiled together into one Hyperscan database, and a text is scanned in
one pass for all of them. Hyperscan builds automata of bounded size and refuses a pattern it cannot
fit ("Pattern is too large"); with the bounds below (counted repetitions, compile time) its scan
stays fast on any text (README, "The preprocessing API", gives the measured figure). Patterns are
rewritten where Hyperscan's dialect means something else than RE2's (`$`, `\\s`), and its matches
are RE2's: the tests compare the two on many patterns and texts.

Compiling can take Hyperscan seconds (or minutes for hostile sets), and cannot be interrupted: a
set is checked (`check_patterns`) by compiling it in a child process that is killed when it runs
over COMPILE_SECONDS. The serialized database is kept, so the set is not compiled again in the
process that checked it.

Where Hyperscan is absent, RE2 matches (time linear in the text), and a set is also probed on
random texts made of the characters its patterns name (`probe_cost`): a heuristic, weaker guard.
Patterns match the text as stored, not normalised; `(?i)` makes one case-insensitive.
"""

import itertools
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import re2

try:
    import hyperscan
except ImportError:  # no wheel for this platform: RE2 with the probe
    hyperscan = None  # type: ignore[assignment]

ENGINES = ("hyperscan", "re2")
ENGINE = "hyperscan" if hyperscan is not None else "re2"
# Memory RE2 may use for one compiled pattern or set; larger ones are refused, not swapped in.
MAX_PATTERN_MEM = 32 << 20
MAX_PATTERN_CHARS = 2_000
# Hyperscan tracks a counted repetition above about 250 (ASCII) with an engine that costs
# microseconds a character while it runs; hundreds of them in a set match a few thousand characters
# a second. Below this bound (nested counts multiplied) the automata stay small and fast.
MAX_REPEAT = 100
# Compiling a set longer than this (in a child process) refuses it.
COMPILE_SECONDS = 10.0
# Starting the compiling child (an interpreter importing RE2 and Hyperscan) is not counted in it.
_START_SECONDS = 60.0


class PatternError(ValueError):
    """A pattern RE2 or Hyperscan refuses; `index` is its position in the list it came from."""

    def __init__(self, index: int, pattern: str, reason: str) -> None:
        super().__init__(f"pattern {index} {pattern!r}: {reason}")
        self.index = index
        self.pattern = pattern
        self.reason = reason


class PatternSetTooLarge(ValueError):
    """Patterns accepted one by one that together are too large or take too long to compile (or,
    with RE2 alone, match too slowly: see ExclusionSet.probe_cost)."""


# Linear time can still be slow: `a[ab]{400}c` in a set of hundreds defeats RE2's DFA cache on a
# run of a/b, and matching falls back to milliseconds per character. Without Hyperscan a set is
# probed on texts made of the characters its patterns name and refused above this cost.
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


def _parse_with_re2(patterns: Sequence[str], case_sensitive: bool) -> "re2.Set":
    """A RE2 set holding the patterns, parsed but not compiled; PatternError for the first RE2 refuses."""
    parsed = re2.Set.SearchSet(_options(case_sensitive))
    for index, pattern in enumerate(patterns):
        _precheck(pattern, index)
        try:
            parsed.Add(pattern)  # parses only
        except re2.error:
            # Add does not say why; compiling alone fails at the same parse step, fast, with RE2's reason.
            compile_pattern(pattern, index)
            raise PatternError(index, pattern, "does not compile with RE2 (linear-time engine)") from None
    return parsed


# --- RE2's meaning in Hyperscan's dialect -------------------------------------------------------

# RE2's \d, \s, \w and POSIX classes are ASCII. Hyperscan's \s also holds \v, and with (?i) its \w
# and [[:alpha:]] miss what RE2 adds by case folding (ſ for s, K for k); written as explicit ranges,
# both engines read them alike. Their complements are ranges too, so they can stand inside a class.
_ASCII_CLASSES = {
    "d": "0-9", "s": "\t\n\f\r ", "w": "0-9A-Za-z_",
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\x00-\x7f", "blank": "\t ", "cntrl": "\x00-\x1f\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@[-`{-~",
    "space": "\t\n\v\f\r ", "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}  # fmt: skip
# Unicode case classes RE2 folds under (?i) and Hyperscan does not.
_CASED_PROPERTY = re.compile(r"\\[pP](?:\{\^?(?:Lu|Ll|Lt|Lowercase|Uppercase)\})")


def _ascii_ranges(spec: str, negated: bool, caseless: bool = False) -> str:
    """The characters of `spec` (members and ranges such as "0-9A-Z_") as escaped ranges that can
    stand inside a bracketed class; `negated`: every other character instead. Under (?i) RE2
    negates the case-folded class: its complement leaves out the other case, ſ and K (Kelvin) too."""
    points: set[int] = set()
    k = 0
    while k < len(spec):
        if spec[k + 1 : k + 2] == "-" and k + 2 < len(spec):
            points.update(range(ord(spec[k]), ord(spec[k + 2]) + 1))
            k += 3
        else:
            points.add(ord(spec[k]))
            k += 1
    if negated and caseless:
        points |= {ord(chr(p).swapcase()) for p in points if chr(p).isalpha()}
        points |= {0x17F} if ord("s") in points else set()
        points |= {0x212A} if ord("k") in points else set()
    if negated:
        edges = [-1, *sorted(points), 0x110000]
        runs = [(low + 1, high - 1) for low, high in itertools.pairwise(edges) if high - low > 1]
    else:
        runs = []
        for point in sorted(points):
            if runs and runs[-1][1] == point - 1:
                runs[-1] = (runs[-1][0], point)
            else:
                runs.append((point, point))
    return "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in runs)


_REPEAT = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")
_FLAGS = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")
_BRACED_ESCAPE = re.compile(r"\\[pPx]\{[^}]*\}")
_POSIX = re.compile(r"\[:(\^?)([a-z]+):\]")


def _escape_body(pattern: str, i: int, in_class: bool, caseless: bool, index: int) -> tuple[str, int]:
    """The escape at pattern[i] (a backslash) as Hyperscan should read it, and where it ends."""
    if caseless and (cased := _CASED_PROPERTY.match(pattern, i)):
        raise PatternError(
            index,
            pattern,
            f"{cased.group()} under (?i) is not supported (the engines fold case classes differently): write \\p{{L}}",
        )
    if braced := _BRACED_ESCAPE.match(pattern, i):  # \p{Han}, \x{4e00}: their braces are no repetition
        return braced.group(), braced.end()
    escaped = pattern[i + 1 : i + 2]
    if escaped.lower() in "dsw" and escaped:
        ranges = _ascii_ranges(_ASCII_CLASSES[escaped.lower()], escaped.isupper(), caseless)
        return (ranges if in_class else f"[{ranges}]"), i + 2
    if escaped == "\0":
        return r"\x00", i + 2
    return pattern[i : i + 2], i + 2


def _class_end(pattern: str, i: int, caseless: bool, index: int) -> tuple[str, int]:
    """The bracketed class starting at pattern[i] as Hyperscan should read it, and where it ends."""
    out = ["["]
    j = i + 1
    if pattern.startswith("^", j):
        out.append("^")
        j += 1
    if pattern.startswith("]", j):  # a ] first is a member
        out.append(r"\]")
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        if pattern[j] == "\\":
            piece, j = _escape_body(pattern, j, True, caseless, index)
        elif (posix := _POSIX.match(pattern, j)) and posix[2] in _ASCII_CLASSES:
            piece, j = _ascii_ranges(_ASCII_CLASSES[posix[2]], bool(posix[1]), caseless), posix.end()
        else:
            piece, j = (r"\x00" if pattern[j] == "\0" else pattern[j]), j + 1
        out.append(piece)
    out.append("]")
    return "".join(out), j + 1


def for_hyperscan(pattern: str, index: int = 0, case_sensitive: bool = True) -> str:
    """`pattern` (which RE2 parses) written so that Hyperscan matches what RE2 matches.

    - `$` outside `(?m)` is the end of the text in RE2, but also before a final newline in
      Hyperscan (as in Perl): it becomes `\\z`.
    - `\\d`, `\\s`, `\\w` and POSIX classes become explicit ASCII ranges (and their complements):
      Hyperscan's `\\s` holds \\v, and under (?i) RE2 adds ſ and K (Kelvin) to `\\w` by folding.
    - A NUL character would end the pattern for the binding, which passes C strings: `\\x00`.

    PatternError when a counted repetition (nested ones multiplied) exceeds MAX_REPEAT, or for
    `\\p{Lu}` (and other case classes) under (?i), which the engines fold differently."""
    out: list[str] = []
    modes = [(False, not case_sensitive)]  # per open group, (multiline, caseless): (?m) changes the innermost
    inner = [1]  # per open group: the largest repetition count inside it
    last = 1  # the repetition count the atom just written holds (a group's inner count, or 1)
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and pattern.startswith("\\Q", i):
            end = pattern.find("\\E", i + 2)
            stop = len(pattern) if end < 0 else end
            out.append("\\Q" + pattern[i + 2 : stop].replace("\0", "\\E\\x00\\Q") + "\\E")
            i, last = (len(pattern) if end < 0 else end + 2), 1
        elif ch == "\\":
            piece, i = _escape_body(pattern, i, False, modes[-1][1], index)
            out.append(piece)
            last = 1
        elif ch == "[":
            piece, i = _class_end(pattern, i, modes[-1][1], index)
            out.append(piece)
            last = 1
        elif ch == "(" and (flags := _FLAGS.match(pattern, i)):
            on, off, closing = flags.groups()
            mode = tuple(
                (flag in on or was) and flag not in (off or "") for flag, was in zip("mi", modes[-1], strict=True)
            )
            if closing == ")":  # (?m): for the rest of the group
                modes[-1] = mode  # type: ignore[assignment]
            else:  # (?m:…)
                modes.append(mode)  # type: ignore[arg-type]
                inner.append(1)
            out.append(flags.group())
            i = flags.end()
        elif ch == "(":
            modes.append(modes[-1])
            inner.append(1)
            out.append(ch)
            i += 1
        elif ch == ")" and len(inner) > 1:
            modes.pop()
            last = inner.pop()
            inner[-1] = max(inner[-1], last)
            out.append(ch)
            i += 1
        elif ch == "{" and (repeat := _REPEAT.match(pattern, i)):
            low, comma, high = repeat.groups()
            count = int(high) if comma and high else int(low)
            total = count * last
            if total > MAX_REPEAT:
                nested = "" if total == count else f" ({count:,} times a group repeated {last:,} times)"
                raise PatternError(
                    index,
                    pattern,
                    f"repeats {total:,} times{nested}; at most {MAX_REPEAT} in a counted repetition "
                    "(such as {5,20}), as longer ones could match slowly",
                )
            inner[-1] = max(inner[-1], total)
            out.append(repeat.group())
            i, last = repeat.end(), total
        elif ch == "$" and not modes[-1][0]:
            out.append(r"\z")
            i, last = i + 1, 1
        else:
            out.append(r"\x00" if ch == "\0" else ch)
            # A quantifier keeps the count of what it repeats; anything else is a new atom.
            last = last if ch in "*+?" else 1
            i += 1
    return "".join(out)


# --- Hyperscan compiling, bounded in time -------------------------------------------------------


def _hyperscan_flags(case_sensitive: bool) -> int:
    # No HS_FLAG_UCP: RE2's \w, \d, \b and [[:alpha:]] are ASCII, as Hyperscan's are without it
    # (with it, \b is refused outright). No DOTALL/MULTILINE: RE2's defaults are Hyperscan's.
    flags = hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
    return flags if case_sensitive else flags | hyperscan.HS_FLAG_CASELESS


def _compile_database(expressions: Sequence[str], flags: int) -> "hyperscan.Database":
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[e.encode() for e in expressions],
        ids=list(range(len(expressions))),
        elements=len(expressions),
        flags=[flags] * len(expressions),
    )
    return database


def _compile_or_say_why(expressions: Sequence[str], flags: int) -> tuple[str, Any]:
    """("ok", serialized database), or ("pattern", (index, Hyperscan's reason)), or ("set", reason)."""
    try:
        return "ok", hyperscan.dumpb(_compile_database(expressions, flags))
    except hyperscan.error as exc:
        whole = str(exc)
    # Hyperscan's message does not say which expression it refused: each alone tells.
    for index, expression in enumerate(expressions):
        try:
            _compile_database([expression], flags)
        except hyperscan.error as exc:
            return "pattern", (index, str(exc))
    return "set", whole


def _serve(handle: int) -> None:
    """The compiling child's loop, on the socket `handle`: (expressions, flags) in,
    _compile_or_say_why's answer out."""
    os.set_blocking(handle, True)  # a socket made under gevent comes non-blocking
    connection = Connection(handle)
    connection.send("ready")  # so that the parent's clock starts with the compiling, not the imports
    while True:
        try:
            expressions, flags = connection.recv()
        except EOFError:
            return
        connection.send(_compile_or_say_why(expressions, flags))


_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from utils.patterns import _serve; _serve(int(sys.argv[2]))"


class _Compiler:
    """One child process that compiles, killed and replaced when a compilation runs over its time.

    A plain subprocess, not multiprocessing: a Celery prefork worker is a daemonic process, which
    multiprocessing forbids to have children, and forking a process with threads (the API's pool, a
    gevent hub) is unsafe. The two talk over a socket pair with multiprocessing's Connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one compilation at a time: a hostile set costs one core
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None

    def _start(self) -> Connection:
        if self._connection is not None and self._process is not None and self._process.poll() is None:
            return self._connection
        ours, theirs = socket.socketpair()
        root = str(Path(__file__).resolve().parents[1])
        self._process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, root, str(theirs.fileno())], pass_fds=[theirs.fileno()]
        )
        theirs.close()
        handle = ours.detach()
        os.set_blocking(handle, True)  # Connection's reads want it; poll() still waits cooperatively
        self._connection = connection = Connection(handle)
        try:
            if not connection.poll(_START_SECONDS):
                raise EOFError
            connection.recv()  # "ready"
        except (EOFError, OSError):
            self._stop()
            raise PatternSetTooLarge("the patterns could not be compiled (the compiler did not start)") from None
        return connection

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None

    def compile(self, expressions: Sequence[str], flags: int, seconds: float) -> tuple[str, Any]:
        with self._lock:
            connection = self._start()
            connection.send((list(expressions), flags))
            if not connection.poll(seconds):
                self._stop()
                raise PatternSetTooLarge(
                    f"the patterns take longer than {seconds:g} s to compile: use fewer patterns, or shorter "
                    "counted repetitions of classes"
                )
            try:
                return connection.recv()  # type: ignore[no-any-return]
            except (EOFError, OSError):  # the child died (out of memory, say)
                self._stop()
                raise PatternSetTooLarge("the patterns could not be compiled (the compiler stopped)") from None


_compiler = _Compiler()
# Databases checked in this process, serialized, by (patterns, case_sensitive): the set a route has
# just checked is loaded, not compiled again.
_CHECKED = 8
_checked: "OrderedDict[tuple[tuple[str, ...], bool], bytes]" = OrderedDict()
_checked_lock = threading.Lock()


def _refusal(kind: str, detail: Any, patterns: Sequence[str]) -> ValueError:
    if kind == "pattern":
        index, message = detail
        return PatternError(index, patterns[index], f"is refused by Hyperscan (the bounded engine): {message}")
    return PatternSetTooLarge(f"together the patterns are refused by Hyperscan (the bounded engine): {detail}")


def compile_hyperscan(
    patterns: Sequence[str], case_sensitive: bool = True, seconds: float | None = COMPILE_SECONDS
) -> bytes:
    """The serialized Hyperscan database of `patterns` (checked with RE2 first), numbered in order.
    With `seconds`, compiled in a child process and PatternSetTooLarge past that time; None compiles
    here, unbounded (a set checked before)."""
    _parse_with_re2(patterns, case_sensitive)
    expressions = [for_hyperscan(pattern, index, case_sensitive) for index, pattern in enumerate(patterns)]
    flags = _hyperscan_flags(case_sensitive)
    if seconds is None:
        kind, detail = _compile_or_say_why(expressions, flags)
    else:
        kind, detail = _compiler.compile(expressions, flags, seconds)
    if kind != "ok":
        raise _refusal(kind, detail, patterns)
    return detail  # type: ignore[no-any-return]


def check_patterns(patterns: Sequence[str], case_sensitive: bool = True) -> None:
    """Raise PatternError for the first pattern refused (by RE2's syntax, or Hyperscan, or the
    repetition bound), PatternSetTooLarge if together they are too large or too slow to compile
    (or, with RE2 alone, to match)."""
    if ENGINE == "re2" or not patterns:
        ExclusionSet(patterns, case_sensitive, engine="re2").probe_cost()
        return
    key = (tuple(patterns), case_sensitive)
    with _checked_lock:
        if key in _checked:
            _checked.move_to_end(key)
            return
    blob = compile_hyperscan(patterns, case_sensitive, seconds=COMPILE_SECONDS)
    with _checked_lock:
        _checked[key] = blob
        while len(_checked) > _CHECKED:
            _checked.popitem(last=False)


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


def _keep_lowest(number: int, _start: int, _end: int, _flags: int, lowest: list[int]) -> bool:
    """Hyperscan's match callback for first_match: keeps the lowest number; stops at 0."""
    if number < lowest[0]:
        lowest[0] = number
    return number == 0


class ExclusionSet:
    """Many patterns matched in one pass; which (if any) a text matches first, or all it matches.

    `case_sensitive=False` is for rule models, which match case-folded text: a pattern written
    `iPhone` must still find `iphone`. `engine`: "hyperscan" (where installed, the default) or
    "re2". Building one compiles in this process, without a time bound, unless `check_patterns`
    checked the same patterns here before: sets reach it checked (by the API, or a rule-set upload).
    """

    def __init__(self, patterns: Sequence[str], case_sensitive: bool = True, engine: str | None = None) -> None:
        self.patterns = list(patterns)
        self.engine = engine or ENGINE
        if self.engine not in ENGINES or (self.engine == "hyperscan" and hyperscan is None):
            raise ValueError(f"engine {self.engine!r} is not available")
        self._database: Any = None
        self._set: Any = None
        self._local = threading.local()  # Hyperscan scratch: one per thread (greenlet under gevent)
        if self.engine == "hyperscan":
            if self.patterns:
                with _checked_lock:
                    blob = _checked.get((tuple(self.patterns), case_sensitive))
                if blob is None:
                    blob = compile_hyperscan(self.patterns, case_sensitive, seconds=None)
                self._database = hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
            return
        self._set = _parse_with_re2(self.patterns, case_sensitive)
        if self.patterns:
            try:
                self._set.Compile()
            except re2.error as exc:
                raise PatternSetTooLarge(
                    f"together the patterns need more than RE2's {MAX_PATTERN_MEM >> 20} MiB: use fewer patterns "
                    "or smaller counted repetitions (such as {1000}) of large classes (such as \\p{L})"
                ) from exc

    def probe_cost(self) -> None:
        """RE2 only: raise PatternSetTooLarge if the set matches adversarial texts too slowly.

        The probes are random texts over the characters of each pattern and of each bracketed
        class in it: long runs of exactly the characters a pattern's counted classes accept are
        what make RE2 fall off its fast path. Each probe is short, so the check itself stays short.
        A heuristic: a set can pass it and still be slow on texts it did not try.
        """
        if self._set is None:
            return
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

    def _scratch(self) -> "hyperscan.Scratch":
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        return scratch

    def first_match(self, text: str | None) -> int | None:
        """The index of the first pattern `text` matches, or None. An empty text can match (`^$`)."""
        if text is None or not self.patterns:
            return None
        if self._database is None:
            hits = self._set.Match(text)
            return min(hits) if hits else None
        # Hyperscan reports matches by where they end, not by number: the lowest is only known at
        # the end of the text, unless it is pattern 0, after which the scan stops.
        lowest = [len(self.patterns)]
        try:
            self._database.scan(text.encode(), _keep_lowest, 0, lowest, self._scratch())
        except hyperscan.ScanTerminated:
            return 0
        return lowest[0] if lowest[0] < len(self.patterns) else None

    def matches(self, text: str) -> list[int]:
        """The indices of every pattern `text` matches, ascending."""
        if not self.patterns:
            return []
        if self._database is None:
            return sorted(self._set.Match(text) or ())
        found: list[int] = []
        self._database.scan(
            text.encode(),
            match_event_handler=lambda number, *_: found.append(number),
            scratch=self._scratch(),
        )
        return sorted(found)  # each once: HS_FLAG_SINGLEMATCH

    def excluded(self, texts: Sequence[str | None]) -> list[bool]:
        return [self.first_match(text) is not None for text in texts]
