"""Reading uploaded labeled datasets: doccano JSONL/JSON/CSV exports, plain CSV/TSV.

Files are read in pieces of READ_CHUNK bytes, decoded as they come, and cut into records (a JSONL
line, a CSV record, an item of a JSON array) of at most `record_limit` characters: a longer record is
skipped, never held whole, and rejected. So the memory a file takes does not grow with the file or the
size of its records. A problem with the whole file (encoding, format, header, JSON structure) raises
FileError; a problem with one row yields a Rejection with its line number and reason, and the rest of
the file is read on.
"""

import codecs
import csv
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal, get_args

from charset_normalizer import from_bytes

from utils.text import has_control_character, normalize

Format = Literal["auto", "jsonl", "json", "csv", "tsv"]
FORMATS: tuple[str, ...] = ("jsonl", "json", "csv", "tsv")
SPLITS = ("train", "dev", "test")
_SPLIT_ALIASES = {"train": "train", "dev": "dev", "valid": "dev", "validation": "dev", "val": "dev", "test": "test"}
# Encodings seen in Simplified- and Traditional-Chinese data; detection chooses among them.
CANDIDATE_ENCODINGS = ["utf_8", "gb18030", "big5"]
MAX_LABEL_CHARS = 100
MAX_LABELS_PER_ROW = 100
DETECT_BYTES = 1 << 20
# A file is read this many bytes at a time.
READ_CHUNK = 1 << 20
# Room in a record for what is not its text: labels, ids, doccano's meta and spans, other CSV columns.
RECORD_EXTRA_CHARS = 1 << 20
# JSON nested deeper than this in a JSON array file refuses the file (json would recurse as deep).
MAX_JSON_DEPTH = 200
# Detection reads a file as UTF-8 when at least this share of the non-ASCII bytes of its head is valid
# UTF-8: a few bad bytes in a UTF-8 file leave nearly all valid, GB18030 or Big5 text leaves under half.
UTF8_SHARE = 0.9
# csv's default field limit (128 KiB) is below a long post; a record is cut at `record_limit` first.
csv.field_size_limit(64 << 20)


def record_limit(max_text_chars: int) -> int:
    """The characters a record (a line, a CSV record, an item of a JSON array) may have: its text at
    twelve characters each (JSON's \\uXXXX escapes of a surrogate pair) and room for the rest."""
    return 12 * max_text_chars + RECORD_EXTRA_CHARS


class FileError(ValueError):
    """The file as a whole cannot be read: nothing of it is stored."""


class FileTooLarge(FileError):
    """The file is over a limit of its format."""


def shown(value: object, limit: int = 40) -> str:
    """A user's value as it is echoed in a message: quoted, and cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Row:
    line: int
    text: str
    labels: tuple[str, ...]
    split: str | None


# Why a row was not stored, as a machine reads it: a small set that stays the same across releases.
RejectionKind = Literal[
    "invalid_record",  # not a JSON object, broken JSON, a CSV row with the wrong number of fields
    "record_too_long",  # a record over record_limit(): skipped unread
    "no_text",  # no text field, or one that is not a string
    "bad_text",  # bytes the encoding cannot decode, or a lone surrogate
    "empty_text",  # nothing but whitespace, zero-width or control characters
    "text_too_long",  # over MAX_TEXT_CHARS
    "no_label",
    "bad_label",  # not a string, too long, too many, a control character or undecodable bytes
    "label_not_in_set",  # outside the declared label set
    "bad_split",  # a split value that is not train, dev or test
    "repeat",  # the text of an earlier line with the same labels
    "conflict",  # the text of an earlier line with other labels (see the on_conflict policies)
]
REJECTION_KINDS: tuple[str, ...] = get_args(RejectionKind)


@dataclass(frozen=True)
class Rejection:
    line: int
    kind: RejectionKind
    reason: str


@dataclass(frozen=True)
class Conflict:
    """A later copy of a text whose labels differ from its first copy's (compared as sets): what to do
    with it is the importer's policy, so the reader only reports it."""

    line: int
    first_line: int
    labels: tuple[str, ...]
    first_labels: tuple[str, ...]
    # The first copy to disagree with this text's first copy: later ones find the text already in conflict.
    first_of_text: bool


@dataclass
class ReadOptions:
    format: Format = "auto"
    encoding: str = "auto"
    text_field: str = "text"
    label_field: str = "label"
    label_separator: str = "#"
    split_field: str | None = None
    label_set: frozenset[str] | None = None
    max_text_chars: int = 50_000
    # Rows a dataset may store (MAX_DATASET_ROWS): with the record limit, what bounds an upload's memory.
    max_rows: int = 1_000_000
    filename: str = ""
    # Filled in while reading.
    detected_encoding: str = field(default="", init=False)
    detected_format: str = field(default="", init=False)


# {"data": [...]}: a JSON document (older doccano JSONL has "data" as a row's text, a string).
_DATA_ARRAY = re.compile(rb'\{\s*"data"\s*:\s*\[')


def choose_format(requested: Format, filename: str, head: bytes) -> str:
    if requested != "auto":
        return requested
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in ("csv", "tsv"):
        return suffix
    if suffix == "txt" and b"\t" in head.split(b"\n", 1)[0]:
        return "tsv"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"[") or _DATA_ARRAY.match(stripped):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    raise FileError("file: cannot tell its format from its name or content; give format=jsonl, json, csv or tsv")


def check_encoding(requested: str) -> str:
    """The codec's name for an encoding a user gives; ValueError saying why it cannot read a file."""
    try:
        info = codecs.lookup(requested)
    except (LookupError, ValueError) as exc:  # ValueError: a NUL in the name
        raise ValueError(f"unknown encoding {shown(requested)}") from exc
    if not getattr(info, "_is_text_encoding", True):
        raise ValueError(f"{shown(requested)} is not a text encoding")
    try:
        # Files are decoded piece by piece, undecodable bytes kept aside (see _decoded).
        codecs.getincrementaldecoder(info.name)(errors="surrogateescape").decode(b"a", final=False)
    except (UnicodeError, ValueError, LookupError, TypeError) as exc:
        raise ValueError(f"{shown(requested)} cannot decode a file ({exc})") from exc
    return info.name


def choose_encoding(requested: str, head: bytes) -> str:
    """The encoding given, or the one detected: UTF-8 (with or without BOM), GB18030 or Big5."""
    if requested != "auto":
        try:
            name = check_encoding(requested)
        except ValueError as exc:
            raise FileError(f"encoding: {exc}") from exc
        # A UTF-8 file may start with a BOM whatever the user calls it; it is not part of the text.
        return "utf-8-sig" if name == "utf-8" and head.startswith(codecs.BOM_UTF8) else name
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # The head may end inside a character: decode incrementally, leaving the tail pending.
    as_utf8 = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape").decode(head, final=False)
    bad = len(as_utf8) - len(_UNDECODED.sub("", as_utf8))
    if not bad:
        return "utf-8"
    # A few bad bytes in UTF-8 text reject their rows (see read_dataset), not the file.
    non_ascii = len(head.translate(None, bytes(range(128))))
    if 1 - bad / non_ascii >= UTF8_SHARE:
        return "utf-8"
    # The window may end inside a two-byte character: detect on whole lines.
    cut = head.rfind(b"\n")
    best = from_bytes(head[: cut + 1] if cut > 0 else head, cp_isolation=CANDIDATE_ENCODINGS).best()
    if best is not None:
        return codecs.lookup(best.encoding).name
    # Mostly ASCII with a stray byte or two that no candidate decodes: UTF-8, those lines rejected.
    lines = as_utf8.split("\n")
    if sum(1 for line in lines if _UNDECODED.search(line)) * 100 <= len(lines):
        return "utf-8"
    raise FileError("file: not UTF-8, GB18030 or Big5 text; give the encoding (encoding=...)")


# Lone surrogates: where `surrogateescape` kept bytes the encoding could not decode, or what a JSON
# "\\ud800" escape makes. Neither is text a database (or UTF-8) can hold.
_UNDECODED = re.compile("[\udc80-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A character that is neither whitespace nor a control character.
_VISIBLE = re.compile(r"[^\s\x00-\x1f\x7f-\x9f]")


def _not_text(value: str, encoding: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if _UNDECODED.search(value):
        return f"bytes that are not valid {encoding}"
    if _SURROGATE.search(value):
        return "a lone surrogate (\\ud800-\\udfff), which is not valid Unicode"
    return None


def text_key(normalized: str) -> bytes:
    """What makes two texts duplicates: the same characters after normalisation."""
    return hashlib.blake2b(normalized.encode(), digest_size=16).digest()


class FirstCopies:
    """The first copy of every distinct text, to tell a later copy a repeat (the same labels) from a
    conflict (other labels). Per text it keeps the 16-byte key and one int packing the first copy's
    line, the id of its label set (datasets have few label sets, each kept once) and whether a later
    copy disagreed: memory grows with the distinct texts, never with their length."""

    _ID_BITS = 32  # label sets are at most the distinct texts of one file, far fewer than 2**32

    def __init__(self) -> None:
        self._first: dict[bytes, int] = {}
        self._ids: dict[tuple[str, ...], int] = {}
        self._label_sets: list[tuple[str, ...]] = []

    def see(self, key: bytes, line: int, labels: tuple[str, ...]) -> Rejection | Conflict | None:
        """None for the first copy of a text (remembered); a repeat Rejection for a later copy with
        the first copy's labels, in any order; a Conflict for a later copy with other labels."""
        packed = self._first.get(key)
        if packed is None:
            ident = self._ids.setdefault(labels, len(self._label_sets))
            if ident == len(self._label_sets):
                self._label_sets.append(labels)
            self._first[key] = ((line << self._ID_BITS) | ident) << 1
            return None
        first_line = packed >> (self._ID_BITS + 1)
        first_labels = self._label_sets[(packed >> 1) & ((1 << self._ID_BITS) - 1)]
        if labels == first_labels or set(labels) == set(first_labels):
            return Rejection(line, "repeat", f"repeat of line {first_line}")
        self._first[key] = packed | 1
        return Conflict(line, first_line, labels, first_labels, first_of_text=not packed & 1)


@dataclass
class Overlong:
    """A record over the limit, skipped as it was read: what is known of it without holding it."""

    chars: int
    quotes: int  # '"' in it, to find where a CSV record goes on


class _TooLong(Exception):
    """Raised into csv.reader when its record passes the limit."""


def _decoded(stream: IO[bytes], encoding: str) -> Iterator[str]:
    """The file's text, READ_CHUNK bytes' worth at a time. Bytes the encoding cannot decode become
    lone surrogates (surrogateescape), so the row holding them is rejected, not the file."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
    while True:
        raw = stream.read(READ_CHUNK)
        piece = decoder.decode(raw, final=not raw)
        if piece:
            yield piece
        if not raw:
            return


# Line ends as io and csv read them (newline=""): \r\n, \r or \n, kept with the line.
_NEWLINE = re.compile("\r\n|\r|\n")


def _lines(pieces: Iterable[str], limit: int) -> Iterator[str | Overlong]:
    """Physical lines with their ends; a line over `limit` characters as Overlong, never joined."""
    parts: list[str] = []
    size = 0
    skipped: Overlong | None = None
    held = ""
    for piece in itertools.chain(pieces, ("",)):
        last = not piece
        text = held + piece
        # A \r at the end of a piece may be the first half of \r\n.
        held = "\r" if not last and text.endswith("\r") else ""
        if held:
            text = text[:-1]
        start = 0
        while start < len(text):
            found = _NEWLINE.search(text, start)
            end = found.end() if found else len(text)
            part = text[start:end]
            start = end
            if skipped is not None:
                skipped.chars += len(part)
                skipped.quotes += part.count('"')
            elif size + len(part) > limit:
                skipped = Overlong(size + len(part), sum(p.count('"') for p in parts) + part.count('"'))
                parts, size = [], 0
            else:
                parts.append(part)
                size += len(part)
            if found:
                yield skipped if skipped is not None else "".join(parts)
                parts, size, skipped = [], 0, None
        if last and (parts or skipped is not None):
            yield skipped if skipped is not None else "".join(parts)


def read_dataset(stream: IO[bytes], options: ReadOptions) -> Iterator[Row | Rejection | Conflict]:
    """Rows, rejections and conflicting copies in file order. Raises FileError for a file that cannot
    be read at all."""
    head = stream.read(DETECT_BYTES)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise FileError("file: empty")
    options.detected_format = choose_format(options.format, options.filename, head)
    options.detected_encoding = choose_encoding(options.encoding, head)
    del head
    stream.seek(0)
    limit = record_limit(options.max_text_chars)
    pieces = _decoded(stream, options.detected_encoding)
    try:
        if options.detected_format == "json":
            records = _json_array(pieces, options, limit)
        elif options.detected_format == "jsonl":
            records = _jsonl(_lines(pieces, limit), options, limit)
        else:
            records = _delimited(_lines(pieces, limit), options, limit)
        copies = FirstCopies()
        for record in records:
            if isinstance(record, Rejection):
                yield record
                continue
            line, fields = record
            yield _validate(line, fields, options, copies)
    except UnicodeError as exc:
        # A decoder that fails outright (UTF-16 without a BOM, say) rather than per character.
        raise FileError(f"file: cannot be read as {options.detected_encoding}: {exc}") from exc


def _overlong(limit: int, options: ReadOptions) -> str:
    return f"a record of more than {limit:,} characters (a text may have {options.max_text_chars:,}): skipped"


def _jsonl(
    lines: Iterable[str | Overlong], options: ReadOptions, limit: int
) -> Iterator[tuple[int, dict[str, Any]] | Rejection]:
    for line_no, line in enumerate(lines, start=1):
        if isinstance(line, Overlong):
            yield Rejection(line_no, "record_too_long", _overlong(limit, options))
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejection(line_no, "invalid_record", f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            yield Rejection(line_no, "invalid_record", "JSON nested too deeply")
            continue
        if not isinstance(record, dict):
            yield Rejection(line_no, "invalid_record", f"expected a JSON object, found {type(record).__name__}")
            continue
        yield line_no, record


def load_json_document(text: IO[str]) -> Any:
    """A whole JSON file, or FileError saying where and why it is not JSON."""
    try:
        return json.load(text)
    except json.JSONDecodeError as exc:
        raise FileError(f"file: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    except RecursionError as exc:
        raise FileError("file: JSON nested too deeply") from exc


_NOT_SPACE = re.compile(r"[^ \t\r\n]")
_STRUCTURE = re.compile(r'["\[\]{}]')
_IN_STRING = re.compile(r'["\\]')
_SCALAR_END = re.compile(r"[ \t\r\n,\]}]")


class _JsonStream:
    """A JSON document read piece by piece: the text of one value at a time, at most `limit`
    characters of it held (a longer value is scanned to its end and returned as Overlong)."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self.pieces = pieces
        self.buf = ""
        self.pos = 0
        self.depth = 0  # of the document's own structure around the values read

    def _more(self) -> bool:
        piece = next(self.pieces, None)
        if piece is None:
            return False
        self.buf = self.buf[self.pos :] + piece
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace, left unread ('' at the end of the file)."""
        while True:
            found = _NOT_SPACE.search(self.buf, self.pos)
            if found:
                self.pos = found.start()
                return self.buf[self.pos]
            self.pos = len(self.buf)
            if not self._more():
                return ""

    def take(self) -> str:
        char = self.peek()
        self.pos += len(char)
        return char

    def value(self, limit: int) -> str | Overlong:
        first = self.peek()
        if not first:
            raise FileError("file: not valid JSON: the file ends where a value should be")
        kept: list[str] = []
        size = 0
        over: Overlong | None = None
        depth = 0
        in_string = first == '"'
        scalar = first not in '[{"'
        buf, start = self.buf, self.pos
        i = start + 1 if in_string else start
        while True:
            found = None
            if i < len(buf):
                if in_string:
                    found = _IN_STRING.search(buf, i)
                elif scalar:
                    found = _SCALAR_END.search(buf, i)
                else:
                    found = _STRUCTURE.search(buf, i)
            if found is None:
                # The value goes on past this piece: keep what is read (or count it) and read on.
                part = buf[start:]
                if over is None and size + len(part) > limit:
                    over = Overlong(size + len(part), 0)
                    kept = []
                elif over is None:
                    kept.append(part)
                    size += len(part)
                else:
                    over.chars += len(part)
                step = max(i - len(buf), 0)  # past the end: the character after a trailing backslash
                self.buf, self.pos = "", 0
                if not self._more():
                    raise FileError("file: not valid JSON: the file ends inside a value")
                buf, start, i = self.buf, 0, step
                continue
            char = found.group()
            if in_string:
                if char == "\\":
                    i = found.end() + 1
                    continue
                in_string = False
                i = found.end()
                if depth == 0:
                    break
            elif scalar:
                i = found.start()
                break
            elif char == '"':
                in_string = True
                i = found.end()
            elif char in "[{":
                depth += 1
                if depth + self.depth > MAX_JSON_DEPTH:
                    raise FileError("file: JSON nested too deeply")
                i = found.end()
            else:
                depth -= 1
                i = found.end()
                if depth == 0:
                    break
        part = buf[start:i]
        self.pos = i
        if over is not None or size + len(part) > limit:
            return Overlong((over.chars if over else size) + len(part), 0)
        kept.append(part)
        return "".join(kept)

    def expect(self, wanted: str, after: str) -> str:
        char = self.take()
        if not char or char not in wanted:
            found = shown(char) if char else "the end of the file"
            raise FileError(f"file: not valid JSON: {' or '.join(wanted)} expected {after}, found {found}")
        return char


def _json_array(
    pieces: Iterator[str], options: ReadOptions, limit: int
) -> Iterator[tuple[int, dict[str, Any]] | Rejection]:
    """The items of a JSON array, or of the array under "data" in an object, one at a time."""
    doc = _JsonStream(pieces)
    shape = 'file: a JSON dataset must be an array of objects (or {"data": [...]})'
    first = doc.take()
    if not first or first not in "[{":
        raise FileError(shape)
    found = first == "["
    if first == "[":
        doc.depth = 1
        yield from _array_items(doc, options, limit)
    else:
        doc.depth = 1
        if doc.peek() != "}":
            while True:
                key = doc.value(1000)
                doc.expect(":", "after a key")
                if not found and key == '"data"' and doc.peek() == "[":
                    doc.take()
                    doc.depth = 2
                    yield from _array_items(doc, options, limit)
                    doc.depth = 1
                    found = True
                else:
                    doc.value(limit)  # another member: read past it
                if doc.expect(",}", "after a member") == "}":
                    break
        else:
            doc.take()
        if not found:
            raise FileError(shape)
    if doc.peek():
        raise FileError("file: not valid JSON: more after the end of the document")


def _array_items(
    doc: _JsonStream, options: ReadOptions, limit: int
) -> Iterator[tuple[int, dict[str, Any]] | Rejection]:
    # No line numbers inside one JSON document: the position in the array (from 1) stands for one.
    if doc.peek() == "]":
        doc.take()
        return
    position = 0
    while True:
        position += 1
        item = doc.value(limit)
        if isinstance(item, Overlong):
            yield Rejection(position, "record_too_long", f"item {position}: {_overlong(limit, options)}")
        else:
            try:
                record = json.loads(item)
            except json.JSONDecodeError as exc:
                yield Rejection(position, "invalid_record", f"item {position}: not valid JSON: {exc.msg}")
            except RecursionError:
                yield Rejection(position, "invalid_record", f"item {position}: JSON nested too deeply")
            else:
                if isinstance(record, dict):
                    yield position, record
                else:
                    yield Rejection(
                        position,
                        "invalid_record",
                        f"item {position}: expected an object, found {type(record).__name__}",
                    )
        if doc.expect(",]", f"after item {position}") == "]":
            return


class _CsvFeed:
    """The lines csv.reader reads, counted, with a limit on the characters of one record."""

    def __init__(self, lines: Iterable[str | Overlong], limit: int) -> None:
        self.lines = iter(lines)
        self.limit = limit
        self.line = 0  # physical lines read
        self.chars = 0
        self.quotes = 0

    def __iter__(self) -> "_CsvFeed":
        return self

    def start(self) -> int:
        """A record starts: the number of its first line."""
        self.chars = self.quotes = 0
        return self.line + 1

    def __next__(self) -> str:
        item = next(self.lines)
        self.line += 1
        if isinstance(item, Overlong):
            self.quotes += item.quotes
            raise _TooLong
        self.chars += len(item)
        self.quotes += item.count('"')
        if self.chars > self.limit:
            raise _TooLong
        return item

    def skip_record(self) -> None:
        """Read past the rest of a record over the limit, unkept: it ends at the first line end
        with an even count of '"' since its start (outside any quoted field)."""
        while self.quotes % 2:
            item = next(self.lines, None)
            if item is None:
                return
            self.line += 1
            self.quotes += item.quotes if isinstance(item, Overlong) else item.count('"')


def _delimited(
    lines: Iterable[str | Overlong], options: ReadOptions, limit: int
) -> Iterator[tuple[int, dict[str, Any]] | Rejection]:
    delimiter = "\t" if options.detected_format == "tsv" else ","
    feed = _CsvFeed(lines, limit)
    reader = csv.reader(feed, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise FileError("file: empty") from exc
    except csv.Error as exc:
        raise FileError(f"file: the header cannot be read: {exc}") from exc
    except _TooLong as exc:
        raise FileError(f"file: the header is longer than {limit:,} characters") from exc
    needed = [options.text_field, options.label_field] + ([options.split_field] if options.split_field else [])
    missing = [name for name in needed if name not in header]
    if missing:
        found = ", ".join(shown(h, 30) for h in header[:20]) or "nothing"
        raise FileError(f"file: the header has no column {shown(missing[0])} (found: {found})")
    while True:
        line = feed.start()
        try:
            values = next(reader)
        except StopIteration:
            return
        except _TooLong:
            feed.skip_record()
            yield Rejection(line, "record_too_long", _overlong(limit, options))
            continue
        except csv.Error as exc:
            yield Rejection(line, "invalid_record", f"not valid {options.detected_format.upper()}: {exc}")
            continue
        if values and len(values) != len(header):
            yield Rejection(line, "invalid_record", f"{len(values)} fields where the header has {len(header)}")
        elif values:
            record: dict[str, Any] = dict(zip(header, values, strict=True))
            raw = record.get(options.label_field) or ""
            record[options.label_field] = [p for p in raw.split(options.label_separator)] if raw else []
            yield line, record


def _labels_of(value: object) -> list[str] | str:
    """A row's labels as a list, or the reason they cannot be read."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return f"labels must be a list of strings, found {type(value).__name__}"
    labels: list[str] = []
    for item in value:
        # doccano writes a label either as a name or, in some exports, as [start, end, name].
        name = item[-1] if isinstance(item, list) and item else item
        if not isinstance(name, str):
            return f"label {shown(item)} is not a string"
        labels.append(name)
    return labels


def _validate(
    line: int, record: dict[str, Any], options: ReadOptions, copies: FirstCopies
) -> Row | Rejection | Conflict:
    text = record.get(options.text_field)
    if text is None and options.text_field == "text":
        text = record.get("data")  # older doccano exports
    if not isinstance(text, str):
        return Rejection(line, "no_text", f"no text in field {shown(options.text_field)}")
    if reason := _not_text(text, options.detected_encoding):
        return Rejection(line, "bad_text", reason)
    if len(text) > options.max_text_chars:
        return Rejection(
            line, "text_too_long", f"text of {len(text):,} characters; the limit is {options.max_text_chars:,}"
        )
    normalized = normalize(text).strip()
    if not normalized:
        return Rejection(line, "empty_text", "empty text")
    if not _VISIBLE.search(normalized):
        return Rejection(line, "empty_text", "empty text: only control characters")
    raw = record.get(options.label_field, record.get("labels") if options.label_field == "label" else None)
    labels = _labels_of(raw)
    if isinstance(labels, str):
        return Rejection(line, "bad_label", labels)
    cleaned = list(dict.fromkeys(label.strip() for label in labels if label.strip()))
    if not cleaned:
        return Rejection(line, "no_label", "no label")
    if len(cleaned) > MAX_LABELS_PER_ROW:
        return Rejection(line, "bad_label", f"{len(cleaned)} labels; the limit is {MAX_LABELS_PER_ROW}")
    for label in cleaned:
        if len(label) > MAX_LABEL_CHARS:
            return Rejection(line, "bad_label", f"label {shown(label, 30)} longer than {MAX_LABEL_CHARS} characters")
        if reason := _not_text(label, options.detected_encoding):
            return Rejection(line, "bad_label", f"label with {reason}")
        if has_control_character(label):
            return Rejection(line, "bad_label", f"label {shown(label, 30)} holds a control character")
        if options.label_set is not None and label not in options.label_set:
            return Rejection(line, "label_not_in_set", f"label {shown(label)} is not in the label set")
    split = None
    if options.split_field:
        value = str(record.get(options.split_field) or "").strip().lower()
        split = _SPLIT_ALIASES.get(value)
        if split is None:
            return Rejection(line, "bad_split", f"split {shown(value)} is not one of train, dev, test")
    labels_read = tuple(cleaned)
    return copies.see(text_key(normalized), line, labels_read) or Row(line, text, labels_read, split)


def label_key(labels: Iterable[str]) -> str:
    """The stratum of a row for splitting: its label combination."""
    return "\x1f".join(sorted(labels))
