"""Reading uploaded rule sets: rows of (label, pattern, kind, weight) from CSV/TSV or JSON.

A rule set is all or nothing: the first bad row refuses the upload, named by its line.
Regular expressions must compile with RE2 and, where installed, Hyperscan (see utils.patterns).
"""

import csv
import io
import math
import re
from dataclasses import dataclass
from typing import IO, Any

from utils.dataset_files import (
    DETECT_BYTES,
    MAX_LABEL_CHARS,
    FileError,
    choose_encoding,
    load_json_document,
    shown,
)
from utils.patterns import MAX_PATTERN_CHARS, PatternError, PatternSetTooLarge, check_patterns
from utils.text import has_control_character

KINDS = ("keyword", "regex")
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_RULES = 100_000


@dataclass(frozen=True)
class Rule:
    label: str
    pattern: str
    kind: str
    weight: float


class RuleError(ValueError):
    """A row of the rule file that cannot be used; `line` is where it is."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def _text(line: int, name: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RuleError(line, f"{name} must be text, found {type(value).__name__}")
    if _SURROGATE.search(value):
        raise RuleError(line, f"{name} holds a lone surrogate, which is not valid Unicode")
    return value.strip()


def check_rule(line: int, fields: dict[str, Any]) -> Rule:
    label = _text(line, "label", fields.get("label"))
    pattern = _text(line, "pattern", fields.get("pattern") or fields.get("keyword"))
    kind = _text(line, "kind", fields.get("kind")).lower() or "keyword"
    raw_weight = fields.get("weight")
    if not label:
        raise RuleError(line, "empty label")
    if len(label) > MAX_LABEL_CHARS:
        raise RuleError(line, f"label longer than {MAX_LABEL_CHARS} characters")
    # Trimmed like a dataset's labels (so the two match); inside, the rule of every name.
    if has_control_character(label):
        raise RuleError(line, f"label {shown(label, 30)} holds a control character")
    if not pattern:
        raise RuleError(line, "empty pattern")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RuleError(line, f"pattern longer than {MAX_PATTERN_CHARS} characters")
    if kind not in KINDS:
        raise RuleError(line, f"kind {shown(kind)} is not keyword or regex")
    try:
        weight = 1.0 if raw_weight in (None, "") else float(raw_weight)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise RuleError(line, f"weight {shown(raw_weight)} is not a number") from None
    if not math.isfinite(weight):
        raise RuleError(line, f"weight {shown(raw_weight)} is not a finite number")
    return Rule(label, pattern, kind, weight)


def check_regexes(rules: list[Rule], lines: list[int]) -> list[Rule]:
    """Compile the regex rules together once (see utils.patterns); RuleError names the first bad line."""
    regexes = [(rule.pattern, line) for rule, line in zip(rules, lines, strict=True) if rule.kind == "regex"]
    try:
        # Case-insensitive, as the rule model compiles them (models.rules).
        check_patterns([pattern for pattern, _ in regexes], case_sensitive=False)
    except PatternError as exc:
        raise RuleError(regexes[exc.index][1], f"regex '{exc.pattern}' {exc.reason}") from None
    except PatternSetTooLarge as exc:
        raise RuleError(regexes[0][1], f"the regexes of this file: {exc}") from None
    return rules


def read_rules(stream: IO[bytes], filename: str, encoding: str = "auto") -> list[Rule]:
    head = stream.read(DETECT_BYTES)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise FileError("file: empty")
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=choose_encoding(encoding, head), errors="strict", newline="")
    try:
        if filename.lower().endswith(".json") or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
            return _json_rules(text)
        return _csv_rules(text, "\t" if filename.lower().endswith(".tsv") else ",")
    except UnicodeDecodeError as exc:
        raise FileError(f"file: bytes that are not valid {text.encoding} at byte {exc.start}") from exc
    except UnicodeError as exc:
        raise FileError(f"file: cannot be read as {text.encoding}: {exc}") from exc
    finally:
        text.detach()


def _json_rules(text: IO[str]) -> list[Rule]:
    data = load_json_document(text)
    if not isinstance(data, list) or not data:
        raise FileError("file: a JSON rule set must be a non-empty array of objects")
    if len(data) > MAX_RULES:
        raise FileError(f"file: {len(data):,} rules; the limit is {MAX_RULES:,}")
    rules = []
    for position, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise RuleError(position, f"item {position} is not an object")
        rules.append(check_rule(position, item))
    return check_regexes(rules, list(range(1, len(rules) + 1)))


def _csv_rules(text: IO[str], delimiter: str) -> list[Rule]:
    reader = csv.DictReader(text, delimiter=delimiter)
    fields = {f.strip() for f in reader.fieldnames or []}
    if "label" not in fields or not fields & {"pattern", "keyword"}:
        found = ", ".join(shown(f, 30) for f in sorted(fields)[:20]) or "nothing"
        raise FileError(f"file: the header must name label and pattern (found: {found})")
    rules: list[Rule] = []
    lines: list[int] = []
    line = 2
    try:
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise RuleError(line, "the row's number of fields differs from the header's")
            rules.append(check_rule(line, {k.strip(): v for k, v in row.items() if k}))
            lines.append(line)
            if len(rules) > MAX_RULES:
                raise FileError(f"file: more than {MAX_RULES:,} rules")
            line = reader.line_num + 1
    except csv.Error as exc:
        raise RuleError(line, f"not valid CSV: {exc}") from exc
    if not rules:
        raise FileError("file: no rules")
    return check_regexes(rules, lines)
